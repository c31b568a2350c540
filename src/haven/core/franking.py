"""The franking formats both sides must agree on, in one place: the sender's commitment
(HMAC-SHA256 under the per-message franking key) and the server's delivery stamp over that
commitment, sender, recipient and time. Only standard-library HMAC: the server verifies
reports with these without ever holding a key that decrypts anything."""

from __future__ import annotations

import hashlib
import hmac
import struct

KEY_BYTES = 32
_COMMITMENT_CONTEXT = b"haven/franking/v1\x00"
_STAMP_CONTEXT = b"haven/delivery-stamp/v1\x00"


def commit(key: bytes, content: bytes) -> bytes:
    if len(key) != KEY_BYTES:
        raise ValueError("franking keys are 32 bytes")
    return hmac.new(key, _COMMITMENT_CONTEXT + content, hashlib.sha256).digest()


def commitment_matches(key: bytes, content: bytes, commitment: bytes) -> bool:
    return len(key) == KEY_BYTES and hmac.compare_digest(commit(key, content), commitment)


def _stamp_message(
    commitment: bytes, envelope_id: str, sender: tuple[str, str], recipient: tuple[str, str],
    server_time: int,
) -> bytes:  # fmt: skip
    fields = [envelope_id, *sender, *recipient]
    encoded = b"".join(struct.pack(">H", len(f)) + f.encode("ascii") for f in fields)
    return _STAMP_CONTEXT + encoded + struct.pack(">Q", server_time) + commitment


def stamp(
    server_key: bytes, commitment: bytes, envelope_id: str, sender: tuple[str, str],
    recipient: tuple[str, str], server_time: int,
) -> bytes:  # fmt: skip
    """The server's MAC binding a commitment to who sent it to whom and when. Only the
    server checks its own stamps, so a MAC under its secret is enough (as in Facebook's
    message franking); sender and recipient are (account id, device id)."""
    message = _stamp_message(commitment, envelope_id, sender, recipient, server_time)
    return hmac.new(server_key, message, hashlib.sha256).digest()


def stamp_matches(
    server_key: bytes, stamp_value: bytes, commitment: bytes, envelope_id: str,
    sender: tuple[str, str], recipient: tuple[str, str], server_time: int,
) -> bool:  # fmt: skip
    expected = stamp(server_key, commitment, envelope_id, sender, recipient, server_time)
    return hmac.compare_digest(expected, stamp_value)
