from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.core import b64


@pytest.mark.parametrize(
    ("data", "text"),
    [(b"", ""), (b"A", "QQ"), (b"AB", "QUI"), (b"ABC", "QUJD"), (b"\xfb\xff", "+/8")],
)
def test_encode_is_standard_alphabet_unpadded(data: bytes, text: str) -> None:
    assert b64.encode(data) == text
    assert b64.decode(text) == data


def test_output_never_has_padding() -> None:
    for size in range(0, 40):
        assert "=" not in b64.encode(bytes(range(size)))


@pytest.mark.parametrize(
    ("text", "data"), [("QQ", b"A"), ("QQ==", b"A"), ("QUI", b"AB"), ("QUI=", b"AB")]
)
def test_padded_and_unpadded_input_accepted(text: str, data: bytes) -> None:
    assert b64.decode(text) == data


def test_padded_and_unpadded_forms_decode_the_same() -> None:
    data = bytes(range(31))
    padded = base64.b64encode(data).decode()
    assert padded.endswith("=")
    assert b64.decode(padded) == b64.decode(b64.encode(data)) == data


@pytest.mark.parametrize(
    "text",
    [
        "Q",  # one character cannot encode a byte
        "QUJDR",  # length 1 mod 4
        "QQ!!",  # outside the alphabet
        "QQ-_",  # URL-safe alphabet is not the wire alphabet
        "QU JD",  # embedded whitespace
        "QUJD\n",  # trailing newline
        "QQ==QQ==",  # padding in the middle
        "é",  # non-ASCII
    ],
)
def test_invalid_input_raises_base64_error(text: str) -> None:
    with pytest.raises(b64.Base64Error):
        b64.decode(text)


def test_base64_error_is_a_value_error() -> None:
    # Callers (and pydantic validators) can catch it as a ValueError.
    with pytest.raises(ValueError, match="not valid base64"):
        b64.decode("!")


@given(st.binary(max_size=512))
def test_round_trip_of_arbitrary_bytes(data: bytes) -> None:
    text = b64.encode(data)
    assert not text.endswith("=")
    assert b64.decode(text) == data
    assert b64.decode(base64.b64encode(data).decode("ascii")) == data
