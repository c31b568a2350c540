from __future__ import annotations

import hashlib

import pytest

from haven.store.interfaces import IntelRecord, IntelSource, LinkguardEntry
from haven.store.linkguard import prefix_value
from haven.store.stores import Stores

pytestmark = pytest.mark.anyio


def entry(expression: str, *indicator_ids: int) -> LinkguardEntry:
    return LinkguardEntry(hashlib.sha256(expression.encode()).digest(), expression, indicator_ids)


async def indicator_ids(stores: Stores, *values: str) -> list[int]:
    source = IntelSource("Amnesty International", "r", "domains.txt", 1, None, "clear")
    await stores.intel.import_records(
        [IntelRecord("domain", v, (source,)) for v in values], "test", 1
    )
    found = {b.value: b.indicator_id for b in await stores.intel.blockable()}
    return [found[v] for v in values]


async def test_versions_keep_the_list_as_it_was(stores: Stores) -> None:
    a, b, c = entry("a.example/"), entry("b.example/"), entry("c.example/")
    assert await stores.linkguard.current() is None
    first = await stores.linkguard.record(0, 1, [a, b], [], [], 10)
    assert first is not None
    assert (first.version, first.entries) == (1, 2)
    second = await stores.linkguard.record(1, 2, [c], [a.full_hash], [], 20)
    assert second is not None
    assert second.entries == 2
    # a leaves and comes back: the list at every version stays what it was then.
    third = await stores.linkguard.record(2, 3, [a], [], [], 30)
    assert third is not None
    listed = {v: await stores.linkguard.prefixes_at(v) for v in (0, 1, 2, 3)}
    assert listed[0] == []
    assert listed[1] == sorted(prefix_value(e.full_hash) for e in (a, b))
    assert listed[2] == sorted(prefix_value(e.full_hash) for e in (b, c))
    assert listed[3] == sorted(prefix_value(e.full_hash) for e in (a, b, c))
    assert set(await stores.linkguard.active_entries()) == {a.full_hash, b.full_hash, c.full_hash}


async def test_a_builder_on_a_stale_version_writes_nothing(stores: Stores) -> None:
    assert await stores.linkguard.record(0, 1, [entry("a.example/")], [], [], 10) is not None
    assert await stores.linkguard.record(0, 1, [entry("b.example/")], [], [], 11) is None
    assert len(await stores.linkguard.active_entries()) == 1
    current = await stores.linkguard.current()
    assert current is not None
    assert current.version == 1


async def test_matches_carry_the_indicators_and_sources(stores: Stores) -> None:
    evil, other = await indicator_ids(stores, "evil.example", "other.example")
    listed = entry("evil.example/", evil)
    await stores.linkguard.record(0, 1, [listed, entry("other.example/", other)], [], [], 1)
    [match] = await stores.linkguard.matches(listed.full_hash[:4])
    assert (match.full_hash, match.expression) == (listed.full_hash, "evil.example/")
    [record] = match.indicators
    assert (record.kind, record.value) == ("domain", "evil.example")
    assert [s.publisher for s in record.sources] == ["Amnesty International"]
    # A longer prefix narrows; one that matches nothing finds nothing.
    assert await stores.linkguard.matches(listed.full_hash) == [match]
    wrong = listed.full_hash[:4] + bytes([listed.full_hash[4] ^ 1])
    assert await stores.linkguard.matches(wrong) == []
    # The indicators behind a hash can change without the hash leaving the list.
    await stores.linkguard.record(1, 2, [], [], [entry("evil.example/", evil, other)], 2)
    [changed] = await stores.linkguard.matches(listed.full_hash[:4])
    assert {r.value for r in changed.indicators} == {"evil.example", "other.example"}


async def test_allowlist(stores: Stores) -> None:
    assert await stores.linkguard.allow("trello.com/", "our own board", 5)
    assert not await stores.linkguard.allow("trello.com/", "again", 6)
    [allowed] = await stores.linkguard.allowlist()
    assert (allowed.expression, allowed.note) == ("trello.com/", "our own board")
    assert await stores.linkguard.disallow("trello.com/")
    assert not await stores.linkguard.disallow("trello.com/")
    assert await stores.linkguard.allowlist() == []
