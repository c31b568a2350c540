"""Clients follow the list through resets and diffs and always end on the checksum."""

from __future__ import annotations

import pytest

from haven.core import b64, wire
from haven.linkguard import RiceDeltas, apply, decode, prefix_checksum
from haven.linkguard.building import rebuild
from haven.linkguard.updates import ListUpdates
from haven.store.interfaces import IntelRecord, IntelSource
from haven.store.stores import Stores

pytestmark = pytest.mark.anyio

SOURCE = IntelSource("Meta", "report", "r.csv", 1, None, "clear")


def deltas(data: wire.RiceList) -> RiceDeltas:
    return RiceDeltas(
        data.first_value, data.rice_parameter, data.entry_count, b64.decode(data.encoded_data)
    )


def follow(held: list[int], update: wire.LinkListUpdate) -> list[int]:
    base = [] if update.reset else held
    return apply(
        base, deltas(update.additions), deltas(update.removals), b64.decode(update.checksum)
    )


async def publish(stores: Stores, *domains: str) -> None:
    await stores.intel.import_records(
        [IntelRecord("domain", d, (SOURCE,)) for d in domains], "test", 1
    )


async def test_a_client_follows_resets_and_diffs(stores: Stores) -> None:
    updates = ListUpdates(stores)
    await publish(stores, *(f"host{i}.example" for i in range(300)))
    first = await updates.update_for(0)  # the list builds itself on first use
    assert first.reset
    assert first.entries == 300
    held = follow([], first)
    assert len(held) == 300

    same = await updates.update_for(first.version)
    assert (same.reset, same.additions.entry_count, same.additions.first_value) == (
        False,
        0,
        None,
    )
    assert follow(held, same) == held

    await publish(stores, "new.example")
    await stores.intel.remove_source("Meta", None, 2)  # all 301 withdrawn ...
    await publish(stores, *(f"host{i}.example" for i in range(5)))  # ... 5 come back
    diff = await updates.update_for(first.version)
    assert diff.version > first.version
    held = follow(held, diff)
    assert len(held) == 5 == diff.entries
    assert prefix_checksum(held) == b64.decode(diff.checksum)
    # A small change ships as a diff, not the whole list.
    await publish(stores, "one-more.example")
    small = await updates.update_for(diff.version)
    assert not small.reset
    assert len(decode(deltas(small.additions))) == 1
    assert len(follow(held, small)) == 6


async def test_unknown_or_future_versions_get_a_reset(stores: Stores) -> None:
    await publish(stores, "a.example", "b.example")
    await rebuild(stores)
    updates = ListUpdates(stores)
    for held in (0, 99):
        update = await updates.update_for(held)
        assert update.reset
        assert len(follow([1, 2, 3], update)) == 2


async def test_a_corrupted_local_list_fails_the_checksum(stores: Stores) -> None:
    await publish(stores, "a.example")
    updates = ListUpdates(stores)
    first = await updates.update_for(0)
    await publish(stores, "b.example")
    update = await updates.update_for(first.version)
    assert not update.reset
    with pytest.raises(ValueError, match="checksum"):
        follow([7], update)  # not the list the client was given
