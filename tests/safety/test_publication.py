"""A report is only computed from a log that verifies; actions over time add up."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from haven.merkle.hashing import leaf_hash
from haven.safety import auditlog, publication, transparency
from haven.safety.records import audit_entry
from haven.store.interfaces import AuditRow


def ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC).timestamp() * 1000)


def rows(*entries: tuple[str, int, dict[str, str]]) -> list[AuditRow]:
    found = []
    for seq, (kind, at, fields) in enumerate(entries, start=1):
        entry = audit_entry(kind, at, **fields)
        found.append(AuditRow(seq, at, kind, entry.data, entry.leaf_hash))
    return found


def test_months_of_a_quarter_and_days_of_a_month() -> None:
    quarter = publication.buckets(transparency.Period.parse("2026-Q4"))
    assert [label for label, _, _ in quarter] == ["2026-10", "2026-11", "2026-12"]
    assert len(publication.buckets(transparency.Period.parse("2026-02"))) == 28
    year = publication.buckets(transparency.Period.parse("2026"))
    assert year[0][1] == ms(2026, 1, 1)
    assert year[-1][2] == ms(2027, 1, 1)


def test_actions_over_time_counts_only_account_actions_in_the_period() -> None:
    log = rows(
        ("account_action", ms(2026, 10, 3), {"action": "warn"}),
        ("account_action", ms(2026, 12, 31, 23, 59), {"action": "ban"}),
        ("appeal", ms(2026, 11, 5), {}),
        ("account_action", ms(2027, 1, 1), {"action": "ban"}),
    )
    over_time = publication.actions_over_time(log, transparency.Period.parse("2026-Q4"))
    assert over_time == [("2026-10", 1), ("2026-11", 0), ("2026-12", 1)]


def test_a_log_that_does_not_verify_gives_no_report() -> None:
    key = Ed25519PrivateKey.generate()
    log = rows(("account_action", ms(2026, 10, 3), {"action": "warn", "reason": "spam"}))
    period = transparency.Period.parse("2026-Q4")
    draft = publication.verified_report(log, [], period, key.public_key(), allow_unsealed=True)
    assert draft.figures["actions_by_type"]["warn"] == 1
    with pytest.raises(transparency.UnsealedError):
        publication.verified_report(log, [], period, key.public_key())
    tampered = [AuditRow(1, log[0].created_at, "account_action",
                         log[0].data.replace("warn", "ban"), leaf_hash(b"x"))]  # fmt: skip
    other = Ed25519PrivateKey.generate()
    with pytest.raises(transparency.TransparencyError, match="does not verify"):
        publication.verified_report(tampered, [], period, other.public_key())
    assert auditlog.check(log, [], key.public_key()).ok
