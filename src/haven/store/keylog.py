"""Key transparency: the log of identity-key bindings and its signed heads."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from haven.store.database import Database
from haven.store.interfaces import AuditHeadRow, KeyLogRow
from haven.store.tables import key_log, key_log_heads


class SqlKeyLogStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def entries(self, after: int = 0) -> list[KeyLogRow]:
        query = sa.select(key_log).where(key_log.c.seq > after).order_by(key_log.c.seq)

        def work(conn: sa.Connection) -> list[KeyLogRow]:
            return [
                KeyLogRow(r.seq, r.account_id, r.device_id, r.data) for r in conn.execute(query)
            ]

        return await self._db.read(work)

    async def entries_for(self, account_id: str) -> list[KeyLogRow]:
        query = sa.select(key_log).where(key_log.c.account_id == account_id).order_by(key_log.c.seq)

        def work(conn: sa.Connection) -> list[KeyLogRow]:
            return [
                KeyLogRow(r.seq, r.account_id, r.device_id, r.data) for r in conn.execute(query)
            ]

        return await self._db.read(work)

    async def put_head(self, head: AuditHeadRow) -> bool:
        insert = sa.insert(key_log_heads).values(
            size=head.size, root=head.root, timestamp=head.timestamp, signature=head.signature
        )
        try:
            await self._db.run(lambda conn: conn.execute(insert))
        except IntegrityError:
            return False
        return True

    async def head(self, size: int | None = None) -> AuditHeadRow | None:
        """The head for `size`, or the latest."""
        query = sa.select(key_log_heads)
        if size is None:
            query = query.order_by(key_log_heads.c.size.desc()).limit(1)
        else:
            query = query.where(key_log_heads.c.size == size)

        def work(conn: sa.Connection) -> AuditHeadRow | None:
            row = conn.execute(query).first()
            if row is None:
                return None
            return AuditHeadRow(row.size, bytes(row.root), row.timestamp, bytes(row.signature))

        return await self._db.read(work)
