"""Shared bench plumbing: result records, percentiles, starting a Haven server process."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / ".anchors"


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
def haven_server(data_dir: Path, db: str, **env: str) -> Iterator[tuple[str, int]]:
    """A `haven server` process with rate limits off (we measure throughput, not limits).
    Yields (base URL, pid)."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "server.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "haven", "server", "--data-dir", str(data_dir), "--db", db,
         "--port", str(port), "--host", "127.0.0.1"],
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


def pip_anchor(name: str, requirement: str, probe: str, timeout: float = 600.0) -> Path:
    """The Python of a venv under WORK holding `requirement`, made and filled on first use
    (`probe` is an import that shows it is installed)."""
    venv = WORK / f"{name}-venv"
    python = venv / "bin" / "python"
    try:
        if not python.exists():
            WORK.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [sys.executable, "-m", "venv", str(venv)],
                capture_output=True, check=True, timeout=timeout,
            )  # fmt: skip
        found = subprocess.run([str(python), "-c", probe], capture_output=True, timeout=120)
        if found.returncode != 0:
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
