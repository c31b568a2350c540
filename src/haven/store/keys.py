"""The key directory: signed one-time keys (each handed out once) and one fallback key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from haven.core.errors import ErrorCode, HavenError
from haven.store.database import Database
from haven.store.interfaces import (
    Address,
    ClaimedKeyRecord,
    DeviceRecord,
    Identity,
    KeyCounts,
    SignedKeyRecord,
)
from haven.store.sql import insert_ignoring_conflicts
from haven.store.tables import devices, fallback_keys, one_time_keys


def _key(row: sa.Row[*tuple[Any, ...]]) -> SignedKeyRecord:
    return SignedKeyRecord(key_id=row.key_id, public_key=row.public_key, signature=row.signature)


class SqlKeyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def put_keys(
        self,
        device_id: str,
        one_time: Sequence[SignedKeyRecord],
        fallback: SignedKeyRecord | None,
        max_stored: int,
    ) -> KeyCounts:
        def work(conn: sa.Connection) -> KeyCounts:
            if one_time:
                # A re-upload of a key id already stored is ignored, so a retried upload is safe.
                conn.execute(
                    insert_ignoring_conflicts(self._db.dialect, one_time_keys),
                    [
                        {
                            "device_id": device_id,
                            "key_id": k.key_id,
                            "public_key": k.public_key,
                            "signature": k.signature,
                        }
                        for k in one_time
                    ],
                )
            if fallback is not None:
                conn.execute(sa.delete(fallback_keys).where(fallback_keys.c.device_id == device_id))
                conn.execute(
                    sa.insert(fallback_keys).values(
                        device_id=device_id,
                        key_id=fallback.key_id,
                        public_key=fallback.public_key,
                        signature=fallback.signature,
                    )
                )
            counts = _counts(conn, device_id)
            if counts.one_time > max_stored:
                raise HavenError(
                    ErrorCode.TOO_MANY_KEYS,
                    f"at most {max_stored} one-time keys can be stored; nothing was uploaded",
                )
            return counts

        return await self._db.run(work)

    async def counts(self, device_id: str) -> KeyCounts:
        return await self._db.read(lambda conn: _counts(conn, device_id))

    async def claim(self, devices_wanted: Sequence[Address]) -> list[ClaimedKeyRecord]:
        def work(conn: sa.Connection) -> list[ClaimedKeyRecord]:
            claimed: list[ClaimedKeyRecord] = []
            for address in devices_wanted:
                device = _device(conn, address)
                if device is None:
                    raise HavenError(
                        ErrorCode.UNKNOWN_DEVICE,
                        "no such device: no keys were claimed",
                        {"account_id": address.account_id, "device_id": address.device_id},
                    )
                # SKIP LOCKED: concurrent claimers each take a different key on PostgreSQL;
                # SQLite serialises writers, and the clause is not rendered there.
                oldest = (
                    sa.select(one_time_keys.c.seq)
                    .where(one_time_keys.c.device_id == address.device_id)
                    .order_by(one_time_keys.c.seq)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                    .scalar_subquery()
                )
                taken = (
                    conn.execute(
                        sa.delete(one_time_keys)
                        .where(one_time_keys.c.seq == oldest)
                        .returning(
                            one_time_keys.c.key_id,
                            one_time_keys.c.public_key,
                            one_time_keys.c.signature,
                        )
                    )
                ).first()
                if taken is not None:
                    claimed.append(ClaimedKeyRecord(device, _key(taken), fallback=False))
                    continue
                spare = (
                    conn.execute(
                        sa.select(
                            fallback_keys.c.key_id,
                            fallback_keys.c.public_key,
                            fallback_keys.c.signature,
                        ).where(fallback_keys.c.device_id == address.device_id)
                    )
                ).first()
                claimed.append(
                    ClaimedKeyRecord(device, None if spare is None else _key(spare), fallback=True)
                )
            return claimed

        return await self._db.run(work)


def _counts(conn: sa.Connection, device_id: str) -> KeyCounts:
    one_time = conn.scalar(sa.select(sa.func.count()).where(one_time_keys.c.device_id == device_id))
    fallback = conn.scalar(sa.select(sa.func.count()).where(fallback_keys.c.device_id == device_id))
    return KeyCounts(one_time=int(one_time or 0), has_fallback=bool(fallback))


def _device(conn: sa.Connection, address: Address) -> DeviceRecord | None:
    row = (
        conn.execute(
            sa.select(devices.c.curve25519, devices.c.ed25519, devices.c.created_at).where(
                devices.c.device_id == address.device_id,
                devices.c.account_id == address.account_id,
            )
        )
    ).first()
    if row is None:
        return None
    return DeviceRecord(
        account_id=address.account_id,
        device_id=address.device_id,
        identity=Identity(curve25519=row.curve25519, ed25519=row.ed25519),
        created_at=row.created_at,
    )
