from __future__ import annotations

import dataclasses
import os

import pytest

from haven.crypto import attachments
from haven.crypto.errors import IntegrityError


def test_round_trip_with_a_fresh_key_each_time() -> None:
    data = os.urandom(10_000)
    first, key1 = attachments.encrypt(data)
    second, key2 = attachments.encrypt(data)
    assert key1.key != key2.key
    assert first != second
    assert data not in first
    assert attachments.decrypt(first, key1) == data


@pytest.mark.parametrize("damage", ["truncate", "flip", "swap"])
def test_damaged_blob_is_refused(damage: str) -> None:
    blob, key = attachments.encrypt(b"photo bytes" * 100)
    if damage == "truncate":
        blob = blob[:-10]
    elif damage == "flip":
        blob = bytes([blob[0] ^ 1]) + blob[1:]
    else:
        blob, _ = attachments.encrypt(b"another file")
    with pytest.raises(IntegrityError):
        attachments.decrypt(blob, key)


def test_right_digest_but_wrong_key_is_refused() -> None:
    blob, key = attachments.encrypt(b"x" * 50)
    wrong = dataclasses.replace(key, key=os.urandom(32))
    with pytest.raises(IntegrityError, match="authentication"):
        attachments.decrypt(blob, wrong)
