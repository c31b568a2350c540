"""Argon2id one derivation at a time: what a busy server signing in several operators, or
a client unlocking while it proves its lock, relies on to get answers rather than errors."""

from __future__ import annotations

import os
import threading
import time

import pytest
from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from haven.core import argon2

HANG = 300  # seconds: a liveness guard for a hung thread, not a speed target
SMALL = {"iterations": 1, "lanes": 4, "memory_kib": 8 * 1024}  # cheap, but still 4 lanes


def test_the_same_results_as_cryptography_itself() -> None:
    salt = os.urandom(16)
    expected = Argon2id(salt=salt, length=32, iterations=1, lanes=4, memory_cost=8 * 1024).derive(
        b"secret"
    )
    assert argon2.derive(b"secret", salt=salt, **SMALL) == expected
    encoded = argon2.derive_phc_encoded(b"secret", salt=salt, **SMALL)
    assert encoded.startswith("$argon2id$v=19$m=8192,t=1,p=4$")
    Argon2id.verify_phc_encoded(b"secret", encoded)
    argon2.verify_phc_encoded(b"secret", encoded)
    with pytest.raises(InvalidKey):
        argon2.verify_phc_encoded(b"not the secret", encoded)
    with pytest.raises(InvalidKey, match="PHC"):
        argon2.verify_phc_encoded(b"secret", "$argon2id$garbage")


def test_simultaneous_derivations_each_get_their_answer() -> None:
    """Straight to cryptography, two threads at once mostly raise MemoryError, or hang in
    OpenSSL's thread start: its Argon2 thread pool is shared by the process. Through
    haven.core.argon2 every one gets its answer."""
    salt = os.urandom(16)
    encoded = argon2.derive_phc_encoded(b"right", salt=salt, **SMALL)
    verified: dict[int, str] = {}
    derived: dict[int, bytes] = {}

    def attempt(n: int) -> None:
        try:
            argon2.verify_phc_encoded(b"right" if n % 4 == 0 else b"wrong %d" % n, encoded)
            verified[n] = "right"
        except InvalidKey:
            verified[n] = "wrong"
        derived[n] = argon2.derive(b"secret %d" % (n % 2), salt=salt, **SMALL)

    # Daemon threads, so a regression fails this test rather than hanging the whole run.
    threads = [threading.Thread(target=attempt, args=(n,), daemon=True) for n in range(16)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + HANG
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert verified == {n: "right" if n % 4 == 0 else "wrong" for n in range(16)}
    assert {derived[n] for n in range(0, 16, 2)} == {derived[0]}
    assert {derived[n] for n in range(1, 16, 2)} == {derived[1]} != {derived[0]}
