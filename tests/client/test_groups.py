from __future__ import annotations

from pathlib import Path

import pytest

from haven.client.messenger import Messenger, MessengerError
from haven.core import b64
from tests.client.conftest import MakeClient, second_device

pytestmark = pytest.mark.anyio


async def bodies(client: Messenger) -> list[str]:
    return [m["body"] for m in await client.receive() if m["status"] == "ok"]


async def test_group_messages_reach_every_member_device_once(
    make_client: MakeClient, tmp_path: Path
) -> None:
    alice, bob, carol = [await make_client(n) for n in ("alice", "bob", "carol")]
    carol_laptop = await second_device(carol, tmp_path / "carol-laptop")
    try:
        group = await alice.create_group("newsroom", [bob.state.account_id, carol.state.account_id])
        await alice.send_group(group, "first to the group")
        await alice.send_group("newsroom", "second")
        for member in (bob, carol, carol_laptop):
            assert await bodies(member) == ["first to the group", "second"]
            assert member.state.groups[group].members == alice.state.groups[group].members
        await bob.send_group(group, "bob replies")
        assert await bodies(alice) == ["bob replies"]
        assert await bodies(carol) == ["bob replies"]
        received = [m for m in carol.state.messages if m.get("body") == "bob replies"]
        assert received[0]["conversation"] == group
    finally:
        await carol_laptop.close()


async def test_one_encryption_is_fanned_out_by_the_server(make_client: MakeClient) -> None:
    alice, bob, carol = [await make_client(n) for n in ("alice", "bob", "carol")]
    group = await alice.create_group("g", [bob.state.account_id, carol.state.account_id])
    await alice.send_group(group, "hello")
    outbound = alice.state.groups[group].outbound
    assert outbound is not None
    assert outbound.sent == 1


async def test_removed_member_cannot_read_what_follows(make_client: MakeClient) -> None:
    alice, bob, carol = [await make_client(n) for n in ("alice", "bob", "carol")]
    group = await alice.create_group("g", [bob.state.account_id, carol.state.account_id])
    await alice.send_group(group, "before")
    assert await bodies(carol) == ["before"]
    first_session = alice.state.groups[group].outbound
    await alice.remove_member(group, carol.state.account_id)
    await alice.send_group(group, "after carol left")
    assert alice.state.groups[group].outbound is not first_session  # rotated
    assert await bodies(bob) == ["before", "after carol left"]
    assert await bodies(carol) == []  # nothing addressed to her any more
    assert carol.state.account_id not in carol.state.groups[group].members
    with pytest.raises(MessengerError, match="no longer a member"):
        await carol.send_group(group, "still here?")


async def test_added_member_reads_from_then_on(make_client: MakeClient) -> None:
    alice, bob, dave = [await make_client(n) for n in ("alice", "bob", "dave")]
    group = await alice.create_group("g", [bob.state.account_id])
    await alice.send_group(group, "before dave")
    await alice.add_member(group, dave.state.account_id)
    await alice.send_group(group, "welcome dave")
    assert await bodies(dave) == ["welcome dave"]
    assert await bodies(bob) == ["before dave", "welcome dave"]


async def test_replayed_group_message_is_not_shown_twice(make_client: MakeClient) -> None:
    alice, bob = [await make_client(n) for n in ("alice", "bob")]
    group = await alice.create_group("g", [bob.state.account_id])
    await alice.send_group(group, "once")
    batch = await bob.api.fetch()
    megolm = [e for e in batch.envelopes if e.kind == "megolm"]
    assert await bodies(bob) == ["once"]
    # An attacker (or the server) re-sends the same group ciphertext as a new envelope: it
    # is the message already shown, so nothing new appears.
    await alice.api.send(
        [{"account_id": bob.state.account_id, "device_id": bob.state.device_id}],
        b64.decode(megolm[0].ciphertext),
        "megolm",
        b64.decode(megolm[0].franking_tag or ""),
    )
    assert await bob.receive() == []
    assert [m["body"] for m in bob.state.messages if m.get("status") == "ok"] == ["once"]
