"""Scaling curves (issue 10): how Haven's cost grows with the work, drawn as PNGs in
docs/bench/ and tabled in BENCHMARKS.md. `python -m bench.run scaling` (part of `make bench`).

- Delivery vs connected devices (100 -> 10,000 WebSockets on one SQLite server): every device
  holds a /v1/stream WebSocket; 8 senders send `send` frames round-robin to all of them, so
  each device receives the same number of messages and acks each one. Throughput, p99 and
  the server's CPU per message at each size, and its RSS with every device connected
  (memory per connected device is the slope of RSS against devices).
- Delivery vs message size (100 B -> 64 KiB): 8 senders -> 8 recipients, as the headline
  row, one size at a time.
- 1 vs 2 server processes sharing PostgreSQL (a fresh database, dropped afterwards) and Redis
  (pub/sub wake-ups): senders and recipients alternate between the processes, so with two
  most deliveries cross from one process to the other. CPU per message adds both processes.
- Relay throughput vs concurrent streams (1 -> 1,000 TLS streams through `haven relay` to an
  echo server, the same bytes in all), beside HAProxy when it is installed.

How cost grows is a least-squares fit of log(cost) on log(work): an exponent near 1 is
linear, clearly below 1 sub-linear, near 0 flat. The load generator is Python on the same
2 cores, so absolute rates are bounded by it as much as by the server; CPU per unit of work
is the server's own cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import math
import struct
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
import websockets

from bench import delivery
from bench.anchors import haproxy
from bench.common import ROOT, Scale, free_port, haven_server, raise_fd_limit, summarise
from haven.core import b64

PLOTS = ROOT / "docs" / "bench"  # a smoke run points this at a temporary directory
REDIS_URL = "redis://127.0.0.1:6379/0"  # pub/sub only: channels carry random device ids
SENDERS = 8
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"

T = TypeVar("T")


@dataclass
class Curve:
    """One curve: a table (first column the work), its plot and how cost grows with work."""

    name: str
    title: str
    columns: list[str]
    points: list[list[float]]
    growth: str
    image: str
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Curve:
        return cls(**data)


# --- fitting -------------------------------------------------------------------------------


def exponent(xs: Sequence[float], ys: Sequence[float]) -> float:
    """k in y ~ x^k, by least squares on logarithms (positive values only)."""
    pairs = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len(pairs) < 2:
        return float("nan")
    mx = sum(p[0] for p in pairs) / len(pairs)
    my = sum(p[1] for p in pairs) / len(pairs)
    sxx = sum((p[0] - mx) ** 2 for p in pairs)
    return sum((p[0] - mx) * (p[1] - my) for p in pairs) / sxx if sxx else float("nan")


def line(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """(intercept, slope) of the least-squares line through the points."""
    n = len(xs)
    if n < 2:
        return float("nan"), float("nan")
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    return my - slope * mx, slope


def kind(k: float) -> str:
    if math.isnan(k):
        return "not enough points to tell"
    if abs(k) < 0.15:
        return "flat"
    if k < 0:
        return "falling"
    if k < 0.85:
        return "sub-linear"
    if k <= 1.15:
        return "linear"
    return "super-linear"


# --- plotting ------------------------------------------------------------------------------


def plot(
    name: str,
    title: str,
    x_label: str,
    xs: Sequence[float],
    panels: Sequence[tuple[str, dict[str, Sequence[float]]]],
    log_x: bool = True,
) -> str:
    """Draw one PNG (a panel per (y label, {series: values})) into PLOTS; returns its path
    as BENCHMARKS.md links it."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    PLOTS.mkdir(parents=True, exist_ok=True)
    figure, axes = pyplot.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
    for axis, (y_label, series) in zip(axes[0], panels, strict=True):
        for label, values in series.items():
            axis.plot(xs, values, marker="o", label=label)
        if log_x:
            axis.set_xscale("log")
        axis.set_xlabel(x_label)
        axis.set_ylabel(y_label)
        axis.set_ylim(bottom=0)
        axis.grid(True, alpha=0.3)
        if len(series) > 1:
            axis.legend()
    figure.suptitle(title)
    figure.tight_layout()
    path = PLOTS / f"{name}.png"
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


# --- load ----------------------------------------------------------------------------------


def _loop_run(coro: Awaitable[T]) -> T:
    import uvloop

    async def main() -> T:
        return await coro

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main())


class Inbox:
    """Holds one device's stream open, acks every envelope, and counts them."""

    def __init__(self, device: delivery.Device) -> None:
        self.device = device
        self.latencies: list[float] = []
        self.expected = 0
        self.done = asyncio.Event()
        self.done.set()
        self._task: asyncio.Task[None] | None = None

    async def open(self, ws_url: str, stack: contextlib.AsyncExitStack) -> None:
        ws = await stack.enter_async_context(
            websockets.connect(
                ws_url, additional_headers=self.device.auth, max_size=delivery.MAX_FRAME,
                open_timeout=60, ping_interval=None,
            )
        )  # fmt: skip
        self._task = asyncio.create_task(self._read(ws))
        stack.push_async_callback(self._stop)

    def expect(self, more: int) -> None:
        self.expected += more
        if len(self.latencies) < self.expected:
            self.done.clear()

    async def _read(self, ws: Any) -> None:
        async for text in ws:
            frame = json.loads(text)
            if frame["type"] != "envelope":
                continue
            envelope = frame["envelope"]
            sent_ns = struct.unpack(">Q", b64.decode(envelope["ciphertext"])[:8])[0]
            self.latencies.append((time.perf_counter_ns() - sent_ns) / 1e6)
            await ws.send(json.dumps({"type": "ack", "envelope_ids": [envelope["envelope_id"]]}))
            if len(self.latencies) >= self.expected:
                self.done.set()

    async def _stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await self._task


async def _gated(jobs: Sequence[Callable[[], Awaitable[None]]], at_once: int) -> None:
    gate = asyncio.Semaphore(at_once)

    async def one(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(one(job) for job in jobs))


async def _deliver(
    ws_urls: Sequence[str],
    senders: Sequence[delivery.Device],
    inboxes: Sequence[Inbox],
    per_sender: int,
    pad: bytes,
) -> dict[str, float]:
    """Sender i (on server i % len(ws_urls)) sends to inboxes i, i+S, i+2S, ... in turn."""
    count = len(senders)
    for i, inbox in enumerate(inboxes):
        targets, j = len(inboxes[i % count :: count]), i // count  # inbox i is target j
        inbox.expect(per_sender // targets + (1 if j < per_sender % targets else 0))
    marks = [len(inbox.latencies) for inbox in inboxes]
    start = time.perf_counter()
    await asyncio.wait_for(
        asyncio.gather(
            *(
                delivery.sender_ws(
                    ws_urls[i % len(ws_urls)], s, [b.device for b in inboxes[i::count]],
                    per_sender, 0.0, pad=pad,
                )
                for i, s in enumerate(senders)
            ),
            *(inbox.done.wait() for inbox in inboxes),
        ),
        timeout=900,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    latencies = [
        x for inbox, mark in zip(inboxes, marks, strict=True) for x in inbox.latencies[mark:]
    ]
    return summarise(latencies, seconds).as_dict()


def _cpu(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        times = psutil.Process(pid).cpu_times()
        total += times.user + times.system
    return total


# --- delivery vs connected devices ---------------------------------------------------------

DEVICES: dict[Scale, tuple[int, ...]] = {
    "full": (100, 1_000, 3_000, 10_000),
    "quick": (100, 1_000),
    "smoke": (16, 32),
}


async def _devices_curve(base: str, pid: int, sizes: Sequence[int], per_size: int) -> list[Any]:
    ws_url = base.replace("http://", "ws://") + "/v1/stream"
    server = psutil.Process(pid)
    rows: list[list[float]] = []
    limits = httpx.Limits(max_connections=32)
    async with (
        httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http,
        contextlib.AsyncExitStack() as stack,
    ):
        senders = await delivery.register(http, SENDERS, concurrency=8)
        inboxes: list[Inbox] = []
        await asyncio.sleep(0.5)
        rss_before = server.memory_info().rss
        for size in sizes:
            print(f"scaling: {size} connected devices ...", flush=True)
            fresh = [Inbox(d) for d in await delivery.register(http, size - len(inboxes), 16)]
            await _gated([functools.partial(b.open, ws_url, stack) for b in fresh], 64)
            inboxes += fresh
            await asyncio.sleep(1.0)
            rss = server.memory_info().rss
            messages = max(per_size, size)
            per_sender = messages // SENDERS
            cpu0 = _cpu([pid])
            figures = await _deliver([ws_url], senders, inboxes, per_sender, delivery.PAD)
            cpu = _cpu([pid]) - cpu0
            rows.append([
                size, figures["msgs_per_s"], figures["p50_ms"], figures["p99_ms"],
                round(cpu / max(figures["messages"], 1) * 1e6),
                round(rss / 2**20, 1), round((rss - rss_before) / size / 1024, 1),
            ])  # fmt: skip
    return rows


def devices_curves(scale: Scale) -> list[Curve]:
    sizes = DEVICES[scale]
    per_size = {"full": 4_000, "quick": 2_000, "smoke": 64}[scale]
    raise_fd_limit()  # the server started below inherits it
    with tempfile.TemporaryDirectory(prefix="haven-scaling-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'haven.sqlite3'}"
        with haven_server(Path(tmp), url) as (base, pid):
            rows = _loop_run(_devices_curve(base, pid, sizes, per_size))
    xs = [r[0] for r in rows]
    k_cpu = exponent(xs, [r[4] for r in rows])
    k_p99 = exponent(xs, [r[3] for r in rows])
    _, slope = line(xs, [r[5] * 2**20 for r in rows])
    k_rss = exponent(xs, [r[6] * r[0] for r in rows])  # RSS growth in all, not per device
    image = plot(
        "delivery-vs-devices", "Delivery vs connected devices (SQLite, one process)",
        "connected devices (WebSockets)", xs,
        [("msgs/s", {"Haven": [r[1] for r in rows]}),
         ("p99 latency (ms)", {"Haven": [r[3] for r in rows]}),
         ("server CPU per message (µs)", {"Haven": [r[4] for r in rows]})],
    )  # fmt: skip
    memory_image = plot(
        "memory-per-device", "Server memory vs connected devices", "connected devices", xs,
        [("server RSS (MiB)", {"Haven": [r[5] for r in rows]}),
         ("RSS growth per device (KiB)", {"Haven": [r[6] for r in rows]})],
        log_x=False,
    )  # fmt: skip
    delivery_curve = Curve(
        name="delivery-vs-devices",
        title="Delivery vs connected devices",
        columns=[
            "devices connected",
            "msgs/s",
            "p50 ms",
            "p99 ms",
            "server CPU µs/msg",
            "server RSS MiB",
            "RSS growth KiB/device",
        ],
        points=rows,
        growth=(
            f"Server CPU per delivered message against connected devices: exponent "
            f"{k_cpu:.2f} ({kind(k_cpu)}). "
            + (
                "Delivering a message costs about the same however many other devices are "
                "connected, so total delivery cost is linear in messages, not in connections. "
                if kind(k_cpu) in ("flat", "falling")
                else "Connected devices cost CPU even when idle (each stream's push loop wakes "
                "and re-reads its queue every poll interval, and there are more streams to "
                "hand to), so the cost of a message grows with them. "
            )
            + f"p99 latency against connected devices: exponent {k_p99:.2f} ({kind(k_p99)})."
        ),
        image=image,
        notes=[
            f"{SENDERS} senders send `send` frames round-robin to every connected device "
            f"({delivery.WS_WINDOW} in flight each), max({per_size}, devices) messages per "
            "point; every device acks each envelope at once; devices stay connected from "
            "one point to the next"
        ],
    )
    memory_curve = Curve(
        name="memory-per-device",
        title="Server memory per connected device",
        columns=["devices connected", "server RSS MiB", "RSS growth KiB/device"],
        points=[[r[0], r[5], r[6]] for r in rows],
        growth=(
            f"Server RSS growth against connected devices: exponent {k_rss:.2f} "
            f"({kind(k_rss)}); the least-squares line through RSS is {slope / 1024:.1f} KiB "
            "per connected device (its WebSocket, two tasks, bus listener and cached "
            "credentials)."
        ),
        image=memory_image,
    )
    return [delivery_curve, memory_curve]


# --- delivery vs message size --------------------------------------------------------------

SIZES: dict[Scale, tuple[int, ...]] = {
    "full": (100, 1_024, 4_096, 16_384, 65_536),
    "quick": (100, 4_096, 65_536),
    "smoke": (100, 4_096),
}


def size_curve(scale: Scale) -> Curve:
    per_sender = {"full": 250, "quick": 100, "smoke": 10}[scale]
    rows: list[list[float]] = []
    # One server for every size, smallest first: all of a size is acked before the next.
    with tempfile.TemporaryDirectory(prefix="haven-scaling-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'haven.sqlite3'}"
        with haven_server(Path(tmp), url) as (base, pid):
            for size in SIZES[scale]:
                print(f"scaling: {size}-byte messages ...", flush=True)
                cpu0 = _cpu([pid])
                figures = _loop_run(
                    delivery.measure(base, SENDERS, per_sender, "ws", payload_bytes=size)
                ).as_dict()
                cpu = _cpu([pid]) - cpu0
                mib_s = figures["msgs_per_s"] * size / 2**20
                rows.append([
                    size, figures["msgs_per_s"], round(mib_s, 2), figures["p99_ms"],
                    round(cpu / max(figures["messages"], 1) * 1e6),
                ])  # fmt: skip
    xs = [r[0] for r in rows]
    k = exponent(xs, [r[4] for r in rows])
    fixed, per_byte = line(xs, [r[4] for r in rows])
    image = plot(
        "delivery-vs-size", "Delivery vs message size (SQLite, 8 -> 8 devices)",
        "ciphertext bytes", xs,
        [("msgs/s", {"Haven": [r[1] for r in rows]}),
         ("p99 latency (ms)", {"Haven": [r[3] for r in rows]}),
         ("server CPU per message (µs)", {"Haven": [r[4] for r in rows]})],
    )  # fmt: skip
    return Curve(
        name="delivery-vs-size",
        title="Delivery vs message size",
        columns=["ciphertext bytes", "msgs/s", "MiB/s", "p99 ms", "server CPU µs/msg"],
        points=rows,
        growth=(
            f"Server CPU per message against message size: exponent {k:.2f} ({kind(k)}); "
            f"the least-squares line is {fixed:.0f} µs per message plus "
            f"{per_byte * 1024:.1f} µs per KiB (base64 in JSON, stored once, pushed once). "
            "Below a few KiB the per-message overhead dominates, so cost per byte falls as "
            "messages grow."
        ),
        image=image,
        notes=[f"{SENDERS} -> {SENDERS} devices, {per_sender} messages per sender per size"],
    )


# --- one vs two server processes (PostgreSQL + Redis) ---------------------------------------


async def _spread(bases: Sequence[str], per_sender: int) -> dict[str, float]:
    ws_urls = [b.replace("http://", "ws://") + "/v1/stream" for b in bases]
    async with (
        httpx.AsyncClient(base_url=bases[0], timeout=120) as http,
        contextlib.AsyncExitStack() as stack,
    ):
        devices = await delivery.register(http, 2 * SENDERS, concurrency=8)
        senders = devices[:SENDERS]
        inboxes = [Inbox(d) for d in devices[SENDERS:]]
        for i, inbox in enumerate(inboxes):  # recipient i on the other process from sender i
            await inbox.open(ws_urls[(i + 1) % len(ws_urls)], stack)
        await asyncio.sleep(1.0)  # every process subscribed to its devices' channels
        return await _deliver(ws_urls, senders, inboxes, per_sender, delivery.PAD)


def processes_curve(scale: Scale, pg_admin: str) -> Curve:
    per_sender = {"full": 500, "quick": 200, "smoke": 10}[scale]
    rows: list[list[float]] = []
    with tempfile.TemporaryDirectory(prefix="haven-scaling-") as tmp:
        url, drop = delivery.db_url("postgresql", Path(tmp), pg_admin)
        try:
            with contextlib.ExitStack() as stack:
                # Both processes run throughout; the one-process point leaves the second idle.
                servers = [
                    stack.enter_context(haven_server(Path(tmp), url, ["--redis", REDIS_URL]))
                    for _ in range(2)
                ]
                for count in (1, 2):
                    print(f"scaling: {count} server process(es), PostgreSQL + Redis ...")
                    used = servers[:count]
                    pids = [pid for _, pid in used]
                    cpu0 = _cpu(pids)
                    figures = _loop_run(_spread([base for base, _ in used], per_sender))
                    cpu = _cpu(pids) - cpu0
                    rows.append([
                        count, figures["msgs_per_s"], figures["p50_ms"], figures["p99_ms"],
                        round(cpu / max(figures["messages"], 1) * 1e6),
                    ])  # fmt: skip
        finally:
            drop()
    one, two = rows[0], rows[1]
    image = plot(
        "delivery-vs-processes", "1 vs 2 server processes (PostgreSQL + Redis)",
        "server processes", [r[0] for r in rows],
        [("msgs/s", {"Haven": [r[1] for r in rows]}),
         ("p99 latency (ms)", {"Haven": [r[3] for r in rows]}),
         ("CPU per message, all processes (µs)", {"Haven": [r[4] for r in rows]})],
        log_x=False,
    )  # fmt: skip
    return Curve(
        name="delivery-vs-processes",
        title="1 vs 2 server processes on PostgreSQL + Redis",
        columns=["processes", "msgs/s", "p50 ms", "p99 ms", "server CPU µs/msg (all)"],
        points=rows,
        growth=(
            f"Two processes deliver {two[1] / one[1]:.2f}x the messages per second of one, "
            f"at {two[4] / one[4]:.2f}x the server CPU per message (all processes added): "
            "a message that crosses processes also costs a Redis publish and a read of the "
            "queue by the receiving process, which was not handed the envelope. Capacity "
            "can grow with processes only as far as cores and PostgreSQL allow; on this "
            "2-core machine the load generator and PostgreSQL share the same cores, so a "
            "second process cannot add a core's worth here."
        ),
        image=image,
        notes=[
            f"{SENDERS} senders -> {SENDERS} recipients, {per_sender} messages each; with two "
            "processes sender i is on process i % 2 and its recipient on the other"
        ],
    )


# --- relay vs concurrent streams -----------------------------------------------------------

STREAMS: dict[Scale, tuple[int, ...]] = {
    "full": (1, 10, 100, 1_000),
    "quick": (1, 10, 100),
    "smoke": (1, 4),
}


@contextlib.contextmanager
def relay_rig(with_haproxy: bool) -> Iterator[tuple[list[Any], dict[str, str]]]:
    """An echo server with `haven relay` (and HAProxy, if wanted and installed) in front,
    as bench/relay.py sets them up. Yields (targets, facts)."""
    from bench import relay
    from haven.relay import certs

    raise_fd_limit()
    facts: dict[str, str] = {}
    binary = None
    if with_haproxy:
        try:
            binary = haproxy.ensure_haproxy()
            facts["haproxy_version"] = haproxy.version(binary)
        except haproxy.AnchorUnavailable as exc:
            print(f"SKIP HAProxy anchor: {exc.reason}", flush=True)
            facts["anchor_skipped"] = exc.reason
    with tempfile.TemporaryDirectory(prefix="haven-relay-scaling-") as tmp:
        work = Path(tmp)
        identity = certs.load_or_create(work / "relay")
        echo_port, relay_port, ha_port = free_port(), free_port(), free_port()
        echo = [sys.executable, "-m", "bench.relay", "--echo", str(echo_port)]
        command = [
            sys.executable, "-m", "haven", "relay",
            "--upstream", f"127.0.0.1:{echo_port}", "--listen", f"127.0.0.1:{relay_port}",
            "--data-dir", str(work / "relay"), "--stats", "off", "--drain-timeout", "1",
            "--per-ip", "100000", "--max-connections", "20000",
        ]  # fmt: skip
        with contextlib.ExitStack() as stack:
            stack.enter_context(relay._process(echo, echo_port, "echo server", work / "echo.log"))
            relay_pid = stack.enter_context(
                relay._process(command, relay_port, "haven relay", work / "relay.log")
            )
            targets = [relay.Target("haven", relay_port, relay_pid, identity.secret)]
            if binary is not None:
                ha = stack.enter_context(
                    haproxy.start_haproxy(
                        binary, work / "haproxy", ha_port, echo_port, identity.cert_path,
                        identity.key_path,
                    )
                )  # fmt: skip
                targets.append(relay.Target("haproxy", ha_port, ha.pid, None))
            yield targets, facts


def relay_curve(scale: Scale) -> Curve:
    from bench import relay

    total = {"full": 256, "quick": 64, "smoke": 2}[scale] * 2**20
    streams = STREAMS[scale]
    figures: dict[str, list[dict[str, float]]] = {}
    with relay_rig(with_haproxy=scale != "smoke") as (targets, facts):
        for target in targets:
            for count in streams:
                print(f"scaling: relay {target.name}, {count} streams ...", flush=True)
                figures.setdefault(target.name, []).append(
                    relay._run(relay._throughput(target, count, total // count))
                )
    rows = [
        [count, *(figures[name][i][key] for name in figures
                  for key in ("mib_per_s", "proxy_cpu_s_per_gib"))]
        for i, count in enumerate(streams)
    ]  # fmt: skip
    names = list(figures)
    columns = ["concurrent streams"]
    for name in names:
        columns += [f"{name} MiB/s", f"{name} CPU s/GiB"]
    k = exponent(streams, [r[2] for r in rows])
    image = plot(
        "relay-vs-streams", "Relay throughput vs concurrent streams (TLS 1.3, echo upstream)",
        "concurrent streams", streams,
        [("MiB/s (one direction)", {n: [f["mib_per_s"] for f in figures[n]] for n in names}),
         ("proxy CPU s per GiB",
          {n: [f["proxy_cpu_s_per_gib"] for f in figures[n]] for n in names})],
    )  # fmt: skip
    notes = [f"{total // 2**20} MiB echoed in all at every point, split evenly over the streams"]
    if "haproxy_version" in facts:
        notes.append(f"HAProxy {facts['haproxy_version']}, one thread, same certificate")
    elif "anchor_skipped" in facts:
        notes.append(f"SKIP HAProxy anchor: {facts['anchor_skipped']}")
    return Curve(
        name="relay-vs-streams",
        title="Relay throughput vs concurrent streams",
        columns=columns,
        points=rows,
        growth=(
            f"The relay's CPU per GiB against concurrent streams: exponent {k:.2f} ({kind(k)})"
            + (
                ": moving a byte costs about the same however many streams share the relay, "
                "so total cost is linear in bytes moved."
                if kind(k) in ("flat", "falling")
                else ": each byte costs more as streams are added (smaller reads and writes "
                "per wake-up), so total cost grows faster than bytes moved."
            )
        ),
        image=image,
        notes=notes,
    )


def relay_smoke() -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """The relay group's measurements at a tiny size, HAProxy beside when installed:
    (row name, Haven's figure, HAProxy's figure or None)."""
    from bench import relay

    results: dict[str, dict[str, Any]] = {}
    with relay_rig(with_haproxy=True) as (targets, _facts):
        for target in targets:
            results[target.name] = {
                "idle": relay._run(relay._idle_memory(target, 20)),
                "single": relay._run(relay._throughput(target, 1, 2 * 2**20)),
                "many": relay._run(relay._throughput(target, 10, 256 * 1024)),
                "conns": relay._run(relay._connection_rate(target, 0.5, 4)),
            }
    ours, theirs = results["haven"], results.get("haproxy")
    picks = [
        ("relay throughput, 1 stream", "single", "mib_per_s", "MiB/s", True),
        ("relay throughput, 10 streams", "many", "mib_per_s", "MiB/s", True),
        ("relay new TLS connections", "conns", "conns_per_s", "conns/s", True),
        ("relay memory per idle connection", "idle", "bytes_per_conn", "bytes", False),
    ]
    return [
        (
            name,
            {"value": ours[part][key], "unit": unit, "higher": higher},
            None if theirs is None else {"value": theirs[part][key], "unit": unit},
        )
        for name, part, key, unit, higher in picks
    ]


# --- the group -----------------------------------------------------------------------------


def run(scale: Scale, pg_admin: str) -> list[Curve]:
    return [*devices_curves(scale), size_curve(scale), processes_curve(scale, pg_admin),
            relay_curve(scale)]  # fmt: skip


def render(curves: Sequence[Curve]) -> list[str]:
    """The BENCHMARKS.md section: per curve its plot, its table and how cost grows."""
    lines = [
        "",
        "## Scaling",
        "",
        "How cost grows with work (`bench/scaling.py`): each growth figure is the exponent of a",
        "least-squares fit of log(cost) on log(work); about 1 is linear, clearly below 1",
        "sub-linear, about 0 flat.",
    ]
    for curve in curves:
        lines += ["", f"### {curve.title}", "", f"![{curve.title}]({curve.image})", ""]
        lines += ["| " + " | ".join(curve.columns) + " |"]
        lines += ["| " + " | ".join("---" for _ in curve.columns) + " |"]
        lines += ["| " + " | ".join(f"{v:,}" for v in point) + " |" for point in curve.points]
        lines += ["", curve.growth]
        lines += [f"- {note}" for note in curve.notes]
    return lines


if __name__ == "__main__":
    for found in run("quick" if "--quick" in sys.argv else "full", PG_ADMIN):
        print(json.dumps(found.__dict__, indent=2))
