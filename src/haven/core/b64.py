"""Base64 as used on the wire: the standard alphabet, emitted unpadded (as vodozemac does),
accepted with or without padding."""

from __future__ import annotations

import base64
import binascii


class Base64Error(ValueError):
    """The text is not valid base64."""


def encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def decode(text: str) -> bytes:
    stripped = text.rstrip("=")
    padded = stripped + "=" * (-len(stripped) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Base64Error("not valid base64") from exc
