from __future__ import annotations

import contextlib
import dataclasses
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from haven.core import b64
from haven.merkle.heads import (
    HeadError,
    SignedTreeHead,
    TreeHead,
    from_json,
    sign_head,
    to_dict,
    to_json,
    verify_head,
)

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
ROOT = bytes(range(100, 132))
HEAD = TreeHead(size=1234, root=ROOT, timestamp_ms=1_767_225_600_000)


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_canonical_bytes_layout() -> None:
    assert HEAD.to_bytes() == (
        b"haven-sth-v1" + (1234).to_bytes(8, "big") + (1_767_225_600_000).to_bytes(8, "big") + ROOT
    )


def test_sign_and_verify_with_key_object_or_raw_bytes() -> None:
    signed = sign_head(KEY, HEAD)
    assert signed.head == HEAD
    assert len(signed.signature) == 64
    verify_head(KEY.public_key(), signed)
    verify_head(raw_public(KEY), signed)


def test_bad_signature_is_refused() -> None:
    signed = sign_head(KEY, HEAD)
    forged = bytearray(signed.signature)
    forged[10] ^= 1
    with pytest.raises(HeadError, match="does not verify"):
        verify_head(KEY.public_key(), SignedTreeHead(HEAD, bytes(forged)))


def test_wrong_key_is_refused() -> None:
    signed = sign_head(KEY, HEAD)
    with pytest.raises(HeadError, match="does not verify"):
        verify_head(OTHER_KEY.public_key(), signed)
    with pytest.raises(HeadError, match="does not verify"):
        verify_head(raw_public(OTHER_KEY), signed)


@pytest.mark.parametrize(
    "change",
    [
        {"size": 1235},
        {"size": 0},
        {"timestamp_ms": 1_767_225_600_001},
        {"root": bytes(32)},
        {"root": ROOT[:-1] + b"\x00"},
    ],
)
def test_altered_head_is_refused(change: dict[str, Any]) -> None:
    signed = sign_head(KEY, HEAD)
    altered = SignedTreeHead(dataclasses.replace(HEAD, **change), signed.signature)
    with pytest.raises(HeadError, match="does not verify"):
        verify_head(KEY.public_key(), altered)


@pytest.mark.parametrize("public", [b"", bytes(31), bytes(33), "key"])
def test_malformed_public_key_is_refused(public: Any) -> None:
    with pytest.raises(HeadError, match="32 raw bytes"):
        verify_head(public, sign_head(KEY, HEAD))


@pytest.mark.parametrize(
    "fields",
    [
        {"size": -1},
        {"size": 2**64},
        {"size": True},
        {"timestamp_ms": -5},
        {"timestamp_ms": 1.5},
        {"root": bytes(31)},
        {"root": "00" * 32},
    ],
)
def test_tree_head_fields_are_validated(fields: dict[str, Any]) -> None:
    with pytest.raises(HeadError):
        TreeHead(**{"size": 1, "root": ROOT, "timestamp_ms": 0, **fields})


def test_signature_must_be_64_bytes() -> None:
    with pytest.raises(HeadError, match="64 bytes"):
        SignedTreeHead(HEAD, bytes(63))


# --- JSON ----------------------------------------------------------------------------------


def test_json_round_trip() -> None:
    signed = sign_head(KEY, HEAD)
    text = to_json(signed)
    assert json.loads(text) == {
        "size": 1234,
        "timestamp_ms": 1_767_225_600_000,
        "root": b64.encode(ROOT),
        "signature": b64.encode(signed.signature),
    }
    parsed = from_json(text)
    assert parsed == signed
    verify_head(KEY.public_key(), parsed)
    assert from_json(text.encode()) == signed


@given(
    size=st.integers(0, 2**64 - 1),
    timestamp=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
)
def test_json_round_trip_any_head(size: int, timestamp: int, root: bytes) -> None:
    signed = sign_head(KEY, TreeHead(size, root, timestamp))
    assert from_json(to_json(signed)) == signed


def good() -> dict[str, Any]:
    return to_dict(sign_head(KEY, HEAD))


def edited(**changes: Any) -> str:
    data = good()
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    return json.dumps(data)


def padded(text: str) -> str:
    return text + "=" * (-len(text) % 4)


def test_padded_base64_is_accepted() -> None:
    data = good()
    text = edited(root=padded(data["root"]), signature=padded(data["signature"]))
    assert from_json(text) == from_json(json.dumps(data))


def non_canonical(text: str) -> str:
    """The same bytes with non-zero unused bits in the last character (32 bytes -> 43 chars
    with 2 unused bits)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(text[-1])
    return text[:-1] + alphabet[last | 1]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (edited(size=None), "missing \\['size'\\]"),
        (edited(extra=1), "unexpected \\['extra'\\]"),
        (edited(size="1234"), "size must be an integer"),
        (edited(size=True), "size must be an integer"),
        (edited(size=1234.0), "size must be an integer"),
        (edited(size=-1), "size must be an integer"),
        (edited(size=2**64), "size must be an integer"),
        (edited(timestamp_ms=None), "missing \\['timestamp_ms'\\]"),
        (edited(root=b64.encode(bytes(31))), "root must be 32 bytes"),
        (edited(root=b64.encode(bytes(33))), "root must be 32 bytes"),
        (edited(root=non_canonical(b64.encode(ROOT))), "not canonical"),
        (edited(root=b64.encode(ROOT) + "=="), "padding"),
        (edited(root="!" * 43), "not valid base64"),
        (edited(root=b64.encode(ROOT)[:20] + " " + b64.encode(ROOT)[20:]), "not valid base64"),
        (edited(root=ROOT.hex()), "root must be 32 bytes"),
        (edited(root=123), "base64 string"),
        (edited(signature=b64.encode(bytes(63))), "signature must be 64 bytes"),
        ('{"size": 1, "size": 1, "timestamp_ms": 0, "root": "", "signature": ""}', "duplicate"),
        ('{"size": NaN}', "not a number"),
        ("[1, 2]", "JSON object"),
        ("null", "JSON object"),
        ("{", "not JSON"),
        (" " * 2000, "at most 1024"),
    ],
)
def test_strict_json_parsing(text: str, reason: str) -> None:
    with pytest.raises(HeadError, match=reason):
        from_json(text)


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(HeadError, match="not JSON"):
        from_json(b'{"size": "\xff"}')


@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_any_input_parses_or_raises_head_error(text: str | bytes) -> None:
    with contextlib.suppress(HeadError):
        from_json(text)


JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text())
FIELD_NAMES = st.sampled_from(["size", "timestamp_ms", "root", "signature", "x"])


@given(st.dictionaries(FIELD_NAMES, JSON_VALUES))
def test_any_json_object_parses_or_raises_head_error(data: dict[str, Any]) -> None:
    with contextlib.suppress(HeadError):
        from_json(json.dumps(data))
