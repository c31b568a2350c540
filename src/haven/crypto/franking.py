"""Message franking (as in Facebook's "Messenger Secret Conversations" design): the sender
commits to the plaintext with HMAC-SHA256 under a fresh per-message key. The key travels
inside the ciphertext; the commitment travels in the clear beside it, where the server can
bind it to sender, recipient and time. A recipient who reports the message reveals plaintext
and key, and anyone can check them against the commitment the server saw."""

from __future__ import annotations

import secrets

from haven.core import franking as core_franking
from haven.crypto.errors import IntegrityError

KEY_BYTES = core_franking.KEY_BYTES


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def commit(key: bytes, plaintext: bytes) -> bytes:
    return core_franking.commit(key, plaintext)


def verify(key: bytes, plaintext: bytes, commitment: bytes) -> None:
    """Raises IntegrityError unless `plaintext` under `key` gives `commitment`."""
    if not core_franking.commitment_matches(key, plaintext, commitment):
        raise IntegrityError("the reported message does not match its franking commitment")
