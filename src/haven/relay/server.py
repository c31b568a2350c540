"""One relay worker: its listening socket, its connections, the idle sweep, and the drain
on SIGTERM (stop accepting, close what is not a stream, let streams finish until the drain
deadline, then cut them)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.synchronize import Lock

from haven.relay.certs import RelayIdentity
from haven.relay.config import Address, RelayConfig
from haven.relay.connection import ClientSide, Hub, Phase
from haven.relay.decoy import DecoySite
from haven.relay.handshake import ProofGate, ReplayCache
from haven.relay.limits import AddressCaps
from haven.relay.stats import Counters, serve_stats
from haven.relay.tls import server_context

log = logging.getLogger("haven.relay")


@dataclass
class Shared:
    """State the workers share across fork: counters and the replay cache."""

    counters: Counters
    replay: ReplayCache

    @classmethod
    def create(cls, config: RelayConfig, lock: Lock | None = None) -> Shared:
        return cls(Counters(config.workers), ReplayCache(config.replay_slots, lock))


def listening_socket(address: Address, reuse_port: bool, backlog: int) -> socket.socket:
    infos = socket.getaddrinfo(
        address.host, address.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )
    family, kind, proto, _, sockaddr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(sockaddr)
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def load_decoy(config: RelayConfig) -> DecoySite:
    return DecoySite.from_directory(config.decoy) if config.decoy else DecoySite.builtin()


class RelayServer:
    def __init__(
        self,
        config: RelayConfig,
        identity: RelayIdentity,
        shared: Shared | None = None,
        worker: int = 0,
        decoy: DecoySite | None = None,
    ) -> None:
        self.config = config
        self.shared = shared or Shared.create(config)
        self.hub = Hub(
            config=config,
            tls=server_context(identity.cert_path, identity.key_path),
            gate=ProofGate(identity.secret, self.shared.replay, config.proof_window),
            decoy=decoy or load_decoy(config),
            stats=self.shared.counters.row(worker),
            caps=AddressCaps(config.per_ip_connections),
        )
        self._server: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._stats_server: asyncio.Server | None = None
        self.port = 0

    async def start(self, serve_stats_too: bool = True) -> None:
        loop = asyncio.get_running_loop()
        sock = listening_socket(self.config.listen, self.config.workers > 1, self.config.backlog)
        self.port = sock.getsockname()[1]
        self._server = await loop.create_server(
            lambda: ClientSide(self.hub), sock=sock, backlog=self.config.backlog
        )
        self._sweeper = loop.create_task(self._sweep())
        stats = self.config.stats
        if serve_stats_too and stats is not None:
            self._stats_server = await serve_stats(stats.host, stats.port, self.shared.counters)

    @property
    def stats_port(self) -> int | None:
        if self._stats_server is None:
            return None
        port: int = self._stats_server.sockets[0].getsockname()[1]
        return port

    async def _sweep(self) -> None:
        interval = min(self.config.idle_timeout / 2, 30.0)
        while True:
            await asyncio.sleep(interval)
            for conn in list(self.hub.connections):
                conn.check_idle()

    async def drain(self, within: float | None = None) -> None:
        """Stops accepting and waits for open streams to end, up to `within` seconds."""
        self.hub.draining = True
        self.hub.drained = asyncio.Event()
        if self._server is not None:
            self._server.close()
        if self._stats_server is not None:
            self._stats_server.close()
        for conn in list(self.hub.connections):
            if conn.phase is not Phase.STREAM:
                conn.abort()
        deadline = self.config.drain_timeout if within is None else within
        if self.hub.connections:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(deadline):
                    await self.hub.drained.wait()
        for conn in list(self.hub.connections):
            conn.abort()
        await asyncio.sleep(0)
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    async def run_until_signalled(self, ready: Callable[[], None] | None = None) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if ready is not None:
            ready()
        await stop.wait()
        log.info("draining: no new connections, open streams get %ss", self.config.drain_timeout)
        await self.drain()


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when it is there (it is, with uvicorn[standard]): the relay's fast path."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with the server dependencies
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
