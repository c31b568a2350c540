"""Read-only figures and account look-ups for the operator console's dashboard and
accounts page: counts only, and account ids (never keys, tokens or messages)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from haven.store.database import Database
from haven.store.interfaces import AccountSummary, ServiceCounts
from haven.store.tables import (
    account_standing,
    accounts,
    appeals,
    devices,
    intel_indicators,
    intel_versions,
    linkguard_versions,
    operators,
    queue,
    reports,
)

_HEX = frozenset("0123456789abcdef")


def _count(conn: sa.Connection, table: sa.Table, *where: Any) -> int:
    return int(conn.scalar(sa.select(sa.func.count()).select_from(table).where(*where)) or 0)


def _summaries() -> sa.Select[Any]:
    device_count = (
        sa.select(sa.func.count())
        .where(devices.c.account_id == accounts.c.account_id)
        .scalar_subquery()
    )
    return sa.select(
        accounts.c.account_id,
        accounts.c.created_at,
        device_count.label("devices"),
        sa.func.coalesce(account_standing.c.status, "active").label("standing"),
    ).outerjoin(account_standing, account_standing.c.account_id == accounts.c.account_id)


def _summary(row: Any) -> AccountSummary:
    return AccountSummary(row.account_id, row.created_at, int(row.devices), row.standing)


class SqlOverviewStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def counts(self) -> ServiceCounts:
        def work(conn: sa.Connection) -> ServiceCounts:
            intel = conn.execute(
                sa.select(intel_versions.c.version, intel_versions.c.created_at)
                .order_by(intel_versions.c.version.desc())
                .limit(1)
            ).first()
            links = conn.execute(
                sa.select(linkguard_versions).order_by(linkguard_versions.c.version.desc()).limit(1)
            ).first()
            return ServiceCounts(
                accounts=_count(conn, accounts),
                devices=_count(conn, devices),
                queued=_count(conn, queue),
                operators=_count(conn, operators),
                open_reports=_count(conn, reports, reports.c.status == "open"),
                open_appeals=_count(conn, appeals, appeals.c.status == "open"),
                intel_indicators=_count(
                    conn, intel_indicators, intel_indicators.c.removed_version.is_(None)
                ),
                intel_version=0 if intel is None else int(intel.version),
                intel_updated_at=None if intel is None else int(intel.created_at),
                link_version=0 if links is None else int(links.version),
                link_entries=0 if links is None else int(links.entries),
                link_built_at=None if links is None else int(links.created_at),
            )

        return await self._db.read(work)

    async def find_accounts(self, text: str, limit: int) -> list[AccountSummary]:
        prefix = text.strip().lower()
        if not set(prefix) <= _HEX:
            return []  # ids are hex: anything else matches nothing (and reaches no LIKE)
        query = _summaries().order_by(accounts.c.created_at.desc(), accounts.c.account_id)
        if prefix:
            query = query.where(accounts.c.account_id.startswith(prefix))
        query = query.limit(limit)
        return await self._db.read(lambda conn: [_summary(r) for r in conn.execute(query)])

    async def account(self, account_id: str) -> AccountSummary | None:
        query = _summaries().where(accounts.c.account_id == account_id)

        def work(conn: sa.Connection) -> AccountSummary | None:
            row = conn.execute(query).first()
            return None if row is None else _summary(row)

        return await self._db.read(work)
