"""Options and helpers every `haven` sub-command shares."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from haven.core import config
from haven.core.errors import HavenError

T = TypeVar("T")

out = Console()
err = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Where Haven keeps its SQLite database and state.",
        show_default="./haven-data",
    ),
]
ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config", help="TOML file with settings (HAVEN_* environment variables override it)."
    ),
]
DbUrl = Annotated[
    str | None,
    typer.Option("--db", help="Database URL: sqlite:///path or postgresql://user@host/db."),
]


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def load_config(file: Path | None, **overrides: Any) -> config.Config:
    try:
        return config.load(file=file, overrides=overrides)
    except config.ConfigError as exc:
        fail(str(exc), code=2)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine for a command, turning Haven errors into a clean message."""
    try:
        return asyncio.run(coro)
    except HavenError as exc:
        fail(exc.message)
    except OSError as exc:
        fail(f"{exc.strerror or exc}")


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
