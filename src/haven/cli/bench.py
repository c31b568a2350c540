"""`haven bench [NAME...]`: run benchmarks beside their anchors and rewrite BENCHMARKS.md.

The benchmarks live in the source tree (`bench/`), not in the installed package: they
install their anchors (Synapse, stix2, gglsbl, HAProxy) into their own environments."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from haven.cli.common import fail

NAMES = ("delivery", "e2ee", "intel", "linkguard", "relay", "merkle")
SOURCE_ROOT = Path(__file__).resolve().parents[3]


def bench(
    names: Annotated[
        list[str] | None,
        typer.Argument(help=f"Which benchmarks (default: all): {', '.join(NAMES)}."),
    ] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Smaller runs (a smoke test).")] = False,
) -> None:
    """Run benchmarks, each beside its anchor on this machine, and rewrite BENCHMARKS.md
    (results of benchmarks not run this time are kept from their last run)."""
    unknown = [n for n in names or [] if n not in NAMES]
    if unknown:
        raise typer.BadParameter(f"unknown: {', '.join(unknown)}", param_hint="NAME")
    if not (SOURCE_ROOT / "bench" / "run.py").exists():
        fail("the benchmarks come with Haven's source tree (bench/), not with this install")
    command = [sys.executable, "-m", "bench.run", *(names or []), *(["--quick"] if quick else [])]
    raise typer.Exit(subprocess.call(command, cwd=SOURCE_ROOT))  # noqa: S603 - fixed argv
