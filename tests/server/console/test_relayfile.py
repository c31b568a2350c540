"""The relay link file `haven up` leaves for the console."""

from __future__ import annotations

from pathlib import Path

from haven.server.console import relayfile


def test_only_a_relay_link_is_read(tmp_path: Path) -> None:
    assert relayfile.read(tmp_path) is None
    relayfile.path(tmp_path).write_text("haven://relay?host=h&port=1\n")
    assert relayfile.read(tmp_path) == "haven://relay?host=h&port=1"
    relayfile.path(tmp_path).write_text("https://evil.example/\n")
    assert relayfile.read(tmp_path) is None
