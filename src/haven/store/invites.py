"""Invite codes for invite-only registration; only their SHA-256 is stored."""

from __future__ import annotations

import sqlalchemy as sa

from haven.store.database import Database
from haven.store.interfaces import InviteRecord
from haven.store.tables import invites


class SqlInviteStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, code_digest: bytes, now: int, expires_at: int, uses: int, note: str
    ) -> None:
        insert = sa.insert(invites).values(
            code_digest=code_digest,
            created_at=now,
            expires_at=expires_at,
            uses_left=uses,
            note=note,
        )
        await self._db.run(lambda conn: conn.execute(insert))

    async def list(self, now: int) -> list[InviteRecord]:
        """Invites that can still be used, newest first."""
        query = (
            sa.select(
                invites.c.created_at, invites.c.expires_at, invites.c.uses_left, invites.c.note
            )
            .where(invites.c.uses_left > 0, invites.c.expires_at > now)
            .order_by(invites.c.created_at.desc())
        )

        def work(conn: sa.Connection) -> list[InviteRecord]:
            return [
                InviteRecord(
                    created_at=r.created_at,
                    expires_at=r.expires_at,
                    uses_left=r.uses_left,
                    note=r.note,
                )
                for r in conn.execute(query)
            ]

        return await self._db.read(work)
