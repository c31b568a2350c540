"""Protection's policy: the cooling-off before a turn-off takes effect, the backoff of wrong
locks, and that every change leaves an audit entry and a signed alert for the account."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from haven.core import limits
from haven.core import notices as signed
from haven.safety import notices, protection
from haven.store.interfaces import ProtectionRecord
from haven.store.stores import Stores
from tests.store.test_accounts import register

pytestmark = pytest.mark.anyio

LOCK = b"\x01" * 32


def record(disable_requested_at: int | None, status: str = "on") -> ProtectionRecord:
    return ProtectionRecord("a" * 32, status, b"v" * 32, "en", 1, disable_requested_at, None, None)


def test_protection_stays_on_through_the_cooling_off_period() -> None:
    assert protection.status_of(None, 5).status == "off"
    assert protection.status_of(record(None, "invited"), 5).status == "invited"
    assert protection.status_of(record(None), 5).protected
    asked = 1_000
    due = asked + limits.PROTECTION_COOLING_OFF_SECONDS * 1000
    waiting = protection.status_of(record(asked), due - 1)
    assert (waiting.status, waiting.protected, waiting.disable_after) == ("disabling", True, due)
    done = protection.status_of(record(asked), due)
    assert (done.status, done.protected) == ("off", False)


def test_the_first_wrong_locks_are_free_then_backoff_doubles_to_a_cap() -> None:
    free = limits.LOCK_FREE_ATTEMPTS
    assert [protection.backoff_ms(n) for n in range(free)] == [0] * free
    base = limits.LOCK_BACKOFF_BASE_SECONDS * 1000
    assert [protection.backoff_ms(free + n) for n in range(3)] == [base, 2 * base, 4 * base]
    assert protection.backoff_ms(10_000) == limits.LOCK_BACKOFF_MAX_SECONDS * 1000


@given(st.integers(0, 500))
def test_backoff_never_shrinks(failures: int) -> None:
    assert protection.backoff_ms(failures + 1) >= protection.backoff_ms(failures)


async def test_every_change_is_audited_and_announced_with_a_signed_alert(stores: Stores) -> None:
    key = Ed25519PrivateKey.generate()
    account, _, _ = await register(stores)
    now = 1_000_000
    on = await protection.enable(stores, key, account, LOCK, "fr", now)
    assert on.status == "on"
    assert on.record is not None
    assert on.record.lock_verifier == protection.verifier(LOCK)
    leaving = await protection.request_disable(stores, key, account, now + 1)
    assert leaving.status == "disabling"
    again = await protection.request_disable(stores, key, account, now + 2)
    assert again.disable_after == leaving.disable_after  # no second alert, no restart
    kept = await protection.cancel_disable(stores, key, account, now + 3)
    assert kept.status == "on"
    sent = await stores.notices.for_account(account)
    assert [n.template for n in sent] == ["protection_on", "protection_disabling",
                                          "protection_kept"]  # fmt: skip
    assert {n.language for n in sent} == {"fr"}
    for notice in sent:
        signed.verify(key.public_key(), notices.as_signed(notice), notice.signature)
    kinds = [e.kind for e in await stores.audit.entries()]
    assert "protection_on" in kinds
    assert "protection_off_requested" in kinds
    assert "protection_off_cancelled" in kinds
    assert all(k == "security_alert" or k.startswith("protection_") for k in kinds)


async def test_a_turn_off_completes_once_the_cooling_off_is_over(stores: Stores) -> None:
    key = Ed25519PrivateKey.generate()
    account, _, _ = await register(stores)
    await protection.enable(stores, key, account, LOCK, "en", 0)
    asked = await protection.request_disable(stores, key, account, 10)
    assert asked.disable_after is not None
    still = await protection.current(stores, account, asked.disable_after - 1)
    assert still.protected
    gone = await protection.current(stores, account, asked.disable_after)
    assert gone.status == "off"
    assert await stores.protection.get(account) is None
    assert [e.kind for e in await stores.audit.entries()][-1] == "protection_off"


async def test_an_operator_invitation_is_a_signed_notice_and_an_audit_entry(
    stores: Stores,
) -> None:
    key = Ed25519PrivateKey.generate()
    account, _, _ = await register(stores)
    notice = await protection.invite(stores, key, account, "ops-lead", "en", 5)
    assert notice.template == "protection_invite"
    found = await protection.current(stores, account, 6)
    assert (found.status, found.protected) == ("invited", False)
    [entry] = [e for e in await stores.audit.entries() if e.kind == "protection_invited"]
    assert '"actor":"ops-lead"' in entry.data
