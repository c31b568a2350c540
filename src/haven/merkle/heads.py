"""Signed tree heads: a log's size and root at a moment, signed with Ed25519.

The signed bytes are fixed-length and unambiguous (RFC 9162 §4.10 signs a TLS-encoded
structure; this is Haven's own, simpler equivalent):

    b"haven-sth-v1" || size (u64 big-endian) || timestamp_ms (u64 big-endian) || root (32)

The label keeps a head signature from being valid as a signature over anything else Haven
signs. It does not say *which* log the head is for: give each log (audit log, key
transparency) its own signing key.

JSON form: {"size": int, "timestamp_ms": int, "root": base64, "signature": base64}, base64 in
the standard alphabet, emitted unpadded and accepted with or without padding (as
`haven.core.b64`). Parsing is strict: exactly those four keys, no duplicates, integers in
range, canonical base64 of the right lengths.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from haven.core import b64
from haven.merkle.hashing import HASH_SIZE

LABEL = b"haven-sth-v1"
SIGNATURE_SIZE = 64
PUBLIC_KEY_SIZE = 32
MAX_U64 = 2**64 - 1
MAX_JSON_CHARS = 1024  # a head is ~200 characters of JSON; anything far larger is not one

_FIELDS = frozenset({"size", "timestamp_ms", "root", "signature"})
_U64_PAIR = struct.Struct(">QQ")


class HeadError(ValueError):
    """A tree head is malformed, or its signature does not verify."""


def _check_u64(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_U64:
        raise HeadError(f"{what} must be an integer in 0..2^64-1, not {value!r}")
    return value


@dataclass(frozen=True)
class TreeHead:
    size: int
    root: bytes
    timestamp_ms: int

    def __post_init__(self) -> None:
        _check_u64(self.size, "size")
        _check_u64(self.timestamp_ms, "timestamp_ms")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise HeadError(f"root must be {HASH_SIZE} bytes")

    def to_bytes(self) -> bytes:
        """The canonical serialisation, which is what gets signed."""
        return LABEL + _U64_PAIR.pack(self.size, self.timestamp_ms) + self.root


@dataclass(frozen=True)
class SignedTreeHead:
    head: TreeHead
    signature: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.head, TreeHead):
            raise HeadError("head must be a TreeHead")
        if not isinstance(self.signature, bytes) or len(self.signature) != SIGNATURE_SIZE:
            raise HeadError(f"signature must be {SIGNATURE_SIZE} bytes")

    @property
    def size(self) -> int:
        return self.head.size

    @property
    def root(self) -> bytes:
        return self.head.root

    @property
    def timestamp_ms(self) -> int:
        return self.head.timestamp_ms


def sign_head(key: Ed25519PrivateKey, head: TreeHead) -> SignedTreeHead:
    return SignedTreeHead(head=head, signature=key.sign(head.to_bytes()))


def public_key(public: Ed25519PublicKey | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from a key object or its 32 raw bytes."""
    if isinstance(public, Ed25519PublicKey):
        return public
    if not isinstance(public, bytes) or len(public) != PUBLIC_KEY_SIZE:
        raise HeadError(f"an Ed25519 public key is {PUBLIC_KEY_SIZE} raw bytes")
    try:
        return Ed25519PublicKey.from_public_bytes(public)
    except ValueError as exc:
        raise HeadError("not an Ed25519 public key") from exc


def verify_head(public: Ed25519PublicKey | bytes, signed: SignedTreeHead) -> None:
    """Return if `signed` carries a valid signature by `public` over its head; raise
    `HeadError` otherwise."""
    key = public_key(public)
    try:
        key.verify(signed.signature, signed.head.to_bytes())
    except InvalidSignature as exc:
        raise HeadError(
            f"the signature on the tree head of size {signed.size} does not verify"
        ) from exc


# --- JSON ----------------------------------------------------------------------------------


def to_dict(signed: SignedTreeHead) -> dict[str, Any]:
    return {
        "size": signed.size,
        "timestamp_ms": signed.timestamp_ms,
        "root": b64.encode(signed.root),
        "signature": b64.encode(signed.signature),
    }


def to_json(signed: SignedTreeHead) -> str:
    return json.dumps(to_dict(signed), separators=(",", ":"))


def _strict_b64(value: object, what: str, length: int) -> bytes:
    if not isinstance(value, str):
        raise HeadError(f"{what} must be a base64 string")
    stripped = value.rstrip("=")
    padding = len(value) - len(stripped)
    if padding and padding != -len(stripped) % 4:
        raise HeadError(f"{what} has wrong base64 padding")
    try:
        raw = b64.decode(stripped)
    except b64.Base64Error as exc:
        raise HeadError(f"{what} is not valid base64") from exc
    # Non-zero unused bits decode too; one value must have one text, or heads are malleable.
    if b64.encode(raw) != stripped:
        raise HeadError(f"{what} is not canonical base64")
    if len(raw) != length:
        raise HeadError(f"{what} must be {length} bytes, not {len(raw)}")
    return raw


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise HeadError(f"duplicate key {key!r}")
        found[key] = value
    return found


def _no_constants(name: str) -> None:
    raise HeadError(f"{name} is not a number a tree head can hold")


def from_dict(data: object) -> SignedTreeHead:
    if not isinstance(data, dict):
        raise HeadError("a tree head must be a JSON object")
    keys = set(data)
    if keys != _FIELDS:
        missing, extra = sorted(_FIELDS - keys), sorted(keys - _FIELDS)
        raise HeadError(f"tree head fields: missing {missing}, unexpected {extra}")
    head = TreeHead(
        size=_check_u64(data["size"], "size"),
        root=_strict_b64(data["root"], "root", HASH_SIZE),
        timestamp_ms=_check_u64(data["timestamp_ms"], "timestamp_ms"),
    )
    return SignedTreeHead(head, _strict_b64(data["signature"], "signature", SIGNATURE_SIZE))


def from_json(text: str | bytes) -> SignedTreeHead:
    """Parse the JSON form strictly (see the module docstring). Does not check the signature:
    call `verify_head` with the log's public key."""
    if len(text) > MAX_JSON_CHARS:
        raise HeadError(f"a tree head is at most {MAX_JSON_CHARS} characters of JSON")
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HeadError(f"not JSON: {exc}") from exc
    return from_dict(data)
