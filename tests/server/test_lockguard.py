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


def test_attempts_are_charged_before_they_are_checked_and_a_right_one_is_refunded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(clock, "monotonic", lambda: 1000.0)
    guard = AddressBackoff()
    address = "198.51.100.7"
    # Simultaneous attempts, none checked yet: only the free ones are let through.
    charged = [guard.charge(address) for _ in range(limits.LOCK_FREE_ATTEMPTS + 5)]
    assert charged == [True] * limits.LOCK_FREE_ATTEMPTS + [False] * 5
    assert guard.blocked(address)
    # The last one let through was right: its charge is taken back, and the backoff it
    # started with it; the wrong ones before it still count.
    guard.refund(address)
    assert not guard.blocked(address)
    assert guard.charge(address)
    assert guard.blocked(address)


def test_a_refund_takes_back_only_its_own_charge() -> None:
    guard = AddressBackoff()
    guard.refund("203.0.113.9")  # nothing charged: nothing to take back
    assert guard.charge("203.0.113.9")
    guard.refund("203.0.113.9")
    for _ in range(limits.LOCK_FREE_ATTEMPTS):
        assert guard.charge("203.0.113.9")
    assert not guard.charge("203.0.113.9")  # the earlier, refunded one is not held against it
