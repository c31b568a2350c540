"""Haven delivery: K sender devices -> K recipient devices over loopback HTTP/WebSocket.

Senders POST /v1/messages (as Synapse's senders PUT sendToDevice) or use `send` frames on
their stream; recipients hold a WebSocket on /v1/stream and ack in batches. Latency is from
just before the send to the recipient reading the frame, measured in this one process with
time.perf_counter_ns carried inside the (opaque) ciphertext.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import struct
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import websockets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bench.common import Throughput, haven_server, summarise
from haven.core import b64, limits

SendVia = Literal["http", "ws"]
ACK_EVERY = 20
PAYLOAD_BYTES = 200  # a small ciphertext body, like a short Olm message
PAD = os.urandom(PAYLOAD_BYTES)
# Send frames a WebSocket sender may have unconfirmed. Synapse's senders await each PUT
# (one in flight); a window much above a few only queues messages inside the server, which
# shows as latency, not as throughput.
WS_WINDOW = 2
MAX_FRAME = limits.MAX_WS_FRAME_BYTES  # the server's own cap on a frame


def _identity() -> dict[str, str]:
    raw = Encoding.Raw, PublicFormat.Raw
    return {
        "curve25519": b64.encode(X25519PrivateKey.generate().public_key().public_bytes(*raw)),
        "ed25519": b64.encode(Ed25519PrivateKey.generate().public_key().public_bytes(*raw)),
    }


@dataclass
class Device:
    address: dict[str, str]
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def _register_one(http: httpx.AsyncClient) -> Device:
    r = await http.post("/v1/accounts", json={"identity_keys": _identity()})
    r.raise_for_status()
    body = r.json()
    address = {"account_id": body["account_id"], "device_id": body["device_id"]}
    return Device(address, body["token"])


async def register(http: httpx.AsyncClient, n: int, concurrency: int = 1) -> list[Device]:
    """`n` new accounts with one device each, `concurrency` registrations at a time."""
    if concurrency <= 1:
        return [await _register_one(http) for _ in range(n)]
    gate = asyncio.Semaphore(concurrency)

    async def one() -> Device:
        async with gate:
            return await _register_one(http)

    return list(await asyncio.gather(*(one() for _ in range(n))))


def _stamped(pad: bytes = PAD) -> str:
    """A ciphertext that carries its send time (so the receiver can time it) and `pad`."""
    return b64.encode(struct.pack(">Q", time.perf_counter_ns()) + pad)


@dataclass
class Receiver:
    device: Device
    expected: int
    latencies: list[float] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, ws_url: str, connected: asyncio.Event) -> None:
        async with websockets.connect(
            ws_url, additional_headers=self.device.auth, max_size=MAX_FRAME
        ) as ws:
            connected.set()
            pending: list[str] = []
            while len(self.latencies) < self.expected:
                frame = json.loads(await ws.recv())
                if frame["type"] != "envelope":
                    continue
                envelope = frame["envelope"]
                sent_ns = struct.unpack(">Q", b64.decode(envelope["ciphertext"])[:8])[0]
                self.latencies.append((time.perf_counter_ns() - sent_ns) / 1e6)
                pending.append(envelope["envelope_id"])
                if len(pending) >= ACK_EVERY or len(self.latencies) == self.expected:
                    await ws.send(json.dumps({"type": "ack", "envelope_ids": pending}))
                    pending = []
            self.done.set()


async def _send_http(http: httpx.AsyncClient, sender: Device, to: Device, pad: bytes) -> None:
    body = {"recipients": [to.address], "ciphertext": _stamped(pad), "kind": "olm"}
    r = await http.post("/v1/messages", json=body, headers=sender.auth)
    if r.status_code != 201:
        raise RuntimeError(f"send failed: {r.status_code} {r.text}")


async def _paced(count: int, interval: float, send_one: Callable[[], Awaitable[None]]) -> None:
    start = time.perf_counter()
    for i in range(count):
        if interval:
            delay = start + i * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        await send_one()


async def sender_ws(
    ws_url: str,
    sender: Device,
    to: Sequence[Device],
    count: int,
    interval: float,
    window: int = WS_WINDOW,
    pad: bytes = PAD,
) -> None:
    """Send `count` messages as `send` frames, to each of `to` in turn, with at most
    `window` unconfirmed at a time."""
    async with websockets.connect(ws_url, additional_headers=sender.auth, max_size=MAX_FRAME) as ws:
        slots = asyncio.Semaphore(window)
        confirmed = 0

        async def reader() -> None:
            nonlocal confirmed
            while confirmed < count:
                frame = json.loads(await ws.recv())
                if frame["type"] == "sent":
                    confirmed += 1
                    slots.release()
                elif frame["type"] == "error":
                    raise RuntimeError(f"send failed: {frame}")

        reading = asyncio.create_task(reader())
        n = 0

        async def send_one() -> None:
            nonlocal n
            await slots.acquire()
            target = to[n % len(to)].address
            message = {"recipients": [target], "ciphertext": _stamped(pad), "kind": "olm"}
            await ws.send(json.dumps({"type": "send", "request_id": str(n), "message": message}))
            n += 1

        await _paced(count, interval, send_one)
        await reading


async def measure(
    url: str,
    senders: int,
    per_sender: int,
    via: SendVia = "http",
    rate: float | None = None,
    window: int = WS_WINDOW,
    payload_bytes: int = PAYLOAD_BYTES,
) -> Throughput:
    """Deliver senders*per_sender messages of `payload_bytes` (plus an 8-byte time stamp);
    `rate` paces the total offered load (msgs/s); `window`: see WS_WINDOW."""
    pad = PAD if payload_bytes == PAYLOAD_BYTES else os.urandom(payload_bytes)
    ws_url = url.replace("http://", "ws://") + "/v1/stream"
    limits = httpx.Limits(max_connections=senders + 4, max_keepalive_connections=senders + 4)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        devices = await register(http, 2 * senders)
        from_devices, to_devices = devices[:senders], devices[senders:]
        receivers = [Receiver(d, per_sender) for d in to_devices]
        connected = [asyncio.Event() for _ in receivers]
        receiving = [
            asyncio.create_task(r.run(ws_url, c)) for r, c in zip(receivers, connected, strict=True)
        ]
        await asyncio.gather(*(c.wait() for c in connected))
        interval = senders / rate if rate else 0.0
        start = time.perf_counter()
        if via == "http":
            sending = [
                _paced(per_sender, interval, functools.partial(_send_http, http, s, t, pad))
                for s, t in zip(from_devices, to_devices, strict=True)
            ]
        else:
            sending = [
                sender_ws(ws_url, s, [t], per_sender, interval, window, pad)
                for s, t in zip(from_devices, to_devices, strict=True)
            ]
        await asyncio.wait_for(asyncio.gather(*sending, *receiving), timeout=600)
        elapsed = time.perf_counter() - start
    latencies = [x for r in receivers for x in r.latencies]
    return summarise(latencies, elapsed)


async def idle_streams_rss(url: str, pid: int, streams: int) -> dict[str, float]:
    """Server RSS before and with `streams` idle WebSockets connected."""
    import psutil

    process = psutil.Process(pid)
    ws_url = url.replace("http://", "ws://") + "/v1/stream"
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        devices = await register(http, streams)
    before = process.memory_info().rss
    async with contextlib.AsyncExitStack() as stack:
        for device in devices:
            await stack.enter_async_context(
                websockets.connect(ws_url, additional_headers=device.auth)
            )
        await asyncio.sleep(1.0)
        during = process.memory_info().rss
        async with httpx.AsyncClient(base_url=url) as http:
            healthy = (await http.get("/v1/health")).status_code == 200
    return {
        "streams": streams,
        "rss_before_mib": round(before / 2**20, 1),
        "rss_with_streams_mib": round(during / 2**20, 1),
        "healthy": float(healthy),
    }


def db_url(backend: str, workdir: Path, pg_admin_url: str) -> tuple[str, Callable[[], None]]:
    """A fresh database for one run, and how to drop it."""
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'haven.sqlite3'}", lambda: None
    import asyncpg

    name = f"haven_bench_{os.getpid()}_{int(time.time())}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(pg_admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    base = pg_admin_url.rsplit("/", 1)[0]
    return f"{base}/{name}", lambda: asyncio.run(admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


def run(
    backend: str, senders: int, per_sender: int, via: SendVia, rate: float | None,
    pg_admin_url: str = "postgresql://postgres@127.0.0.1:5432/test",
) -> dict[str, Any]:  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="haven-bench-") as tmp:
        url, drop = db_url(backend, Path(tmp), pg_admin_url)
        try:
            with haven_server(Path(tmp), url) as (base, _pid):
                result = asyncio.run(measure(base, senders, per_sender, via, rate))
        finally:
            drop()
    return result.as_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--messages", type=int, default=500, help="per sender")
    parser.add_argument("--via", choices=["http", "ws"], default="http")
    parser.add_argument("--rate", type=float, default=None, help="total offered msgs/s")
    args = parser.parse_args()
    print(json.dumps(run(args.backend, args.senders, args.messages, args.via, args.rate)))


if __name__ == "__main__":
    main()
