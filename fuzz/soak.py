"""`make soak`: every harness under atheris for a bounded time, then one table of what was
tried and what was found.

libFuzzer stops at the first crash or hang. A soak should spend its whole budget, so a
harness that stops early is started again on the corpus it has grown so far (the time
already spent counts); a defect that keeps coming back (same exception, same place, ten
times) ends that harness's run rather than eating the rest of its budget. Findings are
written beside the corpora in OUT/<harness>-crash-* and OUT/<harness>-timeout-*.

    python -m fuzz.soak [--seconds 60] [--timeout 10] [--out DIR] [NAME ...]

Exits 1 if anything was found, 2 if atheris is missing.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from fuzz import HARNESSES, MISSING_ATHERIS

SEEDS = Path(__file__).parent / "corpus"
REPEATS_BEFORE_GIVING_UP = 10
_EXECUTED = re.compile(r"^stat::number_of_executed_units:\s*(\d+)", re.MULTILINE)
_ARTIFACT = re.compile(r"Test unit written to (\S+)")
_HAVEN_FRAME = re.compile(r'File "([^"]*/haven/[^"]+)", line (\d+)')


@dataclass
class Finding:
    kind: str  # "crash" (an exception outside the contract, or a broken property) or "timeout"
    what: str  # the exception line, or where it hung
    where: str  # the innermost Haven frame
    artifact: str
    seen: int = 1


@dataclass
class Outcome:
    name: str
    seconds: float = 0.0
    executed: int = 0
    starts: int = 0
    findings: dict[tuple[str, str, str], Finding] = field(default_factory=dict)
    stopped_early: str = ""
    broken: bool = False  # libFuzzer itself failed (no input to blame)


def _signature(log: str) -> tuple[str, str, str] | None:
    """(kind, what, where) of the defect a libFuzzer run ended on; None if it did not."""
    if "=== Uncaught Python exception: ===" in log:
        after = log.split("=== Uncaught Python exception: ===", 1)[1].strip().splitlines()
        what = after[0] if after else "?"
        frames = _HAVEN_FRAME.findall(log.split("=== Uncaught Python exception: ===", 1)[1])
        where = f"{frames[-1][0].split('/haven/', 1)[1]}:{frames[-1][1]}" if frames else "?"
        return "crash", what, where
    if "ERROR: libFuzzer: timeout" in log:
        stack = log.split("Current thread", 1)[-1]
        frames = _HAVEN_FRAME.findall(stack)
        where = f"{frames[0][0].split('/haven/', 1)[1]}:{frames[0][1]}" if frames else "?"
        return "timeout", "no answer within the time limit", where
    if "ERROR: libFuzzer" in log:
        line = next(ln for ln in log.splitlines() if "ERROR: libFuzzer" in ln)
        return "crash", line.strip(), "?"
    return None


def soak(name: str, seconds: float, timeout: int, out: Path) -> Outcome:
    outcome = Outcome(name)
    corpus = out / name
    corpus.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) >= 1:
        outcome.starts += 1
        started = time.monotonic()
        # The first corpus directory is where libFuzzer adds what it finds: the working
        # one, never the seeds in the repository.
        command = [
            sys.executable, "-m", "fuzz", name, str(corpus), str(SEEDS / name),
            f"-max_total_time={int(left)}", f"-timeout={timeout}", "-print_final_stats=1",
            f"-artifact_prefix={out / name}-", "-rss_limit_mb=2048",
        ]  # fmt: skip
        run = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        outcome.seconds += time.monotonic() - started
        log = run.stdout + run.stderr
        outcome.executed += sum(int(n) for n in _EXECUTED.findall(log))
        with (out / f"{name}.log").open("a") as kept:
            kept.write(log)
        if run.returncode == 0:
            break
        signature = _signature(log)
        if signature is None:
            outcome.stopped_early = f"libFuzzer exited {run.returncode}; see {out / name}.log"
            outcome.broken = True
            break
        artifact = (_ARTIFACT.findall(log) or ["?"])[-1]
        # One defect, one row: the same exception type at the same place, whatever bytes
        # or positions its message names this time.
        key = (signature[0], signature[1].split(":", 1)[0], signature[2])
        known = outcome.findings.get(key)
        if known is None:
            outcome.findings[key] = Finding(*signature, artifact)
        else:
            known.seen += 1
            if known.seen >= REPEATS_BEFORE_GIVING_UP:
                outcome.stopped_early = f"stopped: hit the same {signature[0]} {known.seen} times"
                break
    return outcome


def report(outcomes: list[Outcome]) -> str:
    lines = [
        "| harness | seconds | inputs tried | starts | findings |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for o in outcomes:
        found = "; ".join(
            f"{f.kind} x{f.seen}: {f.what} at {f.where} ({f.artifact})" for f in o.findings.values()
        )
        note = f" ({o.stopped_early})" if o.stopped_early else ""
        lines.append(
            f"| {o.name} | {o.seconds:.0f} | {o.executed:,} | {o.starts} | "
            f"{found or 'none'}{note} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz.soak", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"harnesses (default: all of {HARNESSES})")
    parser.add_argument("--seconds", type=float, default=60.0, help="per harness")
    parser.add_argument("--timeout", type=int, default=10, help="seconds one input may take")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir(), "haven-soak"))
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in HARNESSES]
    if unknown:
        parser.error(f"no harness {', '.join(unknown)}: choose from {', '.join(HARNESSES)}")
    if importlib.util.find_spec("atheris") is None:
        print(f"make soak: {MISSING_ATHERIS}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    outcomes = []
    for name in args.names or HARNESSES:
        print(f"soak: {name} for {args.seconds:.0f} s ...", flush=True)
        outcomes.append(soak(name, args.seconds, args.timeout, args.out))
    table = report(outcomes)
    (args.out / "summary.md").write_text(table)
    print(table, end="")
    print(f"corpora, logs and findings: {args.out}")
    return 1 if any(o.findings or o.broken for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
