from __future__ import annotations

import os

import pytest

from haven.crypto.errors import DecryptionFailed
from haven.crypto.identity import DeviceIdentity
from haven.crypto.olm import NORMAL, PRE_KEY, OlmSessions


def pair() -> tuple[DeviceIdentity, OlmSessions, DeviceIdentity, OlmSessions]:
    alice, bob = DeviceIdentity.create(), DeviceIdentity.create()
    alice_sessions, bob_sessions = OlmSessions(), OlmSessions()
    [otk] = bob.new_one_time_keys(1)
    alice_sessions.add(bob.curve25519, alice.outbound_session(bob.curve25519, otk.key))
    return alice, alice_sessions, bob, bob_sessions


def test_pre_key_message_then_normal_messages_both_ways() -> None:
    alice, alice_s, bob, bob_s = pair()
    kind, ct = alice_s.encrypt(bob.curve25519, b"hello bob")
    assert kind == PRE_KEY
    assert bob_s.decrypt(bob, alice.curve25519, kind, ct) == b"hello bob"
    kind, ct = bob_s.encrypt(alice.curve25519, b"hi alice")
    assert kind == NORMAL
    assert alice_s.decrypt(alice, bob.curve25519, kind, ct) == b"hi alice"
    kind, ct = alice_s.encrypt(bob.curve25519, b"second")
    assert kind == NORMAL
    assert bob_s.decrypt(bob, alice.curve25519, kind, ct) == b"second"


def test_tampered_message_is_refused() -> None:
    alice, alice_s, bob, bob_s = pair()
    kind, ct = alice_s.encrypt(bob.curve25519, b"hello")
    with pytest.raises(DecryptionFailed):
        bob_s.decrypt(bob, alice.curve25519, kind, ct[:-1] + bytes([ct[-1] ^ 1]))


def test_message_claiming_another_sender_is_refused() -> None:
    _, alice_s, bob, bob_s = pair()
    mallory = DeviceIdentity.create()
    kind, ct = alice_s.encrypt(bob.curve25519, b"hello")
    with pytest.raises(DecryptionFailed):
        bob_s.decrypt(bob, mallory.curve25519, kind, ct)


def test_normal_message_without_session_is_refused() -> None:
    alice, alice_s, bob, bob_s = pair()
    kind, ct = alice_s.encrypt(bob.curve25519, b"one")
    bob_s.decrypt(bob, alice.curve25519, kind, ct)
    kind, ct = bob_s.encrypt(alice.curve25519, b"two")
    with pytest.raises(DecryptionFailed):
        OlmSessions().decrypt(alice, bob.curve25519, kind, ct)


def test_sessions_survive_a_pickle() -> None:
    alice, alice_s, bob, bob_s = pair()
    kind, ct = alice_s.encrypt(bob.curve25519, b"hello")
    bob_s.decrypt(bob, alice.curve25519, kind, ct)
    key = os.urandom(32)
    restored = OlmSessions.from_pickle(bob_s.pickle(key), key)
    kind, ct = alice_s.encrypt(bob.curve25519, b"after restart")
    assert restored.decrypt(bob, alice.curve25519, kind, ct) == b"after restart"
