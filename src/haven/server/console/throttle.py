"""Sign-in rate limiting: after a few failures from one address, or for one operator name,
each further attempt must wait twice as long as the last (up to a cap). Kept in memory per
process, like every other rate limit: addresses are bucket keys, never logged or stored."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from haven.core import clock, limits

MAX_KEYS = 50_000


@dataclass
class _Failures:
    count: int
    last: float


class LoginThrottle:
    def __init__(
        self,
        free_failures: int = limits.CONSOLE_LOGIN_FREE_FAILURES,
        max_backoff: float = limits.CONSOLE_LOGIN_MAX_BACKOFF_SECONDS,
    ) -> None:
        self._free = free_failures
        self._max_backoff = max_backoff
        self._failures: OrderedDict[str, _Failures] = OrderedDict()

    @staticmethod
    def keys(address: str, name: str) -> tuple[str, str]:
        return f"address:{address}", f"name:{name.strip().casefold()}"

    def _backoff(self, count: int) -> float:
        over = count - self._free
        return 0.0 if over < 0 else min(float(2**over), self._max_backoff)

    def wait(self, keys: tuple[str, ...], now: float | None = None) -> float:
        """Seconds before another attempt for these keys may be checked (0: go ahead)."""
        moment = clock.monotonic() if now is None else now
        longest = 0.0
        for key in keys:
            found = self._failures.get(key)
            if found is not None:
                longest = max(longest, found.last + self._backoff(found.count) - moment)
        return max(longest, 0.0)

    def failed(self, keys: tuple[str, ...], now: float | None = None) -> None:
        moment = clock.monotonic() if now is None else now
        for key in keys:
            found = self._failures.pop(key, None)
            self._failures[key] = _Failures((found.count if found else 0) + 1, moment)
            if len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)

    def succeeded(self, keys: tuple[str, ...]) -> None:
        for key in keys:
            self._failures.pop(key, None)
