"""One place that reads the time, so tests and skewed processes can be reasoned about.

Several server processes share one database, and their clocks disagree a little (NTP keeps
them within milliseconds; a misconfigured host can be minutes off). Ordering never depends
on the clock (queue order is the database's), and expiry allows for `MAX_CLOCK_SKEW_SECONDS`
of disagreement: see `expiry_cutoff_ms`.

`HAVEN_CLOCK_OFFSET_MS` (an integer, default 0) shifts this process's wall clock: it exists
so tests can run processes minutes apart (tests/e2e/test_clock_skew.py). Never set it in
production.
"""

from __future__ import annotations

import os
import time

from haven.core import limits

OFFSET_VARIABLE = "HAVEN_CLOCK_OFFSET_MS"


def _offset_ms() -> int:
    text = os.environ.get(OFFSET_VARIABLE, "0").strip() or "0"
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{OFFSET_VARIABLE} must be a whole number of milliseconds") from None


_OFFSET_MS = _offset_ms()


def now_ms() -> int:
    """Wall-clock milliseconds since the Unix epoch (server_time on envelopes)."""
    return time.time_ns() // 1_000_000 + _OFFSET_MS


def expiry_cutoff_ms() -> int:
    """What may be treated as expired: whatever expired before this moment. Behind `now_ms`
    by the skew server processes may have, so that a process whose clock runs ahead never
    drops what a process whose clock runs behind stored with a short time to live."""
    return now_ms() - limits.MAX_CLOCK_SKEW_SECONDS * 1000


def monotonic() -> float:
    """Seconds from a clock that never goes backwards (rate limits, timeouts)."""
    return time.monotonic()
