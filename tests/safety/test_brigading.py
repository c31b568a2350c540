"""The brigading guard's decision: a mass of reports from new accounts, or from a network
acting together, is flagged; ordinary reports are not; a handful never is."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from haven.safety.brigading import Assessment, Report, Thresholds, assess

DAY = 24 * 3600 * 1000
MINUTE = 60 * 1000
NOW = 400 * DAY
RULES = Thresholds()


def report(reporter: int, age_days: float, minutes_ago: float) -> Report:
    at = NOW - int(minutes_ago * MINUTE)
    return Report(f"r{reporter}", at - int(age_days * DAY), at)


def test_fifty_fresh_accounts_in_minutes_is_a_campaign() -> None:
    found = assess([report(n, 0.5, n * 0.2) for n in range(50)], {}, NOW)
    assert found.flag
    assert (found.reports, found.reporters, found.fresh_reporters) == (50, 50, 50)
    assert set(found.signals) == {"fresh_accounts", "burst"}
    assert found.median_reporter_age_ms == DAY // 2


def test_old_accounts_reporting_over_a_day_are_not() -> None:
    found = assess([report(n, 300 + n, n * 200) for n in range(7)], {}, NOW)
    assert not found.flag
    assert (found.reporters, found.fresh_reporters, found.signals) == (7, 0, ())


def test_a_network_that_co_reports_other_targets_is_flagged_even_when_old_and_slow() -> None:
    reports = [report(n, 500, n * 120) for n in range(6)]
    others = {f"r{n}": frozenset({"another-journalist"}) for n in range(6)}
    found = assess(reports, others, NOW)
    assert found.flag
    assert found.signals == ("overlap",)
    assert found.overlap == 1.0
    # Each reporter reporting someone different is no network.
    alone = {f"r{n}": frozenset({f"target-{n}"}) for n in range(6)}
    assert not assess(reports, alone, NOW).flag


def test_reports_outside_the_window_and_repeat_reporters_are_not_counted() -> None:
    stale = [report(n, 0.1, RULES.window_ms / MINUTE + 5) for n in range(20)]
    repeats = [report(1, 0.1, m) for m in range(20)]
    found = assess(stale + repeats, {}, NOW)
    assert (found.reports, found.reporters, found.flag) == (20, 1, False)


reports_strategy = st.lists(
    st.builds(
        report,
        st.integers(0, 30),
        st.floats(0, 400, allow_nan=False),
        st.floats(0, 2000, allow_nan=False),
    ),
    max_size=80,
)
others_strategy = st.dictionaries(
    st.integers(0, 30).map(lambda n: f"r{n}"),
    st.frozensets(st.sampled_from(["a", "b", "c", "d"]), max_size=2),
)


@given(reports_strategy, others_strategy)
def test_figures_are_consistent_and_too_few_reporters_never_flag(
    reports: list[Report], others: dict[str, frozenset[str]]
) -> None:
    found = assess(reports, others, NOW)
    assert 0 <= found.fresh_reporters <= found.reporters <= found.reports <= len(reports)
    assert found.burst <= found.reporters
    assert 0.0 <= found.overlap <= 1.0
    assert len(set(found.reporter_accounts)) == found.reporters
    if found.reporters < RULES.min_reporters:
        assert not found.flag
    assert found.flag == (found.reporters >= RULES.min_reporters and bool(found.signals))


@given(reports_strategy, others_strategy, st.randoms())
def test_the_order_reports_arrive_in_does_not_matter(
    reports: list[Report], others: dict[str, frozenset[str]], shuffler: object
) -> None:
    shuffled = list(reports)
    shuffler.shuffle(shuffled)  # type: ignore[attr-defined]

    def key(found: Assessment) -> tuple[object, ...]:
        figures = (found.reports, found.reporters, found.fresh_reporters, found.burst)
        return (found.flag, *figures, found.overlap, found.signals,
                sorted(found.reporter_accounts))  # fmt: skip

    assert key(assess(reports, others, NOW)) == key(assess(shuffled, others, NOW))


@given(st.integers(RULES.min_reporters, 60), st.floats(0, 6.9, allow_nan=False))
def test_enough_fresh_reporters_are_always_flagged(count: int, age_days: float) -> None:
    spread = [report(n, age_days, n * 30) for n in range(count)]  # slow, but all fresh
    found = assess(spread, {}, NOW)
    assert found.flag
    assert "fresh_accounts" in found.signals
