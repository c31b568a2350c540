"""Link checks end to end: real bundled intel in a real server, checked on the device."""

from __future__ import annotations

import pytest

from haven.client.links import LIST_FILE, LinkChecker
from haven.client.messenger import LinkBlocked, Messenger
from haven.intel.bundled import FEED
from haven.intel.importing import store_collection
from haven.intel.merge import collect
from haven.store.stores import stores_at
from tests.client.conftest import PASSPHRASE, MakeClient

pytestmark = pytest.mark.anyio

DRIVE_FILE = "https://drive.google.com/file/d/13dNfCYyabBH5XoRYUpT9lVjMvnkExlx4/view"


async def load_feed(db_url: str) -> None:
    files = [
        FEED / "amnesty-investigations/2021-12-16_cytrox/domains.txt",
        FEED / "meta-threat-research/indicators/csv/2023_05_malware_iocs.csv",
    ]
    async with stores_at(db_url) as stores:
        await store_collection(stores.intel, collect(files), "bundled feed", 1)


async def test_a_spyware_domain_cannot_be_sent(make_client: MakeClient, db_url: str) -> None:
    await load_feed(db_url)
    alice, bob = await make_client("alice"), await make_client("bob")
    with pytest.raises(LinkBlocked) as refused:
        await alice.send_text(bob.state.account_id, "urgent, read this: 2y4nothing.xyz/news")
    [verdict] = refused.value.verdicts
    assert verdict.status == "blocked"
    assert "Amnesty International: domains" in verdict.sources
    assert "2y4nothing.xyz" in str(refused.value)
    assert alice.state.outbox == []
    assert await bob.receive() == []  # nothing went out
    # The same person can still send an ordinary link.
    await alice.send_text(bob.state.account_id, "the report: https://www.amnesty.org/en/")
    [message] = await bob.receive()
    assert [link["verdict"] for link in message["links"]] == ["clean"]


async def test_a_url_on_a_shared_platform_blocks_only_that_url(
    make_client: MakeClient, db_url: str
) -> None:
    await load_feed(db_url)
    alice = await make_client("alice")
    blocked = await alice.check_link(DRIVE_FILE)
    assert blocked.status == "blocked"
    assert any(s.startswith("Meta") for s in blocked.sources)
    for fine in (
        "https://drive.google.com/",
        "https://drive.google.com/file/d/another-file/view",
        "https://docs.google.com/document/d/x",
    ):
        assert (await alice.check_link(fine)).status == "clean", fine


async def test_received_links_are_checked_before_they_are_shown(
    make_client: MakeClient, db_url: str
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    await alice.send_text(bob.state.account_id, "mirror: 2y4nothing.xyz and amnesty.org")
    await load_feed(db_url)  # listed after it was sent: the receiver still checks it
    [message] = await bob.receive()
    verdicts = {link["url"]: link["verdict"] for link in message["links"]}
    assert verdicts == {"2y4nothing.xyz": "blocked", "amnesty.org": "clean"}


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("javascript:alert(1)", "invalid"),
        ("data:text/html,<script>x</script>", "invalid"),
        ("http://" + "a" * 9000 + ".com/", "invalid"),
        ("http://[::1]/x", "clean"),
        ("http://\udcff.example/", "clean"),  # not valid UTF-8 underneath
        ("", "invalid"),
    ],
)
async def test_bad_links_get_a_defined_verdict(
    make_client: MakeClient, url: str, status: str
) -> None:
    alice = await make_client("alice")
    assert (await alice.check_link(url)).status == status


async def test_lookalikes_warn_but_do_not_block(make_client: MakeClient) -> None:
    alice = await make_client("alice")
    verdict = await alice.check_link("https://p\u0430ypal.com/login")
    assert (verdict.status, verdict.lookalike) == ("clean", "paypal.com")
    assert (await alice.check_link("https://paypal.com/")).lookalike is None


async def test_the_list_survives_a_restart_and_a_damaged_file_is_refetched(
    make_client: MakeClient, db_url: str
) -> None:
    await load_feed(db_url)
    alice = await make_client("alice")
    assert (await alice.check_link("http://2y4nothing.xyz/")).status == "blocked"
    directory = alice.profile.directory
    version = alice.links.version
    assert version > 0
    await alice.close()
    again = Messenger.open(directory, PASSPHRASE)
    try:
        assert again.links.version == version  # loaded from disk, checksum verified
        (directory / LIST_FILE).write_bytes(b"HLG1garbage")
        damaged = LinkChecker(directory, again.state.server)
        assert damaged.version == 0  # a damaged list is dropped, then fetched whole
        await damaged.refresh(again.api)
        assert damaged.version == version
        assert (await damaged.check("http://2y4nothing.xyz/", again.api)).status == "blocked"
    finally:
        await again.close()
