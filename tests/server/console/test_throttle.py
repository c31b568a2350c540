"""Sign-in throttling: a few mistakes are free, then each attempt waits twice as long."""

from __future__ import annotations

from haven.server.console.throttle import LoginThrottle


def test_failures_back_off_exponentially_per_address_and_per_name() -> None:
    throttle = LoginThrottle(free_failures=3, max_backoff=60)
    keys = throttle.keys("192.0.2.1", "Ana")
    for _ in range(3):
        assert throttle.wait(keys, now=100.0) == 0
        throttle.failed(keys, now=100.0)
    assert throttle.wait(keys, now=100.0) == 1.0
    throttle.failed(keys, now=100.0)
    assert throttle.wait(keys, now=100.0) == 2.0
    assert throttle.wait(keys, now=101.5) == 0.5
    for _ in range(20):
        throttle.failed(keys, now=200.0)
    assert throttle.wait(keys, now=200.0) == 60.0  # capped


def test_a_name_under_attack_is_throttled_from_any_address() -> None:
    throttle = LoginThrottle(free_failures=2, max_backoff=60)
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        throttle.failed(throttle.keys(address, "Ana"), now=10.0)
    assert throttle.wait(throttle.keys("198.51.100.9", "ana "), now=10.0) > 0
    assert throttle.wait(throttle.keys("198.51.100.9", "Bo"), now=10.0) == 0


def test_success_clears_the_record() -> None:
    throttle = LoginThrottle(free_failures=1, max_backoff=60)
    keys = throttle.keys("192.0.2.1", "Ana")
    throttle.failed(keys, now=0.0)
    throttle.failed(keys, now=0.0)
    assert throttle.wait(keys, now=0.0) > 0
    throttle.succeeded(keys)
    assert throttle.wait(keys, now=0.0) == 0
