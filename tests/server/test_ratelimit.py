from __future__ import annotations

import pytest

from haven.core import clock, limits
from haven.core.errors import ErrorCode, HavenError
from haven.server.ratelimit import RateLimiter, RateLimits


def drain(limiter: RateLimiter, key: str, now: float) -> int:
    """How many requests `key` gets at `now` before the first refusal."""
    allowed = 0
    while limiter.allow(key, now=now):
        allowed += 1
        assert allowed <= 10_000, "limiter never refused"
    return allowed


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stop the clock, so limiters using the real time see no refill during a test."""
    monkeypatch.setattr(clock, "monotonic", lambda: 1000.0)


def test_burst_is_allowed_then_refused() -> None:
    limiter = RateLimiter(limits.Rate(burst=5, per_second=1.0))
    assert [limiter.allow("dev", now=0.0) for _ in range(6)] == [True] * 5 + [False]
    assert not limiter.allow("dev", now=0.0)  # refusals do not reset anything


def test_tokens_refill_with_time() -> None:
    limiter = RateLimiter(limits.Rate(burst=2, per_second=2.0))
    assert drain(limiter, "dev", now=10.0) == 2
    assert not limiter.allow("dev", now=10.25)  # half a token so far
    assert limiter.allow("dev", now=10.5)  # one whole token
    assert not limiter.allow("dev", now=10.5)
    assert drain(limiter, "dev", now=11.5) == 2


def test_refill_is_capped_at_the_burst() -> None:
    limiter = RateLimiter(limits.Rate(burst=3, per_second=10.0))
    assert drain(limiter, "dev", now=0.0) == 3
    assert drain(limiter, "dev", now=3600.0) == 3


def test_clock_going_backwards_does_not_mint_tokens() -> None:
    limiter = RateLimiter(limits.Rate(burst=2, per_second=1.0))
    assert drain(limiter, "dev", now=100.0) == 2
    assert not limiter.allow("dev", now=50.0)
    # The bucket now counts from 50.0; 1 second later one token is back.
    assert limiter.allow("dev", now=51.0)


def test_keys_have_independent_buckets() -> None:
    limiter = RateLimiter(limits.Rate(burst=2, per_second=1.0))
    assert drain(limiter, "alice", now=0.0) == 2
    assert drain(limiter, "bob", now=0.0) == 2
    assert not limiter.allow("alice", now=0.0)


def test_key_count_is_bounded_by_dropping_the_least_recently_used() -> None:
    limiter = RateLimiter(limits.Rate(burst=1, per_second=0.0), max_keys=2)
    assert limiter.allow("a", now=0.0)
    assert limiter.allow("b", now=0.0)
    assert not limiter.allow("a", now=0.0)  # touches "a": "b" is now the idlest
    assert limiter.allow("c", now=0.0)  # a third key evicts "b", not "a"
    assert not limiter.allow("a", now=0.0)  # "a" kept its (empty) bucket
    assert limiter.allow("b", now=0.0)  # "b" was forgotten and starts full again (evicts "c")
    assert limiter.allow("c", now=0.0)  # "c" was forgotten too


def test_many_keys_with_small_bound_forget_the_oldest() -> None:
    limiter = RateLimiter(limits.Rate(burst=1, per_second=0.0), max_keys=100)
    for n in range(1_000):
        assert limiter.allow(f"key-{n}", now=0.0)
    for n in range(900, 1_000):  # the last 100 are remembered
        assert not limiter.allow(f"key-{n}", now=0.0)
    assert limiter.allow("key-0", now=0.0)  # long evicted


def test_check_raises_rate_limited(frozen_clock: None) -> None:
    limiter = RateLimiter(limits.Rate(burst=1, per_second=1.0))
    limiter.check("dev")
    with pytest.raises(HavenError) as raised:
        limiter.check("dev")
    assert raised.value.code is ErrorCode.RATE_LIMITED
    assert raised.value.status == 429
    assert raised.value.to_wire()["error"]["code"] == "rate_limited"


def test_check_uses_the_monotonic_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr(clock, "monotonic", lambda: now[0])
    limiter = RateLimiter(limits.Rate(burst=1, per_second=1.0))
    limiter.check("dev")
    with pytest.raises(HavenError):
        limiter.check("dev")
    now[0] = 1.0
    limiter.check("dev")


def test_registration_is_limited_per_address(frozen_clock: None) -> None:
    rate_limits = RateLimits()
    for _ in range(limits.RATE_REGISTRATION_PER_IP.burst):
        rate_limits.register("203.0.113.7")
    with pytest.raises(HavenError) as raised:
        rate_limits.register("203.0.113.7")
    assert raised.value.code is ErrorCode.RATE_LIMITED
    rate_limits.register("203.0.113.8")  # another address is unaffected


def test_device_and_address_limits_apply_when_enabled(frozen_clock: None) -> None:
    rate_limits = RateLimits(enabled=True)
    for _ in range(limits.RATE_PER_DEVICE.burst):
        rate_limits.device("dev")
    with pytest.raises(HavenError):
        rate_limits.device("dev")
    for _ in range(limits.RATE_PER_IP.burst):
        rate_limits.address("198.51.100.1")
    with pytest.raises(HavenError):
        rate_limits.address("198.51.100.1")


def test_disabled_rate_limits_never_refuse(frozen_clock: None) -> None:
    rate_limits = RateLimits(enabled=False)
    for _ in range(limits.RATE_PER_IP.burst * 2):
        rate_limits.device("dev")
        rate_limits.address("198.51.100.1")
        rate_limits.register("198.51.100.1")
