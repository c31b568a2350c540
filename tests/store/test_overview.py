"""The console's counts and account look-ups, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from haven.core import ids
from haven.safety.records import audit_entry
from haven.store.interfaces import Address, NewEnvelope
from haven.store.stores import Stores
from tests.store.test_accounts import identity

pytestmark = pytest.mark.anyio


async def account(stores: Stores, created: int) -> tuple[str, str]:
    account_id, device_id = ids.new_id(), ids.new_id()
    await stores.accounts.create_account(
        account_id, device_id, identity(), ids.token_digest(ids.new_token()), created, None
    )
    return account_id, device_id


async def test_counts_of_an_empty_service(stores: Stores) -> None:
    counts = await stores.overview.counts()
    assert (counts.accounts, counts.devices, counts.queued, counts.operators) == (0, 0, 0, 0)
    assert (counts.intel_version, counts.intel_updated_at, counts.link_version) == (0, None, 0)


async def test_counts_follow_accounts_queues_and_reports(stores: Stores) -> None:
    first, first_device = await account(stores, 10)
    second, second_device = await account(stores, 20)
    envelope = NewEnvelope(ids.new_id(), Address(first, first_device), "olm", b"ct", 30, 10_000)
    await stores.queues.enqueue(envelope, [Address(second, second_device)])
    await stores.moderation.act(first, "suspend", "spam", "", None, "Ana", 40, "suspended",
                                audit_entry("account_action", 40))  # fmt: skip
    counts = await stores.overview.counts()
    assert (counts.accounts, counts.devices, counts.queued) == (2, 2, 1)
    assert counts.open_appeals == 0


async def test_find_accounts_by_id_prefix_newest_first(stores: Stores) -> None:
    older, _ = await account(stores, 10)
    newer, _ = await account(stores, 20)
    await stores.moderation.act(older, "ban", "spam", "", None, "Ana", 30, "banned",
                                audit_entry("account_action", 30))  # fmt: skip
    every = await stores.overview.find_accounts("", 10)
    assert [a.account_id for a in every] == [newer, older]
    [found] = await stores.overview.find_accounts(older[:10].upper(), 10)
    assert (found.account_id, found.devices, found.standing) == (older, 1, "banned")
    assert await stores.overview.find_accounts("%", 10) == []  # never a LIKE pattern
    assert await stores.overview.find_accounts("zz", 10) == []
    assert len(await stores.overview.find_accounts("", 1)) == 1
    summary = await stores.overview.account(newer)
    assert summary is not None
    assert summary.standing == "active"
    assert await stores.overview.account(ids.new_id()) is None
