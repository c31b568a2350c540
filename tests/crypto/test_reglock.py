"""The registration-lock proof: derived on the device, the same for the same lock and
account, useless for any other account, and never derived from a lock too short to be one."""

from __future__ import annotations

import pytest

from haven.core import ids, limits
from haven.crypto.reglock import WeakLock, derive_proof, salt_for


def test_the_proof_is_stable_and_bound_to_the_account() -> None:
    account, other = ids.new_id(), ids.new_id()
    proof = derive_proof("harbour-lantern", account)
    assert len(proof) == 32
    assert derive_proof("harbour-lantern", account) == proof
    assert derive_proof("harbour-lantern", other) != proof
    assert derive_proof("harbour-lanterN", account) != proof
    assert b"harbour" not in proof
    assert salt_for(account) != salt_for(other)


def test_the_same_characters_typed_differently_give_the_same_proof() -> None:
    account = ids.new_id()
    # A full-width digit (some phone keyboards) is the same digit after NFKC.
    full_width = "".join(chr(0xFF10 + int(d)) for d in "123456")
    assert derive_proof(full_width, account) == derive_proof("123456", account)


@pytest.mark.parametrize("lock", ["", "12345", "x" * (limits.REGISTRATION_LOCK_MAX_CHARS + 1)])
def test_locks_too_short_or_too_long_are_refused(lock: str) -> None:
    with pytest.raises(WeakLock, match="registration lock has at"):
        derive_proof(lock, ids.new_id())
