"""Accounts and their devices (identity keys and token digests)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from haven.core import clock
from haven.core.errors import ErrorCode, HavenError
from haven.store.database import Database
from haven.store.interfaces import DeviceRecord, Identity
from haven.store.queues import delete_orphaned_envelopes
from haven.store.tables import account_standing, accounts, devices, invites, key_log, queue

_DEVICE_COLUMNS = (
    devices.c.account_id,
    devices.c.device_id,
    devices.c.curve25519,
    devices.c.ed25519,
    devices.c.created_at,
)


def _device(row: sa.Row[*tuple[Any, ...]]) -> DeviceRecord:
    return DeviceRecord(
        account_id=row.account_id,
        device_id=row.device_id,
        identity=Identity(curve25519=row.curve25519, ed25519=row.ed25519),
        created_at=row.created_at,
    )


def _identity_in_use() -> HavenError:
    return HavenError(
        ErrorCode.IDENTITY_KEY_IN_USE, "this identity key is already registered to a device"
    )


class SqlAccountStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_account(
        self,
        account_id: str,
        device_id: str,
        identity: Identity,
        token_digest: bytes,
        now: int,
        invite_digest: bytes | None,
    ) -> None:
        def work(conn: sa.Connection) -> None:
            if invite_digest is not None:
                used = conn.execute(
                    sa.update(invites)
                    .where(
                        invites.c.code_digest == invite_digest,
                        invites.c.uses_left > 0,
                        invites.c.expires_at > now,
                    )
                    .values(uses_left=invites.c.uses_left - 1)
                )
                if used.rowcount != 1:
                    raise HavenError(
                        ErrorCode.INVITE_INVALID, "the invite is unknown, used up or expired"
                    )
            conn.execute(sa.insert(accounts).values(account_id=account_id, created_at=now))
            _insert_device(conn, account_id, device_id, identity, token_digest, now)

        try:
            await self._db.run(work)
        except IntegrityError:
            raise _identity_in_use() from None

    async def add_device(
        self,
        account_id: str,
        device_id: str,
        identity: Identity,
        token_digest: bytes,
        now: int,
        max_devices: int,
    ) -> None:
        def work(conn: sa.Connection) -> None:
            # Lock the account row so concurrent additions cannot overshoot the cap.
            locked = conn.scalar(
                sa.select(accounts.c.account_id)
                .where(accounts.c.account_id == account_id)
                .with_for_update()
            )
            if locked is None:
                raise HavenError(ErrorCode.NOT_FOUND, "account not found")
            count = conn.scalar(
                sa.select(sa.func.count()).where(devices.c.account_id == account_id)
            )
            if (count or 0) >= max_devices:
                raise HavenError(
                    ErrorCode.TOO_MANY_DEVICES,
                    f"an account can have at most {max_devices} devices; remove one first",
                )
            _insert_device(conn, account_id, device_id, identity, token_digest, now)

        try:
            await self._db.run(work)
        except IntegrityError:
            raise _identity_in_use() from None

    async def credentials(self, device_id: str) -> tuple[DeviceRecord, bytes] | None:
        def work(conn: sa.Connection) -> tuple[DeviceRecord, bytes] | None:
            # The account's standing comes with the token check: a suspended account's
            # tokens stop working on the very next request.
            row = conn.execute(
                sa.select(*_DEVICE_COLUMNS, devices.c.token_digest, account_standing.c.status)
                .outerjoin(account_standing, account_standing.c.account_id == devices.c.account_id)
                .where(devices.c.device_id == device_id)
            ).first()
            if row is None:
                return None
            device = dataclasses.replace(_device(row), standing=row.status or "active")
            return device, bytes(row.token_digest)

        return await self._db.read(work)

    async def devices(self, account_id: str) -> list[DeviceRecord] | None:
        def work(conn: sa.Connection) -> list[DeviceRecord] | None:
            exists = conn.scalar(
                sa.select(accounts.c.account_id).where(accounts.c.account_id == account_id)
            )
            if exists is None:
                return None
            rows = conn.execute(
                sa.select(*_DEVICE_COLUMNS)
                .where(devices.c.account_id == account_id)
                .order_by(devices.c.created_at, devices.c.device_id)
            )
            return [_device(row) for row in rows]

        return await self._db.read(work)

    async def delete_device(self, account_id: str, device_id: str) -> bool:
        def work(conn: sa.Connection) -> bool:
            queued = sa.select(queue.c.envelope_id).where(queue.c.device_id == device_id)
            envelope_ids = list(conn.scalars(queued).all())
            keys = conn.execute(
                sa.select(devices.c.curve25519, devices.c.ed25519).where(
                    devices.c.device_id == device_id
                )
            ).first()
            deleted = conn.execute(
                sa.delete(devices).where(
                    devices.c.device_id == device_id, devices.c.account_id == account_id
                )
            )
            if deleted.rowcount != 1:
                return False
            removed = None if keys is None else Identity(keys.curve25519, keys.ed25519)
            _log_binding(conn, "removed", account_id, device_id, removed, clock.now_ms())
            delete_orphaned_envelopes(conn, envelope_ids)
            return True

        return await self._db.run(work)


def _insert_device(
    conn: sa.Connection,
    account_id: str,
    device_id: str,
    identity: Identity,
    token_digest: bytes,
    now: int,
) -> None:
    conn.execute(
        sa.insert(devices).values(
            device_id=device_id,
            account_id=account_id,
            curve25519=identity.curve25519,
            ed25519=identity.ed25519,
            token_digest=token_digest,
            created_at=now,
        )
    )
    _log_binding(conn, "added", account_id, device_id, identity, now)


def binding(event: str, account_id: str, device_id: str, identity: Identity | None, at: int) -> str:
    """The key-log entry for a device gaining or losing its identity keys (canonical JSON)."""
    keys = (
        None
        if identity is None
        else {"curve25519": identity.curve25519, "ed25519": identity.ed25519}
    )
    entry = {"event": event, "account": account_id, "device": device_id, "keys": keys, "at": at}
    return json.dumps(entry, sort_keys=True, separators=(",", ":"))


def _log_binding(
    conn: sa.Connection,
    event: str,
    account_id: str,
    device_id: str,
    identity: Identity | None,
    now: int,
) -> None:
    if conn.dialect.name == "postgresql":
        # Entries must become visible in the order of their positions, or a reader could
        # skip one committed late; devices are added rarely, so they take turns here.
        conn.execute(sa.text("LOCK TABLE key_log IN SHARE ROW EXCLUSIVE MODE"))
    conn.execute(
        sa.insert(key_log).values(
            account_id=account_id, device_id=device_id,
            data=binding(event, account_id, device_id, identity, now), created_at=now,
        )
    )  # fmt: skip
