from __future__ import annotations

import pytest

from haven.store.interfaces import IntelRecord, IntelSource
from haven.store.stores import Stores

pytestmark = pytest.mark.anyio


def source(publisher: str, line: int = 1, report: str = "r") -> IntelSource:
    return IntelSource(publisher, report, f"{publisher}.csv", line, "2024-01-01", "clear")


def record(kind: str, value: str, *sources: IntelSource) -> IntelRecord:
    return IntelRecord(kind, value, tuple(sources))


async def test_import_merges_sources_and_versions(stores: Stores) -> None:
    meta = [
        record("domain", "evil.com", source("Meta")),
        record("url", "http://x.com/a", source("Meta", 2)),
    ]
    first = await stores.intel.import_records(meta, "meta", 1)
    assert (first.version, first.new_indicators, first.new_sources) == (1, 2, 2)
    again = [
        record("domain", "evil.com", source("Amnesty")),
        record("domain", "evil.com", source("Meta")),
    ]
    second = await stores.intel.import_records(again, "amnesty", 2)
    assert (second.version, second.new_indicators, second.merged_indicators) == (2, 0, 1)
    assert second.new_sources == 1
    [found] = await stores.intel.search("evil.com", 10)
    assert {s.publisher for s in found.sources} == {"Meta", "Amnesty"}
    assert await stores.intel.count() == 2
    changes = await stores.intel.changes_since(0)
    assert sorted(changes.added) == [("domain", "evil.com"), ("url", "http://x.com/a")]
    assert (await stores.intel.changes_since(1)).added == []


async def test_removal_by_one_source_keeps_what_others_vouch_for(stores: Stores) -> None:
    await stores.intel.import_records(
        [
            record("domain", "shared.example.com", source("Meta"), source("Amnesty")),
            record("domain", "only-meta.example.com", source("Meta", 2)),
        ],
        "both", 1,
    )  # fmt: skip
    withdrawn = await stores.intel.remove_source("Meta", None, 2)
    assert withdrawn == 2
    assert [r.value for r in await stores.intel.search("example.com", 10)] == ["shared.example.com"]
    changes = await stores.intel.changes_since(1)
    assert changes.removed == [("domain", "only-meta.example.com")]
    assert changes.version == 2
    # Published again later: it comes back.
    await stores.intel.import_records(
        [record("domain", "only-meta.example.com", source("Meta", 3))], "again", 3
    )
    assert (await stores.intel.changes_since(2)).added == [("domain", "only-meta.example.com")]


async def test_search_treats_wildcards_literally(stores: Stores) -> None:
    await stores.intel.import_records(
        [record("domain", "a-b.com", source("x")), record("domain", "a_b.com", source("x", 2))],
        "x",
        1,
    )
    assert [r.value for r in await stores.intel.search("a_b", 10)] == ["a_b.com"]
    assert [r.value for r in await stores.intel.search("%", 10)] == []


async def test_a_withdrawn_source_that_publishes_again_vouches_again(stores: Stores) -> None:
    await stores.intel.import_records([record("domain", "evil.com", source("Meta"))], "m", 1)
    await stores.intel.remove_source("Meta", None, 2)
    assert await stores.intel.count() == 0
    again = await stores.intel.import_records(
        [record("domain", "evil.com", source("Meta"))], "m again", 3
    )
    assert (again.new_indicators, again.merged_indicators, again.new_sources) == (0, 1, 1)
    [found] = await stores.intel.search("evil.com", 10)
    assert [s.publisher for s in found.sources] == ["Meta"]
    [blockable] = await stores.intel.blockable()
    assert (blockable.value, blockable.tlps) == ("evil.com", frozenset({"clear"}))
