"""Argon2id (RFC 9106) from pyca/cryptography, one derivation at a time per process.

cryptography runs Argon2's lanes on OpenSSL's thread pool, which the whole process shares
and which cryptography sizes to the CPU count. Two derivations at once compete for it and
lose: with two threads verifying at once on this 2-core machine, 99 of 100 verifications
raised MemoryError ("Not enough memory to derive key"), and some runs hung for good in
OpenSSL's thread start. Two operators signing in together, or a client unlocking its
profile while it proves a registration lock, would hit exactly that. So every Argon2id
in Haven goes through the one lock here. It also bounds memory: one 64 MiB derivation at
a time however many sign-ins arrive. Callers on an event loop run these in a thread.
"""

from __future__ import annotations

import threading

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

_ONE_AT_A_TIME = threading.Lock()


def _kdf(salt: bytes, iterations: int, lanes: int, memory_kib: int, length: int) -> Argon2id:
    return Argon2id(
        salt=salt, length=length, iterations=iterations, lanes=lanes, memory_cost=memory_kib
    )


def derive(
    secret: bytes, *, salt: bytes, iterations: int, lanes: int, memory_kib: int, length: int = 32
) -> bytes:
    kdf = _kdf(salt, iterations, lanes, memory_kib, length)
    with _ONE_AT_A_TIME:
        return kdf.derive(secret)


def derive_phc_encoded(
    secret: bytes, *, salt: bytes, iterations: int, lanes: int, memory_kib: int, length: int = 32
) -> str:
    """The derivation as a PHC string (`$argon2id$v=19$m=...`), parameters and salt included."""
    kdf = _kdf(salt, iterations, lanes, memory_kib, length)
    with _ONE_AT_A_TIME:
        return kdf.derive_phc_encoded(secret)


def verify_phc_encoded(secret: bytes, encoded: str) -> None:
    """Raises cryptography's InvalidKey if `secret` does not match or `encoded` is not an
    Argon2id PHC string; the comparison inside is constant-time."""
    with _ONE_AT_A_TIME:
        Argon2id.verify_phc_encoded(secret, encoded)
