"""Where `haven up` leaves the invite link of the relay it started, for the console's
relays page (the server never imports the relay: it only reads this file)."""

from __future__ import annotations

from pathlib import Path

FILE_NAME = "relay-link.txt"


def path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def read(data_dir: Path) -> str | None:
    try:
        text = path(data_dir).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text if text.startswith("haven://relay?") else None
