"""The block list built from real bundled intel: domains block their hosts, URLs block only
themselves, the allowlist and TLP:RED are honoured, and withdrawals leave the list."""

from __future__ import annotations

from pathlib import Path

import pytest

from haven.intel.bundled import FEED
from haven.intel.importing import store_collection
from haven.intel.merge import collect
from haven.linkguard import PrefixSet, expression_hash, url_hashes
from haven.linkguard.building import expression_for_input, expression_of, rebuild
from haven.store.interfaces import IntelRecord, IntelSource
from haven.store.stores import Stores

pytestmark = pytest.mark.anyio

CYTROX = FEED / "amnesty-investigations/2021-12-16_cytrox/domains.txt"
META_MALWARE = FEED / "meta-threat-research/indicators/csv/2023_05_malware_iocs.csv"
DRIVE_FILE = "https://drive.google.com/file/d/13dNfCYyabBH5XoRYUpT9lVjMvnkExlx4/view"


async def load(stores: Stores, *paths: Path) -> None:
    await store_collection(stores.intel, collect(list(paths)), "test", 1)


async def listed(stores: Stores) -> PrefixSet:
    current = await stores.linkguard.current()
    assert current is not None
    return PrefixSet.from_values(await stores.linkguard.prefixes_at(current.version))


def blocked(prefixes: PrefixSet, url: str) -> bool:
    return any(h in prefixes for h in url_hashes(url))


def test_expressions_of_indicators() -> None:
    assert expression_of("domain", "2y4nothing.xyz") == "2y4nothing.xyz/"
    assert expression_of("url", DRIVE_FILE) == (
        "drive.google.com/file/d/13dNfCYyabBH5XoRYUpT9lVjMvnkExlx4/view"
    )
    assert expression_of("url", "http://t.me/x?start=1") == "t.me/x?start=1"
    assert expression_of("sha256", "ab" * 32) is None
    assert expression_for_input("Trello.com") == "trello.com/"
    assert expression_for_input("https://trello.com/b/abc") == "trello.com/b/abc"
    assert expression_for_input("203.0.113.9") == "203.0.113.9/"
    for nothing in ("not a domain at all", "x", "", "javascript:alert(1)"):
        assert expression_for_input(nothing) is None, nothing


async def test_domains_block_their_hosts_and_urls_only_themselves(stores: Stores) -> None:
    await load(stores, CYTROX, META_MALWARE)
    built = await rebuild(stores, now=5)
    assert built.entries > 200
    prefixes = await listed(stores)
    assert blocked(prefixes, "https://2y4nothing.xyz/")
    assert blocked(prefixes, "http://login.2y4nothing.xyz/some/page?x=1")  # below the domain
    assert blocked(prefixes, DRIVE_FILE)
    assert blocked(prefixes, DRIVE_FILE + "?usp=sharing")  # same path, any query
    assert not blocked(prefixes, "https://drive.google.com/")
    assert not blocked(prefixes, "https://drive.google.com/file/d/someone-elses-file/view")
    assert not blocked(prefixes, "https://google.com/")


async def test_allowlist_overrides_and_red_stays_home(stores: Stores) -> None:
    red = IntelSource("partner", "closed report", "red.csv", 1, None, "red")
    amber = IntelSource("partner", "report", "amber.csv", 1, None, "amber")
    await stores.intel.import_records(
        [
            IntelRecord("domain", "only-red.example", (red,)),
            IntelRecord("domain", "red-and-amber.example", (red, amber)),
            IntelRecord("domain", "allowed.example", (amber,)),
        ],
        "test",
        1,
    )
    await stores.linkguard.allow("allowed.example/", "a partner's own site", 1)
    await rebuild(stores)
    prefixes = await listed(stores)
    assert not blocked(prefixes, "http://only-red.example/")
    assert blocked(prefixes, "http://red-and-amber.example/")
    assert not blocked(prefixes, "http://allowed.example/")


async def test_withdrawn_intel_leaves_the_list_in_a_new_version(stores: Stores) -> None:
    await load(stores, CYTROX)
    first = await rebuild(stores)
    assert blocked(await listed(stores), "https://2y4nothing.xyz/")
    await stores.intel.remove_source("Amnesty International", None, 2)
    second = await rebuild(stores)
    assert second.version == first.version + 1
    assert second.entries == 0
    assert not blocked(await listed(stores), "https://2y4nothing.xyz/")
    # The old version is still what it was, for clients updating from it.
    assert expression_hash("2y4nothing.xyz/")[:4] in PrefixSet.from_values(
        await stores.linkguard.prefixes_at(first.version)
    )
