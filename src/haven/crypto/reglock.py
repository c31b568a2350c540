"""The registration lock of a protected account, derived on the device.

The PIN or passphrase never leaves the device: Argon2id (RFC 9106) turns it into a 32-byte
proof, with a salt bound to the account id so one proof is useless for any other account
and a table of precomputed guesses would serve one account only. The server keeps only
SHA-256 of the proof and compares in constant time; guessing is slowed there by backoff.
"""

from __future__ import annotations

import hashlib
import unicodedata

from haven.core import argon2, limits
from haven.crypto.errors import CryptoError

_SALT_CONTEXT = b"haven/registration-lock/v1\x00"
# RFC 9106's second recommended option, as for profiles: it is derived once per use.
_MEMORY_KIB = 64 * 1024
_ITERATIONS = 3
_LANES = 4


class WeakLock(CryptoError):
    """The lock is too short (or too long) to be one."""


def check_lock(lock: str) -> str:
    """The lock, normalised (NFKC, so the same characters typed on another keyboard
    give the same proof); WeakLock says what is wrong with it."""
    normalised = unicodedata.normalize("NFKC", lock)
    if len(normalised) < limits.REGISTRATION_LOCK_MIN_CHARS:
        raise WeakLock(
            f"a registration lock has at least {limits.REGISTRATION_LOCK_MIN_CHARS} characters"
        )
    if len(normalised) > limits.REGISTRATION_LOCK_MAX_CHARS:
        raise WeakLock(
            f"a registration lock has at most {limits.REGISTRATION_LOCK_MAX_CHARS} characters"
        )
    return normalised


def salt_for(account_id: str) -> bytes:
    return hashlib.sha256(_SALT_CONTEXT + account_id.encode("ascii")).digest()[:16]


def derive_proof(lock: str, account_id: str) -> bytes:
    """The 32-byte proof of `lock` for this account (what the server checks)."""
    return argon2.derive(
        check_lock(lock).encode("utf-8"), salt=salt_for(account_id), iterations=_ITERATIONS,
        lanes=_LANES, memory_kib=_MEMORY_KIB,
    )  # fmt: skip
