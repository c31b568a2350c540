"""QR codes for codes people carry between devices (link and approval codes; relay invites
later): drawn in the terminal, and written as a PNG on request. segno: pure Python, no
image library needed."""

from __future__ import annotations

import io
from pathlib import Path

import segno


def terminal(text: str) -> str:
    code = segno.make(text, error="m")
    out = io.StringIO()
    code.terminal(out=out, compact=True)
    return out.getvalue()


def save_png(text: str, path: Path) -> None:
    segno.make(text, error="m").save(str(path), kind="png", scale=6, border=4)
