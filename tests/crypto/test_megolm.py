from __future__ import annotations

import os

import pytest

from haven.crypto.errors import DecryptionFailed, ReplayedMessage
from haven.crypto.megolm import (
    ROTATE_AFTER_MESSAGES,
    ROTATE_AFTER_SECONDS,
    InboundGroups,
    OutboundGroup,
)


def test_members_decrypt_each_message_once() -> None:
    out = OutboundGroup.create(frozenset({"bob", "carol"}), now=0)
    bob = InboundGroups()
    assert bob.add(out.session_key, "alice-phone") == out.session_id
    first, second = out.encrypt(b"one"), out.encrypt(b"two")
    assert bob.decrypt(out.session_id, first) == (b"one", "alice-phone", 0)
    assert bob.decrypt(out.session_id, second) == (b"two", "alice-phone", 1)
    with pytest.raises(ReplayedMessage):
        bob.decrypt(out.session_id, first)


def test_unknown_session_and_tampering_are_refused() -> None:
    out = OutboundGroup.create(frozenset({"bob"}))
    bob = InboundGroups()
    key_before = out.session_key
    message = out.encrypt(b"hi")
    with pytest.raises(DecryptionFailed, match="not given the key"):
        bob.decrypt(out.session_id, message)
    bob.add(key_before, "alice")
    with pytest.raises(DecryptionFailed):
        bob.decrypt(out.session_id, message[:-1] + bytes([message[-1] ^ 1]))
    assert bob.decrypt(out.session_id, message)[0] == b"hi"


def test_a_key_shared_later_cannot_read_earlier_messages() -> None:
    out = OutboundGroup.create(frozenset({"bob"}))
    earlier = out.encrypt(b"before dave joined")
    dave = InboundGroups()
    dave.add(out.session_key, "alice")
    with pytest.raises(DecryptionFailed):
        dave.decrypt(out.session_id, earlier)


def test_a_second_device_cannot_claim_a_known_session() -> None:
    out = OutboundGroup.create(frozenset({"bob"}))
    bob = InboundGroups()
    bob.add(out.session_key, "alice")
    with pytest.raises(DecryptionFailed, match="second device"):
        bob.add(out.session_key, "mallory")


def test_rotation_on_removal_count_and_age() -> None:
    out = OutboundGroup.create(frozenset({"bob", "carol"}), now=0)
    assert not out.needs_rotation(frozenset({"bob", "carol"}), now=1)
    assert not out.needs_rotation(frozenset({"bob", "carol", "dave"}), now=1)  # additions: share
    assert out.needs_rotation(frozenset({"bob"}), now=1)
    assert out.needs_rotation(frozenset({"bob", "carol"}), now=ROTATE_AFTER_SECONDS)
    for _ in range(ROTATE_AFTER_MESSAGES):
        out.encrypt(b"x")
    assert out.needs_rotation(frozenset({"bob", "carol"}), now=1)


def test_state_survives_a_pickle_including_replay_memory() -> None:
    out = OutboundGroup.create(frozenset({"bob"}), now=5)
    bob = InboundGroups()
    bob.add(out.session_key, "alice")
    seen = out.encrypt(b"seen")
    bob.decrypt(out.session_id, seen)
    key = os.urandom(32)
    bob_again = InboundGroups.from_pickle(bob.pickle(key), key)
    out_again = OutboundGroup.from_pickle(out.pickle(key), key)
    with pytest.raises(ReplayedMessage):
        bob_again.decrypt(out.session_id, seen)
    assert bob_again.decrypt(out.session_id, out_again.encrypt(b"next"))[0] == b"next"
    assert (out_again.created_at, out_again.sent) == (5, 2)
