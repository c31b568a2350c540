"""The sans-I/O core, driven directly: no server, no disk."""

from __future__ import annotations

import pytest

from haven.client import core
from haven.client.payload import GroupUpdate, Text
from haven.client.profile import ClientState, Group, new_pickle_key
from haven.core import ids
from haven.core.wire import DeviceAddress, Envelope
from haven.crypto.errors import DecryptionFailed
from haven.crypto.identity import DeviceIdentity


def state() -> ClientState:
    return ClientState(
        "http://x", ids.new_id(), ids.new_id(), "t", new_pickle_key(), DeviceIdentity.create()
    )


def envelope(ciphertext: str = "aGk") -> Envelope:
    return Envelope(
        envelope_id=ids.new_id(),
        sender=DeviceAddress(account_id=ids.new_id(), device_id=ids.new_id()),
        kind="olm",
        ciphertext=ciphertext,
        server_time=1,
    )


def test_repeats_are_recognised_by_id_and_by_bytes() -> None:
    me = state()
    first = envelope("c29tZQ")
    assert not core.is_repeat(me, first)
    core.remember(me, first)
    assert core.is_repeat(me, first)
    resent = envelope("c29tZQ")  # new envelope id, same bytes
    assert core.is_repeat(me, resent)
    assert not core.is_repeat(me, envelope("b3RoZXI"))


def test_group_sends_rotate_on_departure_and_share_only_with_newcomers() -> None:
    group = Group("g", [], 1)
    a, b, c = ("acct", "dev-a"), ("acct", "dev-b"), ("acct", "dev-c")
    keys = {"curve25519": "k", "ed25519": "e"}
    first, share = core.plan_group_send(group, {a: keys, b: keys})
    assert set(share) == {a, b}
    same, share = core.plan_group_send(group, {a: keys, b: keys, c: keys})
    assert same is first
    assert set(share) == {c}
    rotated, share = core.plan_group_send(group, {a: keys})
    assert rotated is not first
    assert set(share) == {a}


def test_group_updates_only_from_members_and_only_newer() -> None:
    me = state()
    gid, alice, mallory = ids.new_id(), ids.new_id(), ids.new_id()
    update = GroupUpdate(group_id=gid, name="desk", members=[alice, me.account_id], version=1)
    with pytest.raises(DecryptionFailed, match="outside the group"):
        core.accept_group_update(me, update, mallory)
    core.accept_group_update(me, update, alice)
    with pytest.raises(DecryptionFailed, match="not in the group"):
        core.accept_group_update(me, update.model_copy(update={"version": 2}), mallory)
    core.accept_group_update(me, update.model_copy(update={"name": "old", "version": 1}), alice)
    assert me.groups[gid].name == "desk"
    core.accept_group_update(me, update.model_copy(update={"name": "news", "version": 2}), alice)
    assert me.groups[gid].name == "news"


def test_a_message_must_belong_to_the_conversation_it_names() -> None:
    me = state()
    peer = ids.new_id()
    text = Text(
        message_id=ids.new_id(), conversation=me.account_id, body="hi", franking_key="a", sent_at=1
    )
    assert core.conversation_of(me, text, peer) == peer
    elsewhere = text.model_copy(update={"conversation": ids.new_id()})
    with pytest.raises(DecryptionFailed):
        core.conversation_of(me, elsewhere, peer)
    assert core.conversation_of(me, elsewhere, me.account_id) == elsewhere.conversation
