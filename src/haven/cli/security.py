"""What every client command shares about security: how signed notices and alerts look (their
own framed panel, never a line among messages, saying who signed them and where the
guidance is) and how a registration lock is read (from a file, else a hidden prompt)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from haven.client import awareness
from haven.client import protection as protect
from haven.client.api import ApiError, Unreachable
from haven.client.messenger import Messenger

LockFile = Annotated[
    Path | None,
    typer.Option(
        "--lock-file",
        help="Read the registration lock from this file (else prompt). It never leaves "
        "this device: only a proof derived from it does.",
    ),
]


def read_lock(file: Path | None, prompt: str = "Registration lock", confirm: bool = False) -> str:
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8").rstrip("\n")
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {file}: {exc.strerror}") from None
        if not text:
            raise typer.BadParameter(f"the lock file {file} is empty")
        return text
    value: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return value


def panel(item: dict[str, Any], this_device: bool = False) -> Panel:
    """A verified notice or alert, framed; its text escaped (no markup from anywhere)."""
    about = "\n\n(about this device)" if this_device else ""
    return Panel(
        escape(item["body"]) + about + "\n\n" + escape(awareness.pointer()),
        title=f"[bold]{protect.label(item)}[/]: {escape(item['title'])}",
        subtitle="signature verified",
        border_style="bold yellow",
    )


def show(console: Console, messenger: Messenger, items: list[dict[str, Any]]) -> None:
    for item in items:
        if not item["verified"]:
            console.print(f"[bold red]refused[/]: {escape(item['error'])}", highlight=False)
        else:
            console.print(panel(item, protect.about_this_device(messenger, item)), highlight=False)


async def fresh(messenger: Messenger) -> list[dict[str, Any]]:
    """Alerts not shown on this device yet; none when the server cannot say (the messages
    fetched already are shown anyway)."""
    with contextlib.suppress(Unreachable, ApiError):
        return await protect.new_alerts(messenger)
    return []
