"""Attachment blobs: opaque encrypted bytes with an expiry."""

from __future__ import annotations

import sqlalchemy as sa

from haven.store.database import Database
from haven.store.tables import attachments


class SqlBlobStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def put(self, attachment_id: str, data: bytes, now: int, expires_at: int) -> None:
        insert = sa.insert(attachments).values(
            attachment_id=attachment_id,
            data=data,
            size=len(data),
            created_at=now,
            expires_at=expires_at,
        )
        await self._db.run(lambda conn: conn.execute(insert))

    async def get(self, attachment_id: str, now: int) -> bytes | None:
        query = sa.select(attachments.c.data).where(
            attachments.c.attachment_id == attachment_id, attachments.c.expires_at > now
        )
        data = await self._db.read(lambda conn: conn.scalar(query))
        return None if data is None else bytes(data)

    async def purge_expired(self, now: int) -> int:
        delete = sa.delete(attachments).where(attachments.c.expires_at <= now)
        return await self._db.run(lambda conn: conn.execute(delete).rowcount)
