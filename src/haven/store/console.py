"""The operator console's credentials, sessions and one-time sign-in links.

Nothing here can be replayed from a copy of the database: sessions and links are kept as
the SHA-256 of their token, passwords as Argon2id PHC strings (hashed by the caller)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from haven.core.errors import ErrorCode, HavenError
from haven.store.database import Database
from haven.store.interfaces import ConsoleCredential, ConsoleSession, OperatorRecord
from haven.store.tables import (
    console_credentials,
    console_sessions,
    console_signin_links,
    operators,
)


def _operator(row: sa.Row[tuple[object, ...]]) -> OperatorRecord:
    return OperatorRecord(row.operator_id, row.name, row.role, row.created_at)


class SqlConsoleStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def set_password(
        self, operator_id: str, password_hash: str, totp_secret: bytes | None, now: int
    ) -> None:
        def work(conn: sa.Connection) -> None:
            known = conn.scalar(
                sa.select(operators.c.operator_id).where(operators.c.operator_id == operator_id)
            )
            if known is None:
                raise HavenError(ErrorCode.NOT_FOUND, "no such operator")
            where = console_credentials.c.operator_id == operator_id
            conn.execute(sa.delete(console_credentials).where(where))
            conn.execute(
                sa.insert(console_credentials).values(
                    operator_id=operator_id, password_hash=password_hash,
                    totp_secret=totp_secret, totp_last_step=None, updated_at=now,
                )
            )  # fmt: skip
            # A new password ends every session the old one opened.
            conn.execute(
                sa.delete(console_sessions).where(console_sessions.c.operator_id == operator_id)
            )

        await self._db.run(work)

    async def credential(self, name: str) -> ConsoleCredential | None:
        query = (
            sa.select(operators, console_credentials.c.password_hash,
                      console_credentials.c.totp_secret, console_credentials.c.totp_last_step)
            .join(console_credentials,
                  console_credentials.c.operator_id == operators.c.operator_id)
            .where(operators.c.name == name)
        )  # fmt: skip

        def work(conn: sa.Connection) -> ConsoleCredential | None:
            row = conn.execute(query).first()
            if row is None:
                return None
            secret = None if row.totp_secret is None else bytes(row.totp_secret)
            return ConsoleCredential(_operator(row), row.password_hash, secret, row.totp_last_step)

        return await self._db.read(work)

    async def has_console_operator(self) -> bool:
        query = sa.select(sa.func.count()).select_from(console_credentials)
        return bool(await self._db.read(lambda conn: conn.scalar(query)))

    async def use_totp_step(self, operator_id: str, step: int) -> bool:
        where = console_credentials.c.operator_id == operator_id
        update = (
            sa.update(console_credentials)
            .where(where)
            .where(
                sa.or_(
                    console_credentials.c.totp_last_step.is_(None),
                    console_credentials.c.totp_last_step < step,
                )
            )
            .values(totp_last_step=step)
        )
        return bool(await self._db.run(lambda conn: conn.execute(update).rowcount))

    async def create_first_operator(
        self,
        link_digest: bytes,
        operator: OperatorRecord,
        token_digest: bytes,
        password_hash: str,
        now: int,
    ) -> None:
        spend = (
            sa.update(console_signin_links)
            .where(
                console_signin_links.c.token_digest == link_digest,
                console_signin_links.c.used_at.is_(None),
                console_signin_links.c.expires_at > now,
            )
            .values(used_at=now)
        )

        def work(conn: sa.Connection) -> None:
            if conn.execute(spend).rowcount != 1:
                raise HavenError(
                    ErrorCode.FORBIDDEN,
                    "this sign-in link was already used or has expired; ask for a new one",
                )
            conn.execute(
                sa.insert(operators).values(
                    operator_id=operator.operator_id, name=operator.name, role=operator.role,
                    token_digest=token_digest, created_at=operator.created_at,
                )
            )  # fmt: skip
            conn.execute(
                sa.insert(console_credentials).values(
                    operator_id=operator.operator_id, password_hash=password_hash,
                    totp_secret=None, totp_last_step=None, updated_at=now,
                )
            )  # fmt: skip

        try:
            await self._db.run(work)
        except IntegrityError:
            raise HavenError(
                ErrorCode.CONFLICT, f"an operator called {operator.name!r} exists"
            ) from None

    async def create_session(
        self, token_digest: bytes, operator_id: str, csrf_token: str, now: int, expires_at: int
    ) -> None:
        insert = sa.insert(console_sessions).values(
            token_digest=token_digest, operator_id=operator_id, csrf_token=csrf_token,
            created_at=now, last_used_at=now, expires_at=expires_at,
        )  # fmt: skip
        await self._db.run(lambda conn: conn.execute(insert))

    async def session(self, token_digest: bytes, now: int, idle_ms: int) -> ConsoleSession | None:
        query = (
            sa.select(operators, console_sessions.c.csrf_token, console_sessions.c.created_at
                      .label("session_created"), console_sessions.c.expires_at)
            .join(operators, operators.c.operator_id == console_sessions.c.operator_id)
            .where(
                console_sessions.c.token_digest == token_digest,
                console_sessions.c.expires_at > now,
                console_sessions.c.last_used_at > now - idle_ms,
            )
        )  # fmt: skip
        touch = (
            sa.update(console_sessions)
            .where(console_sessions.c.token_digest == token_digest)
            .values(last_used_at=now)
        )

        def work(conn: sa.Connection) -> ConsoleSession | None:
            row = conn.execute(query).first()
            if row is None:
                return None
            conn.execute(touch)
            return ConsoleSession(_operator(row), row.csrf_token, row.session_created,
                                  row.expires_at)  # fmt: skip

        return await self._db.run(work)

    async def end_session(self, token_digest: bytes) -> None:
        delete = sa.delete(console_sessions).where(console_sessions.c.token_digest == token_digest)
        await self._db.run(lambda conn: conn.execute(delete))

    async def purge_sessions(self, now: int, idle_ms: int) -> int:
        delete = sa.delete(console_sessions).where(
            sa.or_(
                console_sessions.c.expires_at <= now,
                console_sessions.c.last_used_at <= now - idle_ms,
            )
        )
        return int(await self._db.run(lambda conn: conn.execute(delete).rowcount))

    async def create_link(self, token_digest: bytes, now: int, expires_at: int) -> None:
        insert = sa.insert(console_signin_links).values(
            token_digest=token_digest, created_at=now, expires_at=expires_at, used_at=None
        )
        await self._db.run(lambda conn: conn.execute(insert))

    async def link_usable(self, token_digest: bytes, now: int) -> bool:
        query = sa.select(sa.func.count()).where(
            console_signin_links.c.token_digest == token_digest,
            console_signin_links.c.used_at.is_(None),
            console_signin_links.c.expires_at > now,
        )
        return bool(await self._db.read(lambda conn: conn.scalar(query)))
