"""Preparing the transparency report for publication, shared by `haven transparency
report` and the console: the whole audit log must verify before a single figure is
computed from it, and the figures come from exactly the rows that were verified. Also the
account actions over time inside a period, for the console's charts."""

from __future__ import annotations

import datetime as dt
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from haven.safety import auditlog, transparency
from haven.store.interfaces import AuditHeadRow, AuditRow


def verified_report(
    rows: list[AuditRow],
    heads: list[AuditHeadRow],
    period: transparency.Period,
    public_key: Ed25519PublicKey,
    *,
    allow_unsealed: bool = False,
) -> transparency.Report:
    """The report for `period`; raises `TransparencyError` if the log does not verify or
    the report cannot be computed honestly (see `transparency.compute`)."""
    verified = auditlog.check(rows, heads, public_key)
    if not verified.ok:
        raise transparency.TransparencyError(
            f"the audit log does not verify ({verified.problem}); no report was written. "
            "Run `haven audit verify` for details."
        )
    return transparency.compute(
        rows, heads, period, public_key=public_key, allow_unsealed=allow_unsealed
    )


def _utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def buckets(period: transparency.Period) -> list[tuple[str, int, int]]:
    """(label, start_ms, end_ms): the months of a year or quarter, the days of a month."""
    start, end = _utc(period.start_ms), _utc(period.end_ms)
    found = []
    moment = start
    monthly = (end - start).days > 31
    while moment < end:
        if monthly:
            after = (moment.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            label = moment.strftime("%Y-%m")
        else:
            after = moment + dt.timedelta(days=1)
            label = moment.strftime("%d")
        found.append((label, int(moment.timestamp() * 1000), int(after.timestamp() * 1000)))
        moment = after
    return found


def actions_over_time(rows: list[AuditRow], period: transparency.Period) -> list[tuple[str, int]]:
    """How many account actions were taken in each month (or day) of `period`."""
    spans = buckets(period)
    counts = [0] * len(spans)
    for row in rows:
        if row.kind != "account_action":
            continue
        try:
            at = json.loads(row.data).get("at")
        except (ValueError, AttributeError):
            continue
        if isinstance(at, bool) or not isinstance(at, int) or at not in period:
            continue
        for index, (_, start, end) in enumerate(spans):
            if start <= at < end:
                counts[index] += 1
                break
    return [(label, count) for (label, _, _), count in zip(spans, counts, strict=True)]
