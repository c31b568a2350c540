"""Token-bucket rate limits per device and per client address (in memory, per process).

Addresses are used only as bucket keys in memory: never logged, never stored.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from haven.core import clock, limits
from haven.core.errors import ErrorCode, HavenError


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, rate: limits.Rate, max_keys: int = limits.RATE_LIMITER_MAX_KEYS) -> None:
        self.rate = rate
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def allow(self, key: str, now: float | None = None) -> bool:
        moment = clock.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(tokens=float(self.rate.burst), updated=moment)
            self._buckets[key] = bucket
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            elapsed = max(0.0, moment - bucket.updated)
            bucket.tokens = min(
                float(self.rate.burst), bucket.tokens + elapsed * self.rate.per_second
            )
            bucket.updated = moment
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    def check(self, key: str) -> None:
        if not self.allow(key):
            raise HavenError(ErrorCode.RATE_LIMITED, "too many requests; slow down and retry")


class RateLimits:
    """The limiters one server process applies."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.per_device = RateLimiter(limits.RATE_PER_DEVICE)
        self.per_ip = RateLimiter(limits.RATE_PER_IP)
        self.registration = RateLimiter(limits.RATE_REGISTRATION_PER_IP)

    def device(self, device_id: str) -> None:
        if self.enabled:
            self.per_device.check(device_id)

    def address(self, address: str) -> None:
        if self.enabled:
            self.per_ip.check(address)

    def register(self, address: str) -> None:
        if self.enabled:
            self.registration.check(address)
