from __future__ import annotations

from pathlib import Path

from haven.cli import qr


def test_terminal_qr_is_drawn_with_block_characters() -> None:
    drawing = qr.terminal("HAVEN-LINK1:" + "A" * 150)
    lines = drawing.splitlines()
    assert len(lines) > 20
    assert set("".join(lines)) <= {"█", "▀", "▄", " "}


def test_png_is_written(tmp_path: Path) -> None:
    target = tmp_path / "code.png"
    qr.save_png("HAVEN-APPROVAL1:abc", target)
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
