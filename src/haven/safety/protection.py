"""Protected accounts: what protection's state means at a given moment, how long wrong
registration locks are backed off, and every change to protection, each written with its
audit entry and announced by a signed alert on all the account's devices.

Turning protection off is never immediate: the request (which needs the lock) starts a
cooling-off period during which protection stays fully on and any device of the account
can cancel it, so someone who learns the lock cannot quietly switch protection off and
then take the account over.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from haven.core import limits
from haven.safety import alerts
from haven.safety.records import audit_entry
from haven.store.interfaces import NoticeRecord, ProtectionRecord
from haven.store.stores import Stores

StatusName = Literal["off", "invited", "on", "disabling"]
COOLING_OFF_MS = limits.PROTECTION_COOLING_OFF_SECONDS * 1000


@dataclass(frozen=True)
class Status:
    status: StatusName
    record: ProtectionRecord | None
    disable_after: int | None = None

    @property
    def protected(self) -> bool:
        """Whether the account is protected now (a turn-off still cooling off is)."""
        return self.status in ("on", "disabling")


def status_of(record: ProtectionRecord | None, now: int) -> Status:
    if record is None:
        return Status("off", None)
    if record.status != "on":
        return Status("invited", record)
    if record.disable_requested_at is None:
        return Status("on", record)
    after = record.disable_requested_at + COOLING_OFF_MS
    return Status("off" if now >= after else "disabling", record, after)


def backoff_ms(failures: int) -> int:
    """How long to refuse every attempt after `failures` wrong locks in a row: nothing for
    the first few (typing mistakes), then doubling from the base up to the cap."""
    over = failures - limits.LOCK_FREE_ATTEMPTS
    if over < 0:
        return 0
    seconds: int = min(
        limits.LOCK_BACKOFF_BASE_SECONDS * 2 ** min(over, 32), limits.LOCK_BACKOFF_MAX_SECONDS
    )
    return seconds * 1000


def verifier(proof: bytes) -> bytes:
    """What is kept of a registration-lock proof (and what a presented one is compared as):
    a database that leaks gives no proof to present."""
    return hashlib.sha256(proof).digest()


async def current(stores: Stores, account_id: str, now: int) -> Status:
    """The account's protection now; a turn-off whose cooling-off is over is completed."""
    found = status_of(await stores.protection.get(account_id), now)
    if found.status == "off" and found.record is not None:
        entry = audit_entry("protection_off", now, account=account_id)
        await stores.protection.turn_off(account_id, entry)
        return Status("off", None)
    return found


async def enable(
    stores: Stores, key: Ed25519PrivateKey, account_id: str, proof: bytes, language: str, now: int
) -> Status:
    entry = audit_entry("protection_on", now, account=account_id)
    await stores.protection.enable(account_id, verifier(proof), language, now, entry)
    await alerts.send(stores, key, account_id, "protection_on", language,
                      {"time": alerts.when(now)}, now)  # fmt: skip
    return await current(stores, account_id, now)


async def change_lock(
    stores: Stores, key: Ed25519PrivateKey, account_id: str, new_proof: bytes, now: int
) -> Status:
    """After the current lock was checked."""
    entry = audit_entry("protection_lock_changed", now, account=account_id)
    record = await stores.protection.set_verifier(account_id, verifier(new_proof), now, entry)
    await alerts.send(stores, key, account_id, "lock_changed", record.language,
                      {"time": alerts.when(now)}, now)  # fmt: skip
    return await current(stores, account_id, now)


async def request_disable(
    stores: Stores, key: Ed25519PrivateKey, account_id: str, now: int
) -> Status:
    """After the lock was checked: protection stays on through the cooling-off period."""
    entry = audit_entry("protection_off_requested", now, account=account_id)
    record = await stores.protection.request_disable(account_id, now, entry)
    found = status_of(record, now)
    if found.disable_after is not None and record.disable_requested_at == now:
        await alerts.send(
            stores, key, account_id, "protection_disabling", record.language,
            {"time": alerts.when(now), "after": alerts.when(found.disable_after)}, now,
        )  # fmt: skip
    return found


async def cancel_disable(
    stores: Stores, key: Ed25519PrivateKey, account_id: str, now: int
) -> Status:
    entry = audit_entry("protection_off_cancelled", now, account=account_id)
    record = await stores.protection.cancel_disable(account_id, now, entry)
    await alerts.send(stores, key, account_id, "protection_kept", record.language,
                      {"time": alerts.when(now)}, now)  # fmt: skip
    return status_of(record, now)


async def invite(
    stores: Stores, key: Ed25519PrivateKey, account_id: str, actor: str, language: str, now: int
) -> NoticeRecord:
    """An operator invites the account into protection: recorded, and told with a signed
    notice on every device of the account."""
    entry = audit_entry("protection_invited", now, account=account_id, actor=actor)
    await stores.protection.invite(account_id, actor, language, now, entry)
    return await alerts.send(stores, key, account_id, "protection_invite", language, {}, now)
