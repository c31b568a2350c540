"""Random identifiers and secrets.

Every id is 128 bits from the OS CSPRNG, as lower-case hex; device tokens are 256 bits.
Ids are not secrets (they are addresses), tokens are: the server keeps only their SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

_ID_BYTES = 16
_TOKEN_BYTES = 32
ID_PATTERN = r"^[0-9a-f]{32}$"
_ID_RE = re.compile(ID_PATTERN)


def new_id() -> str:
    """A fresh random 128-bit id (accounts, devices, envelopes, attachments)."""
    return secrets.token_hex(_ID_BYTES)


def is_id(value: str) -> bool:
    return _ID_RE.fullmatch(value) is not None


def new_token() -> str:
    """A fresh 256-bit bearer secret (device tokens, invite codes), URL-safe."""
    return secrets.token_urlsafe(_TOKEN_BYTES)


def device_token(device_id: str) -> str:
    """A device token: `<device id>.<secret>`. The id selects the device; the secret's digest is
    then compared in constant time (selector/verifier), so lookups never depend on the secret."""
    return f"{device_id}.{new_token()}"


def split_device_token(token: str) -> tuple[str, str] | None:
    device_id, dot, secret = token.partition(".")
    if not dot or not is_id(device_id) or not secret:
        return None
    return device_id, secret


def token_digest(token: str) -> bytes:
    """What the server stores instead of a bearer secret."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def digests_match(a: bytes, b: bytes) -> bool:
    """Constant-time comparison, so a token check leaks nothing through timing."""
    return hmac.compare_digest(a, b)


OPERATOR_TOKEN_PREFIX = "op_"  # noqa: S105 - a prefix, not a secret


def operator_token(operator_id: str) -> str:
    """An operator's (admin or moderator) API token: `op_<operator id>.<secret>`; the prefix
    keeps it from ever being mistaken for a device token."""
    return f"{OPERATOR_TOKEN_PREFIX}{device_token(operator_id)}"


def split_operator_token(token: str) -> tuple[str, str] | None:
    if not token.startswith(OPERATOR_TOKEN_PREFIX):
        return None
    return split_device_token(token[len(OPERATOR_TOKEN_PREFIX) :])
