"""Is a burst of reports against one account a coordinated campaign? Pure decision logic
(no I/O), so every threshold can be tested exhaustively.

Mass reporting is how coordinated networks get the accounts of journalists and activists
suspended. Three signals give it away, each counted over the reports of one window:

- fresh accounts: reporters whose accounts were only days old when they reported;
- a burst: many distinct reporters within minutes of each other;
- overlap: reporters who also reported the same other accounts as each other (a network
  working through a list of targets).

A window with too few distinct reporters is never a campaign, whatever it looks like: one
person's or a few people's reports are just reports. Nothing here acts on an account; a
flag only tells moderators what they are looking at.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from haven.core import limits


@dataclass(frozen=True)
class Report:
    reporter: str
    reporter_created_at: int  # ms
    reported_at: int  # ms


@dataclass(frozen=True)
class Thresholds:
    window_ms: int = limits.CAMPAIGN_WINDOW_SECONDS * 1000
    min_reporters: int = limits.CAMPAIGN_MIN_REPORTERS
    fresh_account_ms: int = limits.CAMPAIGN_FRESH_ACCOUNT_SECONDS * 1000
    burst_ms: int = limits.CAMPAIGN_BURST_SECONDS * 1000
    fresh_share: float = 0.5  # of reporters fresh: a campaign of new accounts
    overlap_share: float = 0.5  # of reporters co-reporting other targets: a network


@dataclass(frozen=True)
class Assessment:
    flag: bool
    window_start: int
    window_end: int
    reports: int
    reporters: int
    fresh_reporters: int
    median_reporter_age_ms: int
    burst: int  # the most distinct reporters whose first report fell in one burst span
    overlap: float  # 0..1
    signals: tuple[str, ...]  # "fresh_accounts", "burst", "overlap"
    reporter_accounts: tuple[str, ...]  # in order of their first report


def _largest_burst(times: Sequence[int], span_ms: int) -> int:
    ordered = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] > span_ms:
            start += 1
        best = max(best, end - start + 1)
    return best


def _overlap(reporters: Sequence[str], other_targets: Mapping[str, frozenset[str]]) -> float:
    """The share of reporters who reported some other account that another of these
    reporters reported too."""
    if not reporters:
        return 0.0
    shared = Counter(t for r in reporters for t in other_targets.get(r, frozenset()))
    overlapping = sum(
        1 for r in reporters if any(shared[t] >= 2 for t in other_targets.get(r, frozenset()))
    )
    return overlapping / len(reporters)


def assess(
    reports: Sequence[Report],
    other_targets: Mapping[str, frozenset[str]],
    now: int,
    thresholds: Thresholds = Thresholds(),
) -> Assessment:
    """The window's figures and whether they look like a coordinated campaign."""
    start = now - thresholds.window_ms
    in_window = sorted(
        (r for r in reports if start <= r.reported_at <= now),
        key=lambda r: (r.reported_at, r.reporter, r.reporter_created_at),  # a total order
    )
    first: dict[str, Report] = {}
    for report in in_window:
        first.setdefault(report.reporter, report)
    reporters = tuple(first)
    ages = [max(0, r.reported_at - r.reporter_created_at) for r in first.values()]
    fresh = sum(1 for age in ages if age < thresholds.fresh_account_ms)
    burst = _largest_burst([r.reported_at for r in first.values()], thresholds.burst_ms)
    overlap = _overlap(reporters, other_targets)
    signals: list[str] = []
    if reporters and fresh / len(reporters) >= thresholds.fresh_share:
        signals.append("fresh_accounts")
    if burst >= thresholds.min_reporters:
        signals.append("burst")
    if reporters and overlap >= thresholds.overlap_share:
        signals.append("overlap")
    return Assessment(
        flag=len(reporters) >= thresholds.min_reporters and bool(signals),
        window_start=start,
        window_end=now,
        reports=len(in_window),
        reporters=len(reporters),
        fresh_reporters=fresh,
        median_reporter_age_ms=int(statistics.median(ages)) if ages else 0,
        burst=burst,
        overlap=overlap,
        signals=tuple(signals),
        reporter_accounts=reporters,
    )
