"""TAXII peers: the organisations allowed to pull what this server shares."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from haven.core.errors import ErrorCode, HavenError
from haven.store.database import Database
from haven.store.tables import taxii_peers


class SqlPeerStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, name: str, token_digest: bytes, now: int) -> None:
        insert = sa.insert(taxii_peers).values(name=name, token_digest=token_digest, created_at=now)
        try:
            await self._db.run(lambda conn: conn.execute(insert))
        except IntegrityError:
            raise HavenError(ErrorCode.BAD_REQUEST, f"a peer called {name!r} exists") from None

    async def digest(self, name: str) -> bytes | None:
        query = sa.select(taxii_peers.c.token_digest).where(taxii_peers.c.name == name)
        found = await self._db.read(lambda conn: conn.scalar(query))
        return None if found is None else bytes(found)

    async def names(self) -> list[str]:
        query = sa.select(taxii_peers.c.name).order_by(taxii_peers.c.name)
        return await self._db.read(lambda conn: list(conn.scalars(query).all()))

    async def remove(self, name: str) -> bool:
        delete = sa.delete(taxii_peers).where(taxii_peers.c.name == name)
        return await self._db.run(lambda conn: conn.execute(delete).rowcount == 1)
