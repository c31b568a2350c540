"""Shared bench plumbing: run sizes, which anchors may be installed, result records,
percentiles, starting a Haven server process."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import httpx

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / ".anchors"

# How big a run is: "full" for BENCHMARKS.md, "quick" for a look while developing, "smoke"
# for CI (every code path, anchors included when present, in seconds; figures meaningless).
Scale = Literal["full", "quick", "smoke"]

# Which anchors a run may install when they are missing: "all" (default), "pip" (only the
# quick pip installs, stix2 and gglsbl; Synapse, sigstore, HAProxy and libsignal's npm tree
# are skipped: a smoke run uses them only when already there) or "none".
INSTALL_ENV = "HAVEN_BENCH_INSTALL"


def may_install(kind: Literal["pip", "heavy"]) -> bool:
    policy = os.environ.get(INSTALL_ENV, "all")
    return policy == "all" or (policy == "pip" and kind == "pip")


def not_installing(what: str) -> str:
    """The skip reason for an anchor that is missing and may not be installed now."""
    return f"{what} is not installed and {INSTALL_ENV}={os.environ.get(INSTALL_ENV)} says not to"


def raise_fd_limit() -> int:
    """Let this process (and the servers it starts, which inherit it) hold as many sockets
    as the hard limit allows; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass
class Throughput:
    messages: int
    seconds: float
    msgs_per_s: float
    p50_ms: float
    p99_ms: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summarise(latencies_ms: list[float], seconds: float) -> Throughput:
    return Throughput(
        messages=len(latencies_ms),
        seconds=round(seconds, 3),
        msgs_per_s=round(len(latencies_ms) / seconds, 1) if seconds > 0 else 0.0,
        p50_ms=round(percentile(latencies_ms, 50), 2),
        p99_ms=round(percentile(latencies_ms, 99), 2),
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def haven_server(
    data_dir: Path, db: str, args: Sequence[str] = (), **env: str
) -> Iterator[tuple[str, int]]:
    """A `haven server` process with rate limits off (we measure throughput, not limits);
    `args` are more `haven server` options (e.g. --redis). Yields (base URL, pid)."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "server.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "haven", "server", "--data-dir", str(data_dir), "--db", db,
         "--port", str(port), "--host", "127.0.0.1", *args],
        stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "HAVEN_RATE_LIMITS": "false", "HAVEN_LOG_LEVEL": "warning", **env},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"haven server exited; see {data_dir / 'server.log'}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/v1/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("haven server did not become healthy in 60 s")
            time.sleep(0.1)
        yield url, proc.pid
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


class AnchorUnavailable(RuntimeError):
    """An anchor could not be installed or run here: its row says so and is skipped."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def pip_anchor(
    name: str, requirement: str, probe: str, timeout: float = 600.0, heavy: bool = False
) -> Path:
    """The Python of a venv under WORK holding `requirement`, made and filled on first use
    (`probe` is an import that shows it is installed). `heavy`: an install that takes long
    (many dependencies), which a smoke run does not make."""
    venv = WORK / f"{name}-venv"
    python = venv / "bin" / "python"
    kind: Literal["pip", "heavy"] = "heavy" if heavy else "pip"
    if not python.exists() and not may_install(kind):
        raise AnchorUnavailable(not_installing(requirement))
    try:
        if not python.exists():
            WORK.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [sys.executable, "-m", "venv", str(venv)],
                capture_output=True, check=True, timeout=timeout,
            )  # fmt: skip
        found = subprocess.run([str(python), "-c", probe], capture_output=True, timeout=120)
        if found.returncode != 0:
            if not may_install(kind):
                raise AnchorUnavailable(not_installing(requirement))
            install = subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", requirement],
                capture_output=True, text=True, timeout=timeout,
            )  # fmt: skip
            if install.returncode != 0:
                raise AnchorUnavailable(
                    f"pip install {requirement} failed: {install.stderr[-300:]}"
                )
    except (OSError, subprocess.SubprocessError) as exc:
        raise AnchorUnavailable(f"could not set up the {name} venv: {exc}") from exc
    return python
