"""Haven's relay beside HAProxy: the same certificate (ECDSA P-256), TLS 1.3, one process /
one thread each, both forwarding to the same echo server on loopback, measured in one run.

- single-stream and 100-stream throughput: each stream sends N bytes and reads the echo
  back at the same time; MiB/s counts one direction (the other carries the same amount).
  The proxy's CPU seconds per GiB is recorded too: the Python load generator and the echo
  server share the machine's cores, so throughput can be bound by them rather than by the
  proxy, while CPU per GiB is the proxy's own cost.
- each throughput and connection-rate figure is the median of 3 runs (1 with --quick),
  Haven's and HAProxy's alternating.
- new TLS connections/s: full handshakes (no resumption), one byte echoed on each, from
  32 concurrent clients. Haven's clients also send their proof and read the 101.
- memory per idle held connection: RSS growth of the proxy process while N spliced
  connections (client and upstream legs both open) sit idle, divided by N; beside it, the
  floor: OpenSSL's own state per idle server-side TLS session, with no socket or proxy.

`python -m bench.relay [--quick]` prints JSON; `measure(quick)` returns it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from bench import profiles
from bench.anchors import haproxy
from bench.common import free_port
from haven.core.relaylink import make_proof
from haven.relay import certs

CHUNK = 256 * 1024
# Issue 5's targets: throughput at least HAProxy's, new connections at least 0.7 of
# HAProxy's, at most 4 KiB per idle held connection.
TARGETS = {"throughput_vs_haproxy": 1.0, "new_conns_vs_haproxy": 0.7, "idle_bytes_per_conn": 4096}


def _new_loop() -> asyncio.AbstractEventLoop:
    import uvloop

    return uvloop.new_event_loop()


class _Echo(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.set_write_buffer_limits(high=1 << 20)  # type: ignore[union-attr]

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def pause_writing(self) -> None:
        assert self.transport is not None
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        assert self.transport is not None
        self.transport.resume_reading()


async def _echo_forever(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Echo, "127.0.0.1", port, backlog=4096)
    await server.serve_forever()


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not listen in 30 s")
        time.sleep(0.05)


@contextlib.contextmanager
def _process(args: list[str], port: int, what: str, log: Path) -> Iterator[int]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_port(port, proc, what)
            yield proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@dataclass
class Target:
    name: str
    port: int
    pid: int
    secret: bytes | None  # Haven: send a proof first

    def rss(self) -> int:
        return int(psutil.Process(self.pid).memory_info().rss)

    def cpu(self) -> float:
        times = psutil.Process(self.pid).cpu_times()
        return float(times.user + times.system)


def _client_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


CONTEXT = _client_context()


async def _open(target: Target) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", target.port, ssl=CONTEXT, server_hostname="localhost", limit=1 << 20
    )
    if target.secret is not None:
        proof = make_proof(target.secret)
        writer.write(f"GET /{proof} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101 "):
            raise RuntimeError(f"relay refused the bench client: {head[:40]!r}")
    return reader, writer


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
        async with asyncio.timeout(5):
            await writer.wait_closed()


async def _echo_stream(target: Target, total: int) -> None:
    reader, writer = await _open(target)
    block = os.urandom(CHUNK)

    async def send() -> None:
        sent = 0
        while sent < total:
            writer.write(block[: min(CHUNK, total - sent)])
            sent += min(CHUNK, total - sent)
            await writer.drain()

    sending = asyncio.create_task(send())
    got = 0
    while got < total:
        data = await reader.read(1 << 20)
        if not data:
            raise RuntimeError("stream closed early")
        got += len(data)
    await sending
    await _close(writer)


async def _throughput(target: Target, streams: int, per_stream: int) -> dict[str, float]:
    cpu0, t0 = target.cpu(), time.perf_counter()
    await asyncio.gather(*(_echo_stream(target, per_stream) for _ in range(streams)))
    seconds = time.perf_counter() - t0
    cpu = target.cpu() - cpu0
    moved = streams * per_stream
    return {
        "mib_per_s": round(moved / seconds / 2**20, 1),
        "seconds": round(seconds, 2),
        "proxy_cpu_s_per_gib": round(cpu / (2 * moved / 2**30), 2),
    }


async def _connection_rate(target: Target, seconds: float, concurrency: int) -> dict[str, float]:
    done = 0
    failures = 0
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done, failures
        while time.perf_counter() < stop_at:
            try:
                reader, writer = await _open(target)
                writer.write(b"x")
                await reader.readexactly(1)
                writer.transport.abort()  # no close handshake: count set-ups, not teardowns
                done += 1
            except (OSError, ssl.SSLError, asyncio.IncompleteReadError, RuntimeError):
                failures += 1

    cpu0, t0 = target.cpu(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    cpu = target.cpu() - cpu0
    return {
        "conns_per_s": round(done / elapsed, 1),
        "failures": failures,
        "proxy_cpu_us_per_conn": round(cpu / max(done, 1) * 1e6),
    }


async def _idle_memory(target: Target, count: int) -> dict[str, float]:
    await asyncio.sleep(0.5)
    before = target.rss()
    held: list[asyncio.StreamWriter] = []
    gate = asyncio.Semaphore(64)

    async def one() -> None:
        async with gate:
            reader, writer = await _open(target)
            writer.write(b"x")
            await reader.readexactly(1)  # the upstream leg is open too
            held.append(writer)

    await asyncio.gather(*(one() for _ in range(count)))
    await asyncio.sleep(1.0)
    during = target.rss()
    for writer in held:
        writer.transport.abort()
    await asyncio.sleep(0.5)
    return {
        "connections": count,
        "rss_before_mib": round(before / 2**20, 1),
        "rss_held_mib": round(during / 2**20, 1),
        "bytes_per_conn": round((during - before) / count),
    }


def _tls_session_floor(cert: Path, key: Path, sessions: int) -> float:
    """Bytes of RSS per established, idle server-side TLS 1.3 session held as an SSLObject
    over memory BIOs: OpenSSL's own state with no socket, no event loop and no relay code,
    the floor under any proxy built on OpenSSL. In a fresh process, as the proxies are."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE

    def session() -> tuple[ssl.SSLObject, ssl.MemoryBIO, ssl.MemoryBIO]:
        s_in, s_out, c_in, c_out = (ssl.MemoryBIO() for _ in range(4))
        ours = server.wrap_bio(s_in, s_out, server_side=True)
        theirs = client.wrap_bio(c_in, c_out)
        for _ in range(4):
            for side in (theirs, ours):
                with contextlib.suppress(ssl.SSLWantReadError):
                    side.do_handshake()
            s_in.write(c_out.read())
            c_in.write(s_out.read())
        with contextlib.suppress(ssl.SSLWantReadError):
            theirs.read(1)  # takes the session tickets, as a real client would
        return ours, s_in, s_out

    held = [session() for _ in range(50)]  # warm the allocator
    before = psutil.Process().memory_info().rss
    held += [session() for _ in range(sessions)]
    return (psutil.Process().memory_info().rss - before) / sessions


def _run(coro: Coroutine[Any, Any, dict[str, float]]) -> dict[str, float]:
    with asyncio.Runner(loop_factory=_new_loop) as runner:
        return runner.run(coro)


def _median(runs: list[dict[str, float]], key: str) -> dict[str, float]:
    """The run whose `key` is the median (the lower middle one of an even count), with
    how many runs there were and their spread."""
    ordered = sorted(runs, key=lambda run: run[key])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["runs"] = len(ordered)
    chosen["lowest"], chosen["highest"] = ordered[0][key], ordered[-1][key]
    return chosen


def _ratio(ours: float, theirs: float) -> float | None:
    return round(ours / theirs, 2) if theirs else None


def measure(quick: bool = False) -> dict[str, Any]:
    """Both proxies, every figure; {"skipped": reason} when HAProxy cannot be had."""
    try:
        binary = haproxy.ensure_haproxy()
    except haproxy.AnchorUnavailable as exc:
        print(f"SKIP HAProxy anchor: {exc.reason}", flush=True)
        return {"skipped": exc.reason}
    _raise_fd_limit()
    single = (64 if quick else 512) * 2**20
    many, per = 100, (1 if quick else 8) * 2**20
    rate_seconds = 3.0 if quick else 10.0
    idle = 2000 if quick else 5000
    rounds = 1 if quick else 3
    results: dict[str, Any] = {"haproxy_version": haproxy.version(binary), "quick": quick}
    with tempfile.TemporaryDirectory(prefix="haven-relay-bench-") as tmp:
        work = Path(tmp)
        identity = certs.load_or_create(work / "relay")
        floor = subprocess.run(
            [sys.executable, "-m", "bench.relay", "--tls-floor", str(idle),
             str(identity.cert_path), str(identity.key_path)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        results["tls_session_floor_bytes"] = round(float(floor.stdout))
        echo_port, relay_port, ha_port = free_port(), free_port(), free_port()
        echo = [sys.executable, "-m", "bench.relay", "--echo", str(echo_port)]
        relay = [
            sys.executable, "-m", "haven", "relay",
            "--upstream", f"127.0.0.1:{echo_port}", "--listen", f"127.0.0.1:{relay_port}",
            "--data-dir", str(work / "relay"), "--stats", "off", "--drain-timeout", "1",
            "--per-ip", "100000", "--max-connections", "20000",
        ]  # fmt: skip
        with (
            _process(echo, echo_port, "echo server", work / "echo.log"),
            _process(relay, relay_port, "haven relay", work / "relay.log") as relay_pid,
            haproxy.start_haproxy(
                binary, work / "haproxy", ha_port, echo_port, identity.cert_path,
                identity.key_path,
            ) as ha,
        ):  # fmt: skip
            targets = [
                Target("haven", relay_port, relay_pid, identity.secret),
                Target("haproxy", ha_port, ha.pid, None),
            ]
            figures: dict[str, dict[str, Any]] = {t.name: {} for t in targets}
            for t in targets:
                print(f"relay bench: {t.name} idle connections ...", flush=True)
                figures[t.name]["idle"] = _run(_idle_memory(t, idle))
            # Throughput and connection rates swing by a fifth from one run to the next here
            # (the load generator shares the two cores): each is the median of `rounds`
            # runs, Haven's and HAProxy's alternating, so a burst of noise hits both.
            runs: dict[str, dict[str, list[dict[str, float]]]] = {
                t.name: {"single_stream": [], "streams_100": [], "new_conns": []} for t in targets
            }
            for round_no in range(1, rounds + 1):
                for t in targets:
                    print(f"relay bench: {t.name} throughput and new connections, round "
                          f"{round_no} of {rounds} ...", flush=True)  # fmt: skip
                    runs[t.name]["single_stream"].append(_run(_throughput(t, 1, single)))
                    runs[t.name]["streams_100"].append(_run(_throughput(t, many, per)))
                    runs[t.name]["new_conns"].append(_run(_connection_rate(t, rate_seconds, 32)))
            for t in targets:
                for figure, key in (("single_stream", "mib_per_s"), ("streams_100", "mib_per_s"),
                                    ("new_conns", "conns_per_s")):  # fmt: skip
                    figures[t.name][figure] = _median(runs[t.name][figure], key)
            haven_target = targets[0]
            for figure, streams, size in (("single_stream", 1, single), ("streams_100", many, per)):
                ratio = _ratio(figures["haven"][figure]["mib_per_s"],
                               figures["haproxy"][figure]["mib_per_s"])  # fmt: skip
                if quick or ratio is None or ratio >= TARGETS["throughput_vs_haproxy"]:
                    continue
                # Once more under py-spy (which costs the relay some speed): the row keeps
                # the figures of the runs without it.
                print(f"relay bench: {figure} misses its target; profiling", flush=True)
                with profiles.recording(relay_pid, f"relay-{figure}") as recorded:
                    _run(_throughput(haven_target, streams, size))
                figures["haven"][figure]["profile"] = recorded or None
    ours, theirs = figures["haven"], figures["haproxy"]
    results.update(figures)
    results["ratios"] = {
        "single_stream_throughput": _ratio(
            ours["single_stream"]["mib_per_s"], theirs["single_stream"]["mib_per_s"]
        ),
        "streams_100_throughput": _ratio(
            ours["streams_100"]["mib_per_s"], theirs["streams_100"]["mib_per_s"]
        ),
        "new_conns_per_s": _ratio(
            ours["new_conns"]["conns_per_s"], theirs["new_conns"]["conns_per_s"]
        ),
        "idle_bytes_per_conn": _ratio(
            ours["idle"]["bytes_per_conn"], theirs["idle"]["bytes_per_conn"]
        ),
    }
    results["targets"] = dict(TARGETS)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    parser.add_argument("--echo", type=int, help=argparse.SUPPRESS)  # the upstream process
    parser.add_argument("--tls-floor", nargs=3, help=argparse.SUPPRESS)  # N CERT KEY
    args = parser.parse_args()
    if args.tls_floor:
        count, cert, key = args.tls_floor
        print(_tls_session_floor(Path(cert), Path(key), int(count)))
        return
    if args.echo:
        _raise_fd_limit()
        with asyncio.Runner(loop_factory=_new_loop) as runner:
            runner.run(_echo_forever(args.echo))
        return
    print(json.dumps(measure(args.quick), indent=2))


if __name__ == "__main__":
    main()
