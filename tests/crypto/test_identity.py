from __future__ import annotations

import os

import pytest

from haven.core import b64
from haven.crypto.errors import BadSignature, CryptoError
from haven.crypto.identity import DeviceIdentity, verify_key_signature


def test_identity_keys_are_32_byte_base64() -> None:
    keys = DeviceIdentity.create().identity_keys()
    assert {len(b64.decode(keys["curve25519"])), len(b64.decode(keys["ed25519"]))} == {32}


def test_one_time_keys_are_signed_by_the_device() -> None:
    device = DeviceIdentity.create()
    keys = device.new_one_time_keys(3)
    assert len({k.key_id for k in keys}) == 3
    for key in keys:
        verify_key_signature(device.ed25519, key.key, key.signature)
    fallback = device.new_fallback_key()
    verify_key_signature(device.ed25519, fallback.key, fallback.signature)


def test_a_signature_from_another_device_is_refused() -> None:
    device, forger = DeviceIdentity.create(), DeviceIdentity.create()
    [key] = forger.new_one_time_keys(1)
    with pytest.raises(BadSignature):
        verify_key_signature(device.ed25519, key.key, key.signature)
    with pytest.raises(BadSignature):
        verify_key_signature(device.ed25519, key.key, "not base64!!")


def test_pickle_round_trip_and_wrong_key() -> None:
    device = DeviceIdentity.create()
    pickle_key = os.urandom(32)
    restored = DeviceIdentity.from_pickle(device.pickle(pickle_key), pickle_key)
    assert restored.identity_keys() == device.identity_keys()
    with pytest.raises(CryptoError, match="could not be restored"):
        DeviceIdentity.from_pickle(device.pickle(pickle_key), os.urandom(32))
