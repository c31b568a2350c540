"""The brigading guard over real stores: every decision is audited, a campaign raises one
flag however many reports it sends, and a confirmed campaign is closed without the person
it targeted ever learning who took part."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from haven.core import clock, ids
from haven.core.errors import HavenError
from haven.safety import campaigns, protection
from haven.safety.records import audit_entry
from haven.store.interfaces import NewReport
from haven.store.stores import Stores
from tests.store.test_accounts import identity, register

pytestmark = pytest.mark.anyio


async def report(stores: Stores, reporter: tuple[str, str, str], target: str, now: int) -> None:
    account, device, _ = reporter
    filed = NewReport(account, device, target, ids.new_id(), ids.new_id(), now, "harassment",
                      '{"body": "x"}', False, "unverified")  # fmt: skip
    await stores.reports.file(filed, now, audit_entry("report_received", now))


async def test_a_mass_of_fresh_reporters_raises_one_flag_and_acts_on_nothing(
    stores: Stores,
) -> None:
    key = Ed25519PrivateKey.generate()
    target, _, _ = await register(stores)
    await protection.enable(stores, key, target, b"\x02" * 32, "en", clock.now_ms())
    now = clock.now_ms()
    decisions = []
    for n in range(12):
        reporter = await register(stores)
        await report(stores, reporter, target, now + n)
        decision = await campaigns.review(stores, target, True, now + n)
        decisions.append(decision.decision)
    assert decisions[:4] == ["no_campaign"] * 4  # fewer than five reporters: just reports
    assert decisions[4] == "campaign_flagged"
    assert decisions[5:] == ["campaign_updated"] * 7
    [flag] = await stores.campaigns.flags("open")
    assert (flag.account_id, flag.protected, flag.figures.reporters) == (target, True, 12)
    assert "fresh_accounts" in flag.figures.signals
    assert await stores.moderation.standing(target) == "active"
    assert await stores.moderation.history(target) == []
    guard = [json.loads(e.data) for e in await stores.audit.entries() if e.kind == "report_guard"]
    assert len(guard) == 12
    assert {g["automatic_action"] for g in guard} == {"none"}
    assert {g["protected"] for g in guard} == {True}


async def test_confirming_closes_the_reports_and_tells_the_target_nothing_of_who(
    stores: Stores,
) -> None:
    key = Ed25519PrivateKey.generate()
    target, _, _ = await register(stores)
    await protection.enable(stores, key, target, b"\x02" * 32, "en", clock.now_ms())
    bystander = await register(stores)
    now = clock.now_ms()
    reporters = [await register(stores) for _ in range(6)]
    for n, reporter in enumerate(reporters):
        await report(stores, reporter, target, now + n)
        await campaigns.review(stores, target, True, now + n)
    await report(stores, reporters[0], bystander[0], now + 10)  # about someone else: stays
    [flag] = await stores.campaigns.flags("open")
    decided, closed = await campaigns.decide(stores, key, flag.flag_id, True, "mod", "", now + 20)
    assert (decided.status, closed) == ("confirmed", 6)
    still_open = await stores.reports.reports("open")
    assert [r.report.sender_account for r in still_open] == [bystander[0]]
    told = [n for n in await stores.notices.for_account(target) if n.template != "protection_on"]
    assert [n.template for n in told] == ["reporting_campaign"]
    for reporter in reporters:
        assert reporter[0] not in told[0].body
    with pytest.raises(HavenError):
        await campaigns.decide(stores, key, flag.flag_id, False, "mod", "", now + 30)


async def test_dismissing_leaves_the_reports_for_moderators(stores: Stores) -> None:
    key = Ed25519PrivateKey.generate()
    target, _, _ = await register(stores)
    now = clock.now_ms()
    for n in range(5):
        await report(stores, await register(stores), target, now + n)
        await campaigns.review(stores, target, False, now + n)
    [flag] = await stores.campaigns.flags("open")
    assert not flag.protected
    decided, closed = await campaigns.decide(stores, key, flag.flag_id, False, "mod", "", now + 9)
    assert (decided.status, closed) == ("dismissed", 0)
    assert len(await stores.reports.reports("open")) == 5
    assert await stores.notices.for_account(target) == []  # not protected: not told


async def test_reports_from_established_accounts_spread_out_are_not_flagged(
    stores: Stores,
) -> None:
    target, _, _ = await register(stores)
    now = clock.now_ms()
    old = now - 400 * 24 * 3600 * 1000
    for n in range(6):
        reporter = (ids.new_id(), ids.new_id(), "")
        digest = ids.token_digest(ids.new_token())
        await stores.accounts.create_account(
            reporter[0], reporter[1], identity(), digest, old, None
        )
        at = now - (6 - n) * 3 * 3600 * 1000
        await report(stores, reporter, target, at)
        decision = await campaigns.review(stores, target, False, at)
        assert decision.decision == "no_campaign"
    assert await stores.campaigns.flags() == []
