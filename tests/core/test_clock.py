"""The clock: an offset for tests of skewed processes, and expiry that allows for skew."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from haven.core import clock, limits


def _now_in_a_process_with(offset: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import time; from haven.core import clock; print(clock.now_ms() - time.time_ns() // 10**6)"
    )
    env = {**os.environ, clock.OFFSET_VARIABLE: offset}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("offset", [300_000, -300_000])
def test_an_offset_shifts_the_wall_clock_of_its_process_only(offset: int) -> None:
    shifted = _now_in_a_process_with(str(offset))
    assert shifted.returncode == 0, shifted.stderr
    # Near the offset (the two clock reads are a few statements apart), far from zero.
    assert abs(int(shifted.stdout) - offset) < 60_000
    assert abs(clock.now_ms() - time.time_ns() // 1_000_000) < 60_000  # this one: unshifted


def test_a_malformed_offset_is_refused_by_name() -> None:
    refused = _now_in_a_process_with("five minutes")
    assert refused.returncode != 0
    assert f"{clock.OFFSET_VARIABLE} must be a whole number of milliseconds" in refused.stderr


def test_expiry_allows_for_the_clock_skew_between_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(clock, "now_ms", lambda: 10_000_000)
    assert clock.expiry_cutoff_ms() == 10_000_000 - limits.MAX_CLOCK_SKEW_SECONDS * 1000
