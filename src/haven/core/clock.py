"""One place that reads the time, so tests and skewed processes can be reasoned about."""

from __future__ import annotations

import time


def now_ms() -> int:
    """Wall-clock milliseconds since the Unix epoch (server_time on envelopes)."""
    return time.time_ns() // 1_000_000


def monotonic() -> float:
    """Seconds from a clock that never goes backwards (rate limits, timeouts)."""
    return time.monotonic()
