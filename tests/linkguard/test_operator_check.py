"""An operator's link test reaches the verdict clients would."""

from __future__ import annotations

import pytest

from haven.linkguard.operator_check import check_url
from haven.store.interfaces import IntelRecord, IntelSource
from haven.store.stores import Stores

pytestmark = pytest.mark.anyio
SOURCE = IntelSource("Meta", "Q2 2023", "domains.csv", 3, None, "clear")


async def test_verdicts_with_the_intel_behind_a_block(stores: Stores) -> None:
    await stores.intel.import_records(
        [IntelRecord("domain", "spy-gadget.net", (SOURCE,)),
         IntelRecord("url", "https://drive.example.org/file/d/abc", (SOURCE,))],
        "t", 1,
    )  # fmt: skip
    blocked = await check_url(stores, "HTTPS://login.Spy-Gadget.net:443/a/../b?c=1")
    assert blocked.status == "blocked"
    assert [m.expression for m in blocked.matches] == ["spy-gadget.net/"]
    assert blocked.matches[0].indicators[0].sources == (SOURCE,)
    one_file = await check_url(stores, "https://drive.example.org/file/d/abc")
    assert one_file.status == "blocked"
    other_file = await check_url(stores, "https://drive.example.org/file/d/xyz")
    assert other_file.status == "clean"
    assert (await check_url(stores, "ftp://spy-gadget.net/")).status == "invalid"
    assert (await check_url(stores, "x" * 9000)).status == "invalid"
    assert blocked.list_version == other_file.list_version >= 1


async def test_tlp_red_never_blocks_and_lookalikes_warn(stores: Stores) -> None:
    red = IntelSource("Partner", "private", "f", 1, None, "red")
    await stores.intel.import_records([IntelRecord("domain", "quiet.net", (red,))], "t", 1)
    assert (await check_url(stores, "https://quiet.net/")).status == "clean"
    lookalike = await check_url(stores, "https://g00gle.com/")
    assert (lookalike.status, lookalike.lookalike) == ("clean", "google.com")
