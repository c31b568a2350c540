"""py-spy profiles of a server process, for the benchmark rows that miss their target.

`recording(pid, name)` samples the process while a measurement runs and writes a flamegraph
to docs/bench/profile-NAME.svg; the same samples, as collapsed stacks, are summed here into
where the process spent its time: by package (the frame running when sampled) and by
frame. `render_missed` turns that into the BENCHMARKS.md section that names each row
missing its target, links its flamegraph and gives its reading.

py-spy samples from outside (`--nonblocking`: the server is never paused), 100 times a
second; it costs a little CPU of its own, so a profiled run is never the one whose figures
go into a row.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import ROOT

PROFILES = ROOT / "docs" / "bench"
RATE_HZ = 100
TOP = 12

_HTTP_READING = (
    "Where the time goes (reading of the 2026-11-23 profiles): about a quarter of the "
    "server's samples are the database write of the send and of the acks. The group commit "
    "has little to group here, as each of the 8 HTTP senders waits for its reply, so at "
    "most 8 sends share a transaction. Another quarter is the HTTP request itself: eight "
    "ASGI middleware layers (error handling, body limits, per-address limits, console "
    "headers), FastAPI solving the route's dependencies (the bearer token and the server "
    "state: about a tenth alone) and pydantic validating the body and writing the reply. "
    "The event loop's own socket work is most of the rest. A plain function as a "
    "dependency used to cost a thread hop per request (FastAPI runs those on a worker "
    "thread); that is gone. Reaching 10x Synapse on this route would need a lighter HTTP "
    "stack than FastAPI's per request; clients that keep a stream open send with `send` "
    "frames on it instead, the row that meets the target."
)
_STREAM_READING = (
    "Where the time goes (reading of the 2026-11-23 profiles). Before that day's changes, "
    "about a quarter of the server's samples re-read from the database envelopes it had "
    "itself just written (one `pending` query per wake-up, and a second from the queue's "
    "head when that found nothing), and every batch of sends looked its recipients' "
    "owners up again. Now the queue store hands each committed envelope, with its queue "
    "position, to the bus, which gives it to the recipient's open stream "
    "(`Listener.hand`/`take`), and known device owners are remembered: those reads are "
    "gone. What is left is spread thin: the largest single block (about a fifth) is "
    "uvicorn's `transport.write`, one socket write per WebSocket frame (each envelope "
    "pushed, each `sent` reply), time spent in the kernel's loopback path; then "
    "SQLAlchemy's per-statement work around the group-committed inserts and deletes, "
    "pydantic parsing and writing the frames, and asyncio. No single hot spot remains; "
    "more would need fewer frames per message (several envelopes per frame: a protocol "
    "change) or a lighter SQL layer than SQLAlchemy Core on the hot path."
)
_RELAY_READING = (
    "Where the time goes (reading of the 2026-12-07 profile of 100 streams): about two "
    "fifths of the relay's samples are OpenSSL encrypting and decrypting the client leg "
    "(`SSLObject.read`/`write`), work HAProxy does too; about three tenths are uvloop's own "
    "socket calls, which py-spy, seeing no Python frame inside them, books to "
    "`Runner.run`; the rest is the relay's Python per read: forwarding a chunk "
    "(`Splice.forward`), wrapping it in TLS records (`ClientSide.send`) and counting bytes."
)
# A reading of a profile that numbers alone do not give, by profile name: what the biggest
# blocks are and what was done about them. Written from the flamegraphs of the run noted.
READINGS: dict[str, str] = {
    "delivery-sqlite-http": _HTTP_READING,
    "delivery-postgresql-http": _HTTP_READING
    + " On PostgreSQL each transaction is also a network round trip to the database, "
    "which the server's event loop waits out while holding the group commit's batch.",
    "relay-single_stream": _RELAY_READING,
    "relay-streams_100": _RELAY_READING,
    "delivery-sqlite-ws": _STREAM_READING,
    "delivery-postgresql-ws": _STREAM_READING
    + " On PostgreSQL the statements go through asyncpg and SQLAlchemy's asyncio bridge "
    "(a greenlet switch per statement), and PostgreSQL's own processes, on the same 2 "
    "cores, are not in this profile at all.",
}


def _py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


@contextlib.contextmanager
def recording(pid: int, name: str | None) -> Iterator[dict[str, Any]]:
    """Profile `pid` for the duration of the block when `name` is given. The dict yielded
    is filled on the way out: {"svg", "samples", "packages", "frames"}; it stays empty if
    py-spy is missing or records nothing."""
    recorded: dict[str, Any] = {}
    py_spy = _py_spy()
    if name is None or py_spy is None:
        if name is not None:
            print("SKIP profile: py-spy is not installed (it is in the dev group)", flush=True)
        yield recorded
        return
    PROFILES.mkdir(parents=True, exist_ok=True)
    svg = PROFILES / f"profile-{name}.svg"
    with tempfile.TemporaryDirectory(prefix="haven-profile-") as tmp:
        raw = Path(tmp) / "stacks.txt"
        samplers = [
            subprocess.Popen(
                [py_spy, "record", "--pid", str(pid), "--nonblocking", "--rate", str(RATE_HZ),
                 "--format", fmt, "--output", str(path)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            for fmt, path in (("flamegraph", svg), ("raw", raw))
        ]  # fmt: skip
        time.sleep(0.5)  # attached before the measurement starts
        try:
            yield recorded
        finally:
            for sampler in samplers:
                sampler.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
            for sampler in samplers:
                try:
                    sampler.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    sampler.kill()
                    sampler.wait()
        if raw.exists() and svg.exists():
            recorded.update(svg=svg.relative_to(ROOT).as_posix(), **summarise(raw.read_text()))


_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _where(frame: str) -> tuple[str, str]:
    """(package, "function (short/file.py)") of one collapsed-stack frame."""
    found = _FRAME.match(frame)
    if found is None:
        return "?", frame
    path = found["file"]
    for marker in ("site-packages/", "/src/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        if "/lib/python" in path:
            path = path.split("/lib/python", 1)[1].split("/", 1)[-1]  # the standard library
    parts = path.split("/")
    package = "/".join(parts[:2]) if parts[0] == "haven" and len(parts) > 2 else parts[0]
    package = package.removesuffix(".py")
    return package, f"{found['function']} ({path})"


def summarise(stacks: str) -> dict[str, Any]:
    """Share of samples by package and by frame (own time: the frame that was running)."""
    packages: Counter[str] = Counter()
    frames: Counter[str] = Counter()
    total = 0
    for line in stacks.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        package, frame = _where(stack.rsplit(";", 1)[-1])
        packages[package] += n
        frames[frame] += n

    def shares(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(k, round(100 * v / total, 1)) for k, v in counter.most_common(TOP)]

    return {"samples": total, "packages": shares(packages), "frames": shares(frames)}


def render_missed(rows: list[Any]) -> list[str]:
    """BENCHMARKS.md lines naming every row that misses its target, with its profile."""
    missed = [
        (row, note.removeprefix("MISSES TARGET: "))
        for row in rows
        for note in row.notes
        if note.startswith("MISSES TARGET")
    ]
    if not missed:
        return []
    lines = ["", "## Rows that miss their target", ""]
    for row, why in missed:
        lines += [f"### {row.name}", "", f"Misses: {why}.", ""]
        profile = row.haven.get("profile")
        if not profile:
            lines += [row.haven.get("no_profile", "No profile was recorded (py-spy missing)."),
                      ""]  # fmt: skip
            continue
        name = Path(profile["svg"]).stem.removeprefix("profile-")
        process = "relay" if name.startswith("relay") else "server"
        lines += [
            f"Profile: [{profile['svg']}]({profile['svg']}), py-spy, {profile['samples']} "
            f"samples of the {process} process at {RATE_HZ} Hz under the same load (own time: "
            "the frame running when sampled).",
            "",
            "| package | share of samples |",
            "| --- | --- |",
            *(f"| {package} | {share}% |" for package, share in profile["packages"]),
            "",
            "| frame | share of samples |",
            "| --- | --- |",
            *(f"| `{frame}` | {share}% |" for frame, share in profile["frames"]),
            "",
        ]
        if name in READINGS:
            lines += [READINGS[name], ""]
    return lines[:-1]
