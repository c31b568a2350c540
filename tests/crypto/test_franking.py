from __future__ import annotations

import pytest

from haven.crypto import franking
from haven.crypto.errors import IntegrityError


def test_reported_message_verifies_against_its_commitment() -> None:
    key = franking.new_key()
    commitment = franking.commit(key, b"threat text")
    franking.verify(key, b"threat text", commitment)


@pytest.mark.parametrize(
    ("plaintext", "use_other_key"), [(b"edited text", False), (b"threat text", True)]
)
def test_a_forged_report_fails(plaintext: bytes, use_other_key: bool) -> None:
    key = franking.new_key()
    commitment = franking.commit(key, b"threat text")
    with pytest.raises(IntegrityError):
        franking.verify(franking.new_key() if use_other_key else key, plaintext, commitment)


def test_keys_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        franking.commit(b"short", b"x")
