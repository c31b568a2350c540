"""Protection, lock attempts, join requests, last-seen and campaign flags, on SQLite and
PostgreSQL: what a protected person and a moderator rely on the database to keep."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from haven.core import ids
from haven.core.errors import ErrorCode, HavenError
from haven.safety.records import audit_entry
from haven.store.interfaces import (
    CampaignFigures,
    Identity,
    LinkRequestRecord,
    NewAuditEntry,
    NewReport,
)
from haven.store.stores import Stores
from tests.store.test_accounts import identity, register

pytestmark = pytest.mark.anyio

LOCK = hashlib.sha256(b"the right lock").digest()
WRONG = hashlib.sha256(b"a wrong guess").digest()


def entry(kind: str = "test") -> NewAuditEntry:
    return audit_entry(kind, 1)


def backoff(failures: int) -> int:
    return 0 if failures < 3 else 1000 * 2 ** (failures - 3)


async def test_enable_invite_and_turn_off_are_recorded_with_their_audit_entries(
    stores: Stores,
) -> None:
    account, _, _ = await register(stores)
    assert await stores.protection.get(account) is None
    invited = await stores.protection.invite(account, "ops", "fr", 10, entry("invited"))
    assert (invited.status, invited.invited_by, invited.lock_verifier) == ("invited", "ops", None)
    on = await stores.protection.enable(account, LOCK, "fr", 20, entry("on"))
    assert (on.status, on.lock_verifier, on.enabled_at, on.invited_by) == ("on", LOCK, 20, "ops")
    with pytest.raises(HavenError) as again:
        await stores.protection.enable(account, WRONG, "en", 30, entry())
    assert again.value.code is ErrorCode.CONFLICT
    with pytest.raises(HavenError) as invited_again:
        await stores.protection.invite(account, "ops", "en", 30, entry())
    assert invited_again.value.code is ErrorCode.CONFLICT
    # A turn-off keeps the first request's start, and completes only once requested.
    assert not await stores.protection.turn_off(account, entry("off"))
    first = await stores.protection.request_disable(account, 40, entry())
    second = await stores.protection.request_disable(account, 50, entry())
    assert first.disable_requested_at == second.disable_requested_at == 40
    kept = await stores.protection.cancel_disable(account, 60, entry())
    assert kept.disable_requested_at is None
    await stores.protection.request_disable(account, 70, entry())
    assert await stores.protection.turn_off(account, entry("off"))
    assert await stores.protection.get(account) is None
    kinds = [e.kind for e in await stores.audit.entries()]
    assert kinds == ["invited", "on", "test", "test", "test", "test", "off"]


async def test_changes_to_an_unprotected_account_are_refused_and_change_nothing(
    stores: Stores,
) -> None:
    account, _, _ = await register(stores)
    for change in (
        stores.protection.request_disable(account, 1, entry()),
        stores.protection.cancel_disable(account, 1, entry()),
        stores.protection.set_verifier(account, LOCK, 1, entry()),
    ):
        with pytest.raises(HavenError) as raised:
            await change
        assert raised.value.code is ErrorCode.CONFLICT
    with pytest.raises(HavenError) as missing:
        await stores.protection.invite(ids.new_id(), "ops", "en", 1, entry())
    assert missing.value.code is ErrorCode.NOT_FOUND
    assert await stores.audit.count() == 0


async def test_wrong_locks_back_off_and_a_right_one_clears_the_count(stores: Stores) -> None:
    account, _, _ = await register(stores)
    await stores.protection.enable(account, LOCK, "en", 1, entry())
    assert await stores.protection.check_lock(account, LOCK, 100, backoff)
    for now in (101, 102):
        assert not await stores.protection.check_lock(account, WRONG, now, backoff)
    assert not await stores.protection.check_lock(account, WRONG, 103, backoff)  # 3rd: 1 s
    # Backing off: even the right lock is refused, and the refusal is not counted.
    assert not await stores.protection.check_lock(account, LOCK, 1102, backoff)
    assert not await stores.protection.check_lock(account, WRONG, 1103, backoff)  # 4th: 2 s
    assert not await stores.protection.check_lock(account, LOCK, 3102, backoff)
    assert await stores.protection.check_lock(account, LOCK, 3103, backoff)
    # Cleared: the next wrong one starts again from nothing.
    assert not await stores.protection.check_lock(account, WRONG, 3104, backoff)
    assert await stores.protection.check_lock(account, LOCK, 3105, backoff)


async def test_unknown_and_unprotected_accounts_behave_like_a_wrong_lock(stores: Stores) -> None:
    plain, _, _ = await register(stores)
    unknown = ids.new_id()
    for account in (plain, unknown):
        results = [await stores.protection.check_lock(account, LOCK, n, backoff) for n in (1, 2)]
        assert results == [False, False]
        assert not await stores.protection.check_lock(account, LOCK, 3, backoff)
        # The third failure starts the same backoff as for a real account.
        assert not await stores.protection.check_lock(account, LOCK, 500, backoff)


async def test_simultaneous_guesses_are_each_counted(stores: Stores) -> None:
    account, _, _ = await register(stores)
    await stores.protection.enable(account, LOCK, "en", 1, entry())
    counted: list[int] = []

    def counting_backoff(failures: int) -> int:
        counted.append(failures)
        return backoff(failures)

    # Eight first guesses at once, before any attempts row exists: each waits its turn,
    # so three are counted and the other five meet the backoff they started.
    guesses = [stores.protection.check_lock(account, WRONG, 10, counting_backoff) for _ in range(8)]
    assert not any(await asyncio.gather(*guesses))
    assert sorted(counted) == [1, 2, 3]
    # However they raced, the right lock is now refused: the backoff is running.
    assert not await stores.protection.check_lock(account, LOCK, 11, backoff)


def request_for(
    account: str, now: int, expires: int, keys: Identity | None = None
) -> LinkRequestRecord:
    return LinkRequestRecord(
        ids.new_id(), account, ids.new_id(), keys or identity(), ids.token_digest(ids.new_token()),
        "pending", now, expires,
    )  # fmt: skip


async def test_a_join_request_changes_nothing_until_approved_and_expires(stores: Stores) -> None:
    account, _, _ = await register(stores)
    waiting = request_for(account, 100, 200)
    await stores.link_requests.create(waiting, 3, 100)
    assert [r.request_id for r in await stores.link_requests.pending(account, 150)] == [
        waiting.request_id
    ]
    devices = await stores.accounts.devices(account)
    assert devices is not None
    assert len(devices) == 1
    # Expired: no longer listed, cannot be taken.
    assert await stores.link_requests.pending(account, 200) == []
    assert await stores.link_requests.take(account, waiting.request_id, 200) is None
    # Another account cannot take it either.
    other, _, _ = await register(stores)
    fresh = request_for(account, 300, 400)
    await stores.link_requests.create(fresh, 3, 300)
    assert await stores.link_requests.take(other, fresh.request_id, 310) is None
    taken = await stores.link_requests.take(account, fresh.request_id, 310)
    assert taken is not None
    assert taken.status == "approved"
    assert await stores.link_requests.take(account, fresh.request_id, 311) is None
    await stores.link_requests.release(fresh.request_id)
    assert await stores.link_requests.deny(account, fresh.request_id, 320)
    assert not await stores.link_requests.deny(account, fresh.request_id, 321)


async def test_join_requests_are_capped_and_known_keys_refused(stores: Stores) -> None:
    account, _, _ = await register(stores)
    for _ in range(2):
        await stores.link_requests.create(request_for(account, 100, 200), 2, 100)
    with pytest.raises(HavenError) as full:
        await stores.link_requests.create(request_for(account, 100, 200), 2, 100)
    assert full.value.code is ErrorCode.CONFLICT
    await stores.link_requests.create(request_for(account, 250, 300), 2, 250)  # old expired
    taken_keys = identity()
    await stores.accounts.create_account(ids.new_id(), ids.new_id(), taken_keys,
                                         ids.token_digest("x"), 1, None)  # fmt: skip
    other, _, _ = await register(stores)
    with pytest.raises(HavenError) as in_use:
        await stores.link_requests.create(request_for(other, 1, 2, taken_keys), 2, 1)
    assert in_use.value.code is ErrorCode.IDENTITY_KEY_IN_USE


async def test_last_seen_only_moves_forward(stores: Stores) -> None:
    account, device, _ = await register(stores)
    [before] = await stores.device_activity.activity(account)
    assert (before.device_id, before.last_seen_at) == (device, None)
    await stores.device_activity.touch(device, account, 5000)
    await stores.device_activity.touch(device, account, 3000)  # a late writer
    [after] = await stores.device_activity.activity(account)
    assert after.last_seen_at == 5000
    await stores.device_activity.touch(device, account, 9000)
    [latest] = await stores.device_activity.activity(account)
    assert latest.last_seen_at == 9000


def figures(reporters: int, signals: tuple[str, ...] = ("fresh_accounts",)) -> CampaignFigures:
    accounts = tuple(ids.new_id() for _ in range(reporters))
    return CampaignFigures(0, 100, reporters, reporters, reporters, 1000, reporters, 0,
                           signals, accounts)  # fmt: skip


async def test_one_open_flag_per_account_updated_by_later_reports(stores: Stores) -> None:
    target = ids.new_id()

    def audit(flag_id: int, created: bool) -> NewAuditEntry:
        return audit_entry("report_guard", 1, flag_id=flag_id, created=created)

    flag, created = await stores.campaigns.raise_flag(target, True, figures(5), 10, audit)
    again, created_again = await stores.campaigns.raise_flag(target, True, figures(9), 20, audit)
    assert (created, created_again) == (True, False)
    assert again.flag_id == flag.flag_id
    assert (again.figures.reporters, again.created_at, again.updated_at) == (9, 10, 20)
    [only] = await stores.campaigns.flags("open")
    assert only.flag_id == flag.flag_id
    assert only.protected
    decided = await stores.campaigns.decide(flag.flag_id, "confirmed", "mod", "a network", 30,
                                            entry("decision"))  # fmt: skip
    assert (decided.status, decided.decided_by, decided.decision_note) == (
        "confirmed", "mod", "a network",
    )  # fmt: skip
    with pytest.raises(HavenError) as twice:
        await stores.campaigns.decide(flag.flag_id, "dismissed", "mod", "", 40, entry())
    assert twice.value.code is ErrorCode.CONFLICT
    # Decided: the next campaign against the account is a new flag.
    fresh, created_fresh = await stores.campaigns.raise_flag(target, True, figures(6), 50, audit)
    assert created_fresh
    assert fresh.flag_id != flag.flag_id
    assert await stores.campaigns.open_flag(target) == fresh
    with pytest.raises(HavenError) as missing:
        await stores.campaigns.decide(10**9, "dismissed", "mod", "", 40, entry())
    assert missing.value.code is ErrorCode.NOT_FOUND
    assert [e.kind for e in await stores.audit.entries()] == [
        "report_guard", "report_guard", "decision", "report_guard",
    ]  # fmt: skip


async def test_simultaneous_guards_open_one_flag(stores: Stores) -> None:
    target = ids.new_id()

    def audit(flag_id: int, created: bool) -> NewAuditEntry:
        return audit_entry("report_guard", 1, flag_id=flag_id)

    raised = await asyncio.gather(
        *(stores.campaigns.raise_flag(target, False, figures(5), 10, audit) for _ in range(6))
    )
    assert len({flag.flag_id for flag, _ in raised}) == 1
    assert sum(created for _, created in raised) == 1


async def test_report_signals_carry_reporter_ages_and_other_targets(stores: Stores) -> None:
    target, _, _ = await register(stores)
    other_target = ids.new_id()
    reporters = [await register(stores) for _ in range(3)]
    for number, (account, device, _) in enumerate(reporters):
        for reported in (target, other_target) if number < 2 else (target,):
            await stores.reports.file(
                NewReport(account, device, reported, ids.new_id(), ids.new_id(), 1, "spam",
                          "{}", False, ""),
                1000 + number, entry(),
            )  # fmt: skip
    found = await stores.campaigns.signals(target, 1001)
    assert [s.reporter_account for s in found] == [reporters[1][0], reporters[2][0]]
    created = await stores.accounts.devices(reporters[1][0])
    assert created is not None
    assert found[0].reporter_created_at == created[0].created_at
    others = await stores.campaigns.other_targets([r[0] for r in reporters], target, 0)
    assert others == {
        reporters[0][0]: frozenset({other_target}),
        reporters[1][0]: frozenset({other_target}),
        reporters[2][0]: frozenset(),
    }
