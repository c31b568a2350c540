"""What the relay counts, and the Prometheus text it serves on a loopback-only port.

Counters only: no address, no per-client label, nothing that could identify a user. They
live in an anonymous shared mapping with one row per worker, so each forked worker adds to
its own row without locks and whoever serves /metrics sums the rows.
"""

from __future__ import annotations

import asyncio
import mmap
from collections.abc import Iterator
from typing import Final, cast

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONNECTIONS: Final = 0
OPEN: Final = 1
STREAMS_OPEN: Final = 2
BYTES_UP: Final = 3
BYTES_DOWN: Final = 4
DECOY: Final = 5
HANDSHAKE_OK: Final = 6
HANDSHAKE_FAILED: Final = 7
REFUSED_PER_IP: Final = 8
REFUSED_FULL: Final = 9
TIMEOUTS: Final = 10
WIDTH: Final = 11

NAMES = (
    "connections", "open", "streams_open", "bytes_up", "bytes_down", "decoy", "handshake_ok",
    "handshake_failed", "refused_per_ip", "refused_full", "timeouts",
)  # fmt: skip


class Counters:
    def __init__(self, workers: int = 1) -> None:
        self._map = mmap.mmap(-1, workers * WIDTH * 8)
        self._view = memoryview(self._map).cast("q")
        self.workers = workers

    def row(self, worker: int) -> Row:
        return Row(self._view, worker * WIDTH)

    def totals(self) -> dict[str, int]:
        sums = [0] * WIDTH
        for worker in range(self.workers):
            for i in range(WIDTH):
                sums[i] += self._view[worker * WIDTH + i]
        return dict(zip(NAMES, sums, strict=True))


class Row:
    """One worker's counters."""

    __slots__ = ("_base", "_view")

    def __init__(self, view: memoryview, base: int) -> None:
        self._view = view
        self._base = base

    def add(self, index: int, amount: int = 1) -> None:
        self._view[self._base + index] += amount

    def get(self, index: int) -> int:
        value: int = self._view[self._base + index]
        return value


class RelayCollector(Collector):
    def __init__(self, counters: Counters) -> None:
        self._counters = counters

    def collect(self) -> Iterator[Metric]:
        t = self._counters.totals()
        yield CounterMetricFamily(
            "haven_relay_connections", "TCP connections accepted", value=t["connections"]
        )
        yield GaugeMetricFamily("haven_relay_connections_open", "Open connections", t["open"])
        yield GaugeMetricFamily(
            "haven_relay_streams_open", "Open spliced streams", t["streams_open"]
        )
        moved = CounterMetricFamily(
            "haven_relay_bytes", "Payload bytes spliced", labels=["direction"]
        )
        moved.add_metric(["to_upstream"], t["bytes_up"])
        moved.add_metric(["to_client"], t["bytes_down"])
        yield moved
        yield CounterMetricFamily(
            "haven_relay_decoy_responses", "Responses served by the decoy site", value=t["decoy"]
        )
        shakes = CounterMetricFamily(
            "haven_relay_handshakes", "Proof-shaped first requests", labels=["result"]
        )
        shakes.add_metric(["ok"], t["handshake_ok"])
        shakes.add_metric(["failed"], t["handshake_failed"])
        yield shakes
        refused = CounterMetricFamily(
            "haven_relay_refused", "Connections refused by a limit", labels=["limit"]
        )
        refused.add_metric(["per_ip"], t["refused_per_ip"])
        refused.add_metric(["max_connections"], t["refused_full"])
        yield refused
        yield CounterMetricFamily(
            "haven_relay_handshake_timeouts",
            "Connections closed for not finishing TLS and a request in time",
            value=t["timeouts"],
        )


def exposition(counters: Counters) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RelayCollector(counters))
    return generate_latest(registry)


class _StatsHttp(asyncio.Protocol):
    """Answers each connection's first request with the metrics and closes."""

    def __init__(self, counters: Counters) -> None:
        self._counters = counters
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)
        transport = self._transport

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        self._buffer += data
        if b"\r\n\r\n" not in self._buffer and len(self._buffer) < 8192:
            return
        target = self._buffer.split(b" ", 2)[1:2]
        if target and target[0].split(b"?")[0] in (b"/metrics", b"/"):
            status, body = b"200 OK", exposition(self._counters)
        else:
            status, body = b"404 Not Found", b"not found\n"
        self._transport.write(
            b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain; version=0.0.4\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
        )
        self._transport.close()


async def serve_stats(host: str, port: int, counters: Counters) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _StatsHttp(counters), host, port)
