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

NAMES = ("delivery", "e2ee", "intel", "linkguard", "relay", "merkle", "scaling")
SOURCE_ROOT = Path(__file__).resolve().parents[3]


def bench(
    names: Annotated[
        list[str] | None,
        typer.Argument(help=f"Which benchmarks (default: all): {', '.join(NAMES)}."),
    ] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Smaller runs, for a look.")] = False,
    smoke: Annotated[
        bool,
        typer.Option(
            "--smoke",
            help="Every benchmark at a tiny size, in seconds, to check they still run; "
            "BENCHMARKS.md is left alone.",
        ),
    ] = False,
) -> None:
    """Run benchmarks, each beside its anchor on this machine, and rewrite BENCHMARKS.md
    (results of benchmarks not run this time are kept from their last run)."""
    unknown = [n for n in names or [] if n not in NAMES]
    if unknown:
        raise typer.BadParameter(f"unknown: {', '.join(unknown)}", param_hint="NAME")
    if quick and smoke:
        raise typer.BadParameter("--quick or --smoke, not both", param_hint="--smoke")
    if not (SOURCE_ROOT / "bench" / "run.py").exists():
        fail("the benchmarks come with Haven's source tree (bench/), not with this install")
    size = ["--quick"] if quick else ["--smoke"] if smoke else []
    command = [sys.executable, "-m", "bench.run", *(names or []), *size]
    raise typer.Exit(subprocess.call(command, cwd=SOURCE_ROOT))  # noqa: S603 - fixed argv
