"""Chart geometry: bars in proportion, all inside the drawing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from haven.server.console import charts


def test_bars_are_proportional_to_their_values() -> None:
    chart = charts.columns("t", [("a", 10), ("b", 5), ("c", 0)])
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 2 * heights[1]
    assert heights[2] == 0
    assert all(bar.y + bar.height == chart.baseline for bar in chart.bars)


@given(st.lists(st.tuples(st.text(max_size=20), st.integers(0, 10**9)), max_size=40))
def test_every_bar_fits_inside_the_chart(values: list[tuple[str, int]]) -> None:
    chart = charts.columns("t", values)
    for bar in chart.bars:
        assert 0 <= bar.y <= chart.baseline <= chart.height
        assert bar.x + bar.width <= chart.width


def test_ticks_are_short() -> None:
    chart = charts.columns("t", [("2026-10", 1), ("revoke_device", 2), ("03", 0)])
    assert [bar.tick for bar in chart.bars] == ["10", "revoke_d", "03"]
