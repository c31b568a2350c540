from __future__ import annotations

import pytest

from haven.core import ids
from haven.crypto.errors import BadSignature
from haven.crypto.identity import DeviceIdentity
from haven.crypto.verification import EMOJI, Sas, safety_number


def test_both_sides_see_the_same_safety_number() -> None:
    alice, bob = ids.new_id(), ids.new_id()
    alice_keys = [DeviceIdentity.create().ed25519 for _ in range(2)]
    bob_keys = [DeviceIdentity.create().ed25519]
    number = safety_number(alice, alice_keys, bob, bob_keys)
    assert number == safety_number(bob, bob_keys, alice, list(reversed(alice_keys)))
    groups = number.split(" ")
    assert len(groups) == 12
    assert all(len(g) == 5 and g.isdigit() for g in groups)


def test_any_key_change_changes_the_safety_number() -> None:
    alice, bob = ids.new_id(), ids.new_id()
    alice_keys, bob_keys = [DeviceIdentity.create().ed25519], [DeviceIdentity.create().ed25519]
    before = safety_number(alice, alice_keys, bob, bob_keys)
    assert before != safety_number(alice, alice_keys, bob, [DeviceIdentity.create().ed25519])
    assert before != safety_number(
        alice, alice_keys, bob, [*bob_keys, DeviceIdentity.create().ed25519]
    )


def test_sas_shows_the_same_emoji_and_macs_check() -> None:
    a, b = Sas(), Sas()
    a.establish(b.public_key)
    b.establish(a.public_key)
    info = "haven-sas|alice|bob|txn1"
    assert a.emoji(info) == b.emoji(info)
    assert len(a.emoji(info)) == 7
    assert all(e in EMOJI for e in a.emoji(info))
    b.check_mac("alice-ed25519-key", info, a.mac("alice-ed25519-key", info))
    with pytest.raises(BadSignature):
        b.check_mac("mallory-key", info, a.mac("alice-ed25519-key", info))


def test_a_man_in_the_middle_shows_different_emoji() -> None:
    alice, bob, mallory_to_alice, mallory_to_bob = Sas(), Sas(), Sas(), Sas()
    alice.establish(mallory_to_alice.public_key)
    bob.establish(mallory_to_bob.public_key)
    assert alice.emoji("i") != bob.emoji("i")


def test_emoji_table_has_64_entries() -> None:
    assert len(EMOJI) == 64
    assert len({name for _, name in EMOJI}) == 64
