"""Attachment encryption: AES-256-GCM under a fresh key per file. The key, nonce and the
SHA-256 of the ciphertext travel inside the (end-to-end encrypted) message; the server only
ever holds the ciphertext."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from haven.crypto.errors import IntegrityError


@dataclass(frozen=True)
class AttachmentKey:
    key: bytes
    nonce: bytes
    sha256: bytes  # of the ciphertext, so a swapped or truncated blob is caught before use
    size: int  # of the plaintext


def encrypt(plaintext: bytes) -> tuple[bytes, AttachmentKey]:
    key = AESGCM.generate_key(bit_length=256)
    nonce = secrets.token_bytes(12)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, None)
    return ciphertext, AttachmentKey(
        key, nonce, hashlib.sha256(ciphertext).digest(), len(plaintext)
    )


def decrypt(ciphertext: bytes, attachment: AttachmentKey) -> bytes:
    if not hmac.compare_digest(hashlib.sha256(ciphertext).digest(), attachment.sha256):
        raise IntegrityError("the attachment does not match its digest (truncated or replaced)")
    try:
        plaintext = AESGCM(attachment.key).decrypt(attachment.nonce, ciphertext, None)
    except InvalidTag:
        raise IntegrityError("the attachment failed authentication") from None
    if len(plaintext) != attachment.size:
        raise IntegrityError("the attachment has the wrong size")
    return plaintext
