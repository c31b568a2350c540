"""Provenance merge: the same (type, normalised value) from many sources is one indicator
that carries every source."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from haven.intel import parsers
from haven.intel.model import Merged, Rejection, Sighting
from haven.intel.normalise import Indicator, Rejected, normalise


class Collection:
    def __init__(self) -> None:
        self.indicators: dict[Indicator, Merged] = {}
        self.rejected: list[Rejection] = []
        self.sightings = 0

    def add(self, item: Sighting | Rejection) -> None:
        if isinstance(item, Rejection):
            self.rejected.append(item)
            return
        self.sightings += 1
        try:
            indicator = normalise(item.raw, item.hint)
        except Rejected as exc:
            self.rejected.append(
                Rejection(item.origin.file, item.origin.line, item.raw[:200], exc.reason)
            )
            return
        merged = self.indicators.get(indicator)
        if merged is None:
            self.indicators[indicator] = Merged(indicator, [item])
        elif all(item.origin != s.origin for s in merged.sources):
            merged.sources.append(item)

    def merged(self) -> list[Merged]:
        return sorted(self.indicators.values(), key=lambda m: m.indicator)


def collect(
    paths: Iterable[Path],
    fmt: str | None = None,
    publisher: str | None = None,
    progress: Callable[[Path], None] | None = None,
) -> Collection:
    """Parse and normalise every file; a file that cannot be read at all raises
    ParseError naming it (the caller decides whether that stops everything)."""
    collection = Collection()
    for path in paths:
        for item in parsers.parse(path, fmt, publisher):
            collection.add(item)
        if progress is not None:
            progress(path)
    return collection


def data_files(root: Path) -> list[Path]:
    """The indicator files under `root` (licences, READMEs and rules are not indicators)."""
    skip_names = {
        "license",
        "readme.md",
        "license-note.md",
        "sources.md",
        "sha256sums",
        "index.json",
    }
    wanted = {".csv", ".tsv", ".json", ".stix2", ".txt", ".md", ".zip", ".gz"}
    files = [
        p
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and p.suffix.lower() in wanted
        and p.name.lower() not in skip_names
        and "/tsv/" not in p.as_posix()  # Meta's TSVs repeat its CSVs
    ]
    return files
