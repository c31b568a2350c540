"""Threat-intelligence indicators with provenance, versioned so consumers (link blocking,
TAXII) can ask what changed since the version they hold."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from haven.store.database import Database
from haven.store.interfaces import (
    BlockableIndicator,
    ImportSummary,
    IntelChanges,
    IntelObject,
    IntelRecord,
    IntelSource,
)
from haven.store.tables import intel_indicators, intel_sources, intel_versions

_CHUNK = 500


def _new_version(conn: sa.Connection, note: str, now: int) -> int:
    result = conn.execute(
        sa.insert(intel_versions)
        .values(created_at=now, note=note[:300])
        .returning(intel_versions.c.version)
    )
    return int(result.scalar_one())


class SqlIntelStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def import_records(
        self, records: Sequence[IntelRecord], note: str, now: int
    ) -> ImportSummary:
        def work(conn: sa.Connection) -> ImportSummary:
            version = _new_version(conn, note, now)
            keys = sorted({(r.kind, r.value) for r in records})
            existing = _ids(conn, keys)
            fresh = [k for k in keys if k not in existing]
            ids = dict(existing)
            if fresh:
                # RETURNING hands back the new ids: looking them up again inside this
                # transaction would plan against stale statistics (a scan per chunk).
                inserted = conn.execute(
                    sa.insert(intel_indicators).returning(
                        intel_indicators.c.indicator_id,
                        intel_indicators.c.kind,
                        intel_indicators.c.value,
                        sort_by_parameter_order=True,
                    ),
                    [{"kind": k, "value": v, "added_version": version} for k, v in fresh],
                )
                ids.update({(r.kind, r.value): r.indicator_id for r in inserted})
            # Indicators withdrawn earlier come back when a source publishes them again.
            revived = [existing[k] for k in keys if k in existing]
            for start in range(0, len(revived), _CHUNK):
                conn.execute(
                    sa.update(intel_indicators)
                    .where(
                        intel_indicators.c.indicator_id.in_(revived[start : start + _CHUNK]),
                        intel_indicators.c.removed_version.is_not(None),
                    )
                    .values(removed_version=None, added_version=version)
                )
            # Only indicators known before can already have sources.
            known_sources = _source_keys(conn, [existing[k] for k in keys if k in existing])
            rows = []
            republished: list[int] = []
            merged_ids: set[int] = set()
            for record in records:
                indicator_id = ids[(record.kind, record.value)]
                for s in record.sources:
                    key = (indicator_id, s.publisher[:200], s.report[:300], s.file[-1000:], s.line)
                    if key in known_sources:
                        withdrawn = known_sources[key]
                        if withdrawn is not None:
                            # Withdrawn before and published again: it vouches once more.
                            republished.append(withdrawn)
                            known_sources[key] = None
                            merged_ids.add(indicator_id)
                        continue
                    known_sources[key] = None
                    if (record.kind, record.value) in existing:
                        merged_ids.add(indicator_id)
                    rows.append(
                        {
                            "indicator_id": indicator_id,
                            "publisher": s.publisher[:200],
                            "report": s.report[:300],
                            "file": s.file[-1000:],
                            "line": s.line,
                            "first_seen": s.first_seen[:40] if s.first_seen else None,
                            "tlp": s.tlp,
                            "added_version": version,
                        }
                    )
            if rows:
                conn.execute(sa.insert(intel_sources), rows)
            for start in range(0, len(republished), _CHUNK):
                conn.execute(
                    sa.update(intel_sources)
                    .where(intel_sources.c.source_id.in_(republished[start : start + _CHUNK]))
                    .values(removed_version=None, added_version=version)
                )
            return ImportSummary(version, len(fresh), len(merged_ids), len(rows) + len(republished))

        return await self._db.run(work)

    async def remove_source(self, publisher: str, report: str | None, now: int) -> int:
        def work(conn: sa.Connection) -> int:
            version = _new_version(conn, f"withdrawn: {publisher} {report or ''}".strip(), now)
            condition = sa.and_(
                intel_sources.c.publisher == publisher, intel_sources.c.removed_version.is_(None)
            )
            if report is not None:
                condition = sa.and_(condition, intel_sources.c.report == report)
            withdrawn = conn.execute(
                sa.update(intel_sources).where(condition).values(removed_version=version)
            ).rowcount
            still_vouched = sa.exists().where(
                intel_sources.c.indicator_id == intel_indicators.c.indicator_id,
                intel_sources.c.removed_version.is_(None),
            )
            conn.execute(
                sa.update(intel_indicators)
                .where(intel_indicators.c.removed_version.is_(None), ~still_vouched)
                .values(removed_version=version)
            )
            return int(withdrawn)

        return await self._db.run(work)

    async def search(self, text: str, limit: int) -> list[IntelRecord]:
        needle = text.strip().lower()
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

        def work(conn: sa.Connection) -> list[IntelRecord]:
            rows = conn.execute(
                sa.select(
                    intel_indicators.c.indicator_id,
                    intel_indicators.c.kind,
                    intel_indicators.c.value,
                )
                .where(
                    intel_indicators.c.removed_version.is_(None),
                    intel_indicators.c.value.like(pattern, escape="\\"),
                )
                .order_by(intel_indicators.c.value != needle, intel_indicators.c.value)
                .limit(limit)
            ).all()
            return _with_sources(conn, rows)

        return await self._db.read(work)

    async def active(self) -> list[IntelRecord]:
        def work(conn: sa.Connection) -> list[IntelRecord]:
            rows = conn.execute(
                sa.select(
                    intel_indicators.c.indicator_id,
                    intel_indicators.c.kind,
                    intel_indicators.c.value,
                )
                .where(intel_indicators.c.removed_version.is_(None))
                .order_by(intel_indicators.c.kind, intel_indicators.c.value)
            ).all()
            return _with_sources(conn, rows)

        return await self._db.read(work)

    async def added_after(self, after_ms: int, limit: int, offset: int = 0) -> list[IntelObject]:
        def work(conn: sa.Connection) -> list[IntelObject]:
            rows = conn.execute(
                sa.select(
                    intel_indicators.c.indicator_id,
                    intel_indicators.c.kind,
                    intel_indicators.c.value,
                    intel_versions.c.created_at,
                )
                .join(intel_versions, intel_versions.c.version == intel_indicators.c.added_version)
                .where(
                    intel_indicators.c.removed_version.is_(None),
                    intel_versions.c.created_at > after_ms,
                )
                .order_by(intel_versions.c.created_at, intel_indicators.c.indicator_id)
                .offset(offset)
                .limit(limit)
            ).all()
            records = _with_sources(conn, rows)
            return [
                IntelObject(record, r.created_at) for record, r in zip(records, rows, strict=True)
            ]

        return await self._db.read(work)

    async def changes_since(self, version: int) -> IntelChanges:
        def work(conn: sa.Connection) -> IntelChanges:
            current = conn.scalar(
                sa.select(sa.func.coalesce(sa.func.max(intel_versions.c.version), 0))
            )
            added = conn.execute(
                sa.select(intel_indicators.c.kind, intel_indicators.c.value).where(
                    intel_indicators.c.added_version > version,
                    intel_indicators.c.removed_version.is_(None),
                )
            ).all()
            removed = conn.execute(
                sa.select(intel_indicators.c.kind, intel_indicators.c.value).where(
                    intel_indicators.c.removed_version > version,
                    intel_indicators.c.added_version <= version,
                )
            ).all()
            return IntelChanges(
                int(current or 0),
                [(r.kind, r.value) for r in added],
                [(r.kind, r.value) for r in removed],
            )

        return await self._db.read(work)

    async def blockable(self) -> list[BlockableIndicator]:
        def work(conn: sa.Connection) -> list[BlockableIndicator]:
            rows = conn.execute(
                sa.select(
                    intel_indicators.c.indicator_id,
                    intel_indicators.c.kind,
                    intel_indicators.c.value,
                    intel_sources.c.tlp,
                )
                .join(
                    intel_sources, intel_sources.c.indicator_id == intel_indicators.c.indicator_id
                )
                .where(
                    intel_indicators.c.removed_version.is_(None),
                    intel_indicators.c.kind.in_(("domain", "url")),
                    intel_sources.c.removed_version.is_(None),
                )
                .order_by(intel_indicators.c.indicator_id)
            )
            found: dict[int, tuple[str, str, set[str]]] = {}
            for r in rows:
                found.setdefault(r.indicator_id, (r.kind, r.value, set()))[2].add(r.tlp)
            return [
                BlockableIndicator(i, kind, value, frozenset(tlps))
                for i, (kind, value, tlps) in found.items()
            ]

        return await self._db.read(work)

    async def version(self) -> int:
        query = sa.select(sa.func.coalesce(sa.func.max(intel_versions.c.version), 0))
        return await self._db.read(lambda conn: int(conn.scalar(query) or 0))

    async def count(self) -> int:
        query = sa.select(sa.func.count()).where(intel_indicators.c.removed_version.is_(None))
        return await self._db.read(lambda conn: int(conn.scalar(query) or 0))


def _ids(conn: sa.Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    by_kind: dict[str, list[str]] = {}
    for kind, value in keys:
        by_kind.setdefault(kind, []).append(value)
    for kind, values in by_kind.items():
        for start in range(0, len(values), _CHUNK):
            rows = conn.execute(
                sa.select(intel_indicators.c.indicator_id, intel_indicators.c.value).where(
                    intel_indicators.c.kind == kind,
                    intel_indicators.c.value.in_(values[start : start + _CHUNK]),
                )
            )
            found.update({(kind, r.value): r.indicator_id for r in rows})
    return found


def _source_keys(
    conn: sa.Connection, ids: list[int]
) -> dict[tuple[int, str, str, str, int], int | None]:
    """Every source row of these indicators: key -> its id if withdrawn, else None."""
    keys: dict[tuple[int, str, str, str, int], int | None] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = conn.execute(
            sa.select(
                intel_sources.c.source_id,
                intel_sources.c.indicator_id,
                intel_sources.c.publisher,
                intel_sources.c.report,
                intel_sources.c.file,
                intel_sources.c.line,
                intel_sources.c.removed_version,
            ).where(intel_sources.c.indicator_id.in_(ids[start : start + _CHUNK]))
        )
        for r in rows:
            key = (r.indicator_id, r.publisher, r.report, r.file, r.line)
            keys[key] = None if r.removed_version is None else r.source_id
    return keys


def _with_sources(
    conn: sa.Connection, rows: Sequence[sa.Row[*tuple[Any, ...]]]
) -> list[IntelRecord]:
    """Records for rows of (indicator_id, kind, value), each with its active sources."""
    sources = _sources(conn, [r.indicator_id for r in rows])
    return [IntelRecord(r.kind, r.value, tuple(sources.get(r.indicator_id, []))) for r in rows]


def _sources(conn: sa.Connection, ids: list[int]) -> dict[int, list[IntelSource]]:
    found: dict[int, list[IntelSource]] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = conn.execute(
            sa.select(intel_sources)
            .where(
                intel_sources.c.indicator_id.in_(ids[start : start + _CHUNK]),
                intel_sources.c.removed_version.is_(None),
            )
            .order_by(intel_sources.c.source_id)
        )
        for r in rows:
            found.setdefault(r.indicator_id, []).append(
                IntelSource(r.publisher, r.report, r.file, r.line, r.first_seen, r.tlp)
            )
    return found
