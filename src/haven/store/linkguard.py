"""The link-blocking hash list: full hashes of blocked URL expressions, versioned entry by
entry (so the list at any version, and so any client's diff, can be recomputed), the
indicators behind each hash, and the operator's allowlist."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from haven.store.database import Database
from haven.store.intel import _with_sources
from haven.store.interfaces import AllowEntry, LinkguardEntry, LinkguardMatch, LinkguardVersion
from haven.store.tables import (
    intel_indicators,
    linkguard_allowlist,
    linkguard_entries,
    linkguard_entry_indicators,
    linkguard_versions,
)

_CHUNK = 500


def prefix_value(full_hash: bytes) -> int:
    return int.from_bytes(full_hash[:4], "big")


class SqlLinkguardStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def current(self) -> LinkguardVersion | None:
        query = sa.select(linkguard_versions).order_by(linkguard_versions.c.version.desc()).limit(1)

        def work(conn: sa.Connection) -> LinkguardVersion | None:
            row = conn.execute(query).first()
            if row is None:
                return None
            return LinkguardVersion(row.version, row.intel_version, row.entries, row.created_at)

        return await self._db.read(work)

    async def active_entries(self) -> dict[bytes, tuple[int, ...]]:
        def work(conn: sa.Connection) -> dict[bytes, tuple[int, ...]]:
            listed = conn.execute(
                sa.select(linkguard_entries.c.full_hash).where(
                    linkguard_entries.c.removed_version.is_(None)
                )
            )
            found: dict[bytes, list[int]] = {bytes(r.full_hash): [] for r in listed}
            for r in conn.execute(sa.select(linkguard_entry_indicators)):
                ids = found.get(bytes(r.full_hash))
                if ids is not None:
                    ids.append(r.indicator_id)
            return {h: tuple(sorted(ids)) for h, ids in found.items()}

        return await self._db.read(work)

    async def record(
        self,
        based_on: int,
        intel_version: int,
        added: Sequence[LinkguardEntry],
        removed: Sequence[bytes],
        changed: Sequence[LinkguardEntry],
        now: int,
    ) -> LinkguardVersion | None:
        def work(conn: sa.Connection) -> LinkguardVersion:
            latest = conn.scalar(sa.select(sa.func.max(linkguard_versions.c.version))) or 0
            if latest != based_on:
                raise _Superseded
            entries = conn.scalar(
                sa.select(sa.func.count()).where(linkguard_entries.c.removed_version.is_(None))
            )
            count = int(entries or 0) + len(added) - len(removed)
            version = int(
                conn.execute(
                    sa.insert(linkguard_versions)
                    .values(
                        created_at=now,
                        intel_version=intel_version,
                        entries=count,
                        note=f"+{len(added)} -{len(removed)}",
                        based_on=based_on,
                    )
                    .returning(linkguard_versions.c.version)
                ).scalar_one()
            )
            for start in range(0, len(removed), _CHUNK):
                chunk = list(removed[start : start + _CHUNK])
                conn.execute(
                    sa.update(linkguard_entries)
                    .where(
                        linkguard_entries.c.full_hash.in_(chunk),
                        linkguard_entries.c.removed_version.is_(None),
                    )
                    .values(removed_version=version)
                )
                conn.execute(
                    sa.delete(linkguard_entry_indicators).where(
                        linkguard_entry_indicators.c.full_hash.in_(chunk)
                    )
                )
            if added:
                conn.execute(
                    sa.insert(linkguard_entries),
                    [
                        {
                            "full_hash": e.full_hash,
                            "prefix": prefix_value(e.full_hash),
                            "expression": e.expression[:2200],
                            "added_version": version,
                        }
                        for e in added
                    ],
                )
            _link_indicators(conn, [*added, *changed])
            return LinkguardVersion(version, intel_version, count, now)

        try:
            return await self._db.run(work)
        except (_Superseded, IntegrityError):
            return None  # another builder got there first: its version stands

    async def prefixes_at(self, version: int) -> list[int]:
        query = (
            sa.select(linkguard_entries.c.prefix)
            .where(
                linkguard_entries.c.added_version <= version,
                sa.or_(
                    linkguard_entries.c.removed_version.is_(None),
                    linkguard_entries.c.removed_version > version,
                ),
            )
            .distinct()
            .order_by(linkguard_entries.c.prefix)
        )
        return await self._db.read(lambda conn: [int(p) for p in conn.scalars(query)])

    async def matches(self, prefix: bytes) -> list[LinkguardMatch]:
        def work(conn: sa.Connection) -> list[LinkguardMatch]:
            rows = conn.execute(
                sa.select(linkguard_entries.c.full_hash, linkguard_entries.c.expression)
                .where(
                    linkguard_entries.c.prefix == prefix_value(prefix),
                    linkguard_entries.c.removed_version.is_(None),
                )
                .order_by(linkguard_entries.c.full_hash)
            ).all()
            hits = [(bytes(r.full_hash), r.expression) for r in rows]
            hits = [(h, e) for h, e in hits if h.startswith(prefix)]
            behind: dict[bytes, list[int]] = {}
            for r in conn.execute(
                sa.select(linkguard_entry_indicators).where(
                    linkguard_entry_indicators.c.full_hash.in_([h for h, _ in hits])
                )
            ):
                behind.setdefault(bytes(r.full_hash), []).append(r.indicator_id)
            indicator_rows = conn.execute(
                sa.select(
                    intel_indicators.c.indicator_id,
                    intel_indicators.c.kind,
                    intel_indicators.c.value,
                )
                .where(intel_indicators.c.indicator_id.in_([i for v in behind.values() for i in v]))
                .order_by(intel_indicators.c.indicator_id)
            ).all()
            records = dict(
                zip(
                    [r.indicator_id for r in indicator_rows],
                    _with_sources(conn, indicator_rows),
                    strict=True,
                )
            )
            return [
                LinkguardMatch(
                    h, e, tuple(records[i] for i in sorted(behind.get(h, [])) if i in records)
                )
                for h, e in hits
            ]

        return await self._db.read(work)

    async def allow(self, expression: str, note: str, now: int) -> bool:
        insert = sa.insert(linkguard_allowlist).values(
            expression=expression, note=note[:200], created_at=now
        )
        try:
            await self._db.run(lambda conn: conn.execute(insert))
        except IntegrityError:
            return False
        return True

    async def disallow(self, expression: str) -> bool:
        delete = sa.delete(linkguard_allowlist).where(
            linkguard_allowlist.c.expression == expression
        )
        return await self._db.run(lambda conn: conn.execute(delete).rowcount == 1)

    async def allowlist(self) -> list[AllowEntry]:
        query = sa.select(linkguard_allowlist).order_by(linkguard_allowlist.c.expression)

        def work(conn: sa.Connection) -> list[AllowEntry]:
            return [AllowEntry(r.expression, r.note, r.created_at) for r in conn.execute(query)]

        return await self._db.read(work)


class _Superseded(Exception):
    pass


def _link_indicators(conn: sa.Connection, entries: Sequence[LinkguardEntry]) -> None:
    hashes = [e.full_hash for e in entries]
    for start in range(0, len(hashes), _CHUNK):
        conn.execute(
            sa.delete(linkguard_entry_indicators).where(
                linkguard_entry_indicators.c.full_hash.in_(hashes[start : start + _CHUNK])
            )
        )
    rows = [{"full_hash": e.full_hash, "indicator_id": i} for e in entries for i in e.indicator_ids]
    if rows:
        conn.execute(sa.insert(linkguard_entry_indicators), rows)
