from __future__ import annotations

import hashlib
import re

import pytest

from haven.core import ids


def test_new_id_is_32_lowercase_hex() -> None:
    value = ids.new_id()
    assert re.fullmatch(r"[0-9a-f]{32}", value)
    assert ids.is_id(value)


def test_ids_do_not_repeat_over_many_draws() -> None:
    drawn = {ids.new_id() for _ in range(10_000)}
    assert len(drawn) == 10_000


def test_tokens_do_not_repeat_and_are_url_safe() -> None:
    drawn = {ids.new_token() for _ in range(1_000)}
    assert len(drawn) == 1_000
    for token in drawn:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 256 bits, URL-safe, unpadded


@pytest.mark.parametrize(
    "value",
    [
        "",
        "a" * 31,
        "a" * 33,
        "A" * 32,  # upper case is not the canonical form
        "g" * 32,
        "a" * 32 + "\n",
        " " + "a" * 31,
        "a" * 16 + "-" + "a" * 15,
    ],
)
def test_is_id_rejects_anything_but_32_lowercase_hex(value: str) -> None:
    assert not ids.is_id(value)


def test_device_token_round_trips_through_split() -> None:
    device_id = ids.new_id()
    token = ids.device_token(device_id)
    parts = ids.split_device_token(token)
    assert parts is not None
    assert parts[0] == device_id
    assert parts[1]
    assert token == f"{device_id}.{parts[1]}"


def test_device_tokens_for_the_same_device_differ() -> None:
    device_id = ids.new_id()
    assert ids.device_token(device_id) != ids.device_token(device_id)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a" * 32,  # missing dot
        "a" * 32 + ".",  # empty secret
        "not-an-id.secret",
        "A" * 32 + ".secret",
        "a" * 31 + ".secret",
        "a" * 32 + "\n.secret",
        ".secret",
    ],
)
def test_split_device_token_rejects_malformed(token: str) -> None:
    assert ids.split_device_token(token) is None


def test_split_device_token_keeps_dots_in_the_secret() -> None:
    device_id = ids.new_id()
    assert ids.split_device_token(f"{device_id}.a.b") == (device_id, "a.b")


def test_token_digest_is_sha256_of_the_utf8_token() -> None:
    token = ids.device_token(ids.new_id())
    digest = ids.token_digest(token)
    assert digest == hashlib.sha256(token.encode("utf-8")).digest()
    assert len(digest) == 32
    assert ids.token_digest("x") == bytes.fromhex(
        "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    )


def test_digests_match_only_for_equal_digests() -> None:
    token = ids.device_token(ids.new_id())
    stored = ids.token_digest(token)
    assert ids.digests_match(stored, ids.token_digest(token))
    assert not ids.digests_match(stored, ids.token_digest(token + "x"))
    assert not ids.digests_match(stored, stored[:-1])
