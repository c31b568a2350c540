"""Haven's default feed: the published indicator sets shipped inside the package, unmodified,
with their licences and attribution (feed/SOURCES.md, feed/SHA256SUMS)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from haven.intel.merge import data_files

FEED = Path(__file__).with_name("feed")


def files() -> list[Path]:
    return data_files(FEED)


def verify() -> list[str]:
    """Files whose content no longer matches SHA256SUMS (empty when the copy is intact)."""
    bad = []
    for line in (FEED / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        path = FEED / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            bad.append(name)
    return bad
