"""Bar charts drawn on the server as inline SVG (no chart library, no script): this module
only computes geometry; the template draws it, escaping every label."""

from __future__ import annotations

from dataclasses import dataclass

HEIGHT = 160
BAR_GAP = 4
LABEL_SPACE = 34


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: int
    y: int
    width: int
    height: int

    @property
    def tick(self) -> str:
        """The short text under the bar: "10" for 2026-10, at most 8 characters."""
        return self.label.rsplit("-", 1)[-1][:8]


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    bars: tuple[Bar, ...]
    baseline: int


def columns(title: str, values: list[tuple[str, int]], bar_width: int = 28) -> Chart:
    """Vertical bars, tallest scaled to the plot height."""
    top = max([value for _, value in values] + [1])
    plot = HEIGHT - LABEL_SPACE
    bars = []
    for index, (label, value) in enumerate(values):
        height = round(plot * value / top)
        x = BAR_GAP + index * (bar_width + BAR_GAP)
        bars.append(Bar(label, value, x, 14 + plot - height, bar_width, height))
    width = BAR_GAP + len(values) * (bar_width + BAR_GAP)
    return Chart(title, max(width, 120), HEIGHT, tuple(bars), 14 + plot)
