"""Wrong registration locks per address: a few are free, then the address waits longer and
longer, whatever account it tries; a quiet address is forgotten."""

from __future__ import annotations

import pytest

from haven.core import clock, limits
from haven.server.lockguard import AddressBackoff


def test_an_address_backs_off_after_the_free_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(clock, "monotonic", lambda: now[0])
    guard = AddressBackoff()
    for _ in range(limits.LOCK_FREE_ATTEMPTS - 1):
        guard.failed("198.51.100.7")
        assert not guard.blocked("198.51.100.7")
    guard.failed("198.51.100.7")
    assert guard.blocked("198.51.100.7")
    assert not guard.blocked("203.0.113.9")  # another address is not affected
    now[0] += limits.LOCK_BACKOFF_BASE_SECONDS + 1
    assert not guard.blocked("198.51.100.7")
    guard.failed("198.51.100.7")  # the next wrong one waits twice as long
    now[0] += limits.LOCK_BACKOFF_BASE_SECONDS + 1
    assert guard.blocked("198.51.100.7")
    now[0] += limits.LOCK_BACKOFF_BASE_SECONDS
    assert not guard.blocked("198.51.100.7")
    # Quiet for longer than the longest backoff: forgotten, the free attempts are back.
    now[0] += limits.LOCK_BACKOFF_MAX_SECONDS + 1
    guard.failed("198.51.100.7")
    assert not guard.blocked("198.51.100.7")


def test_memory_is_bounded() -> None:
    guard = AddressBackoff(max_addresses=3)
    for n in range(10):
        for _ in range(limits.LOCK_FREE_ATTEMPTS):
            guard.failed(f"10.0.0.{n}")
    assert guard.blocked("10.0.0.9")
    assert not guard.blocked("10.0.0.0")  # dropped, oldest first
