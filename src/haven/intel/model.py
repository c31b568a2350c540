"""What the importers produce: sightings of indicators, each with where it was seen, and
rejections naming the file, line and reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from haven.intel.normalise import Indicator, Kind


# Records are NamedTuples rather than frozen dataclasses: an import makes several per
# indicator, and a frozen dataclass costs about three times as much to construct.
class Origin(NamedTuple):
    publisher: str  # who published it (Meta, Amnesty International, MVT, ...)
    report: str  # which report or set within the publication
    file: str
    line: int  # 1-based line, or object number inside a JSON document


class Sighting(NamedTuple):
    raw: str
    hint: Kind | None
    origin: Origin
    first_seen: str | None = None
    tlp: str = "clear"
    note: str = ""


class Rejection(NamedTuple):
    file: str
    line: int
    value: str
    reason: str


@dataclass
class Merged:
    """One indicator with every source that published it (provenance merge)."""

    indicator: Indicator
    sources: list[Sighting] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "type": self.indicator.kind.value,
            "value": self.indicator.value,
            "sources": [
                {
                    "publisher": s.origin.publisher,
                    "report": s.origin.report,
                    "file": s.origin.file,
                    "line": s.origin.line,
                    "first_seen": s.first_seen,
                    "tlp": s.tlp,
                }
                for s in self.sources
            ],
        }
