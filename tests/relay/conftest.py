"""A real relay on a loopback port (in a thread with its own uvloop loop), a tiny upstream
that records every connection it gets, and plain blocking TLS clients to probe them."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from haven.core.relaylink import RelayLink, make_proof
from haven.relay import certs
from haven.relay.config import Address, RelayConfig
from haven.relay.server import RelayServer, new_event_loop

WAIT = 10.0


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: Upstream = self.server  # type: ignore[assignment]
        with server.lock:
            server.connections += 1
        sock: socket.socket = self.request
        sock.settimeout(WAIT)
        with contextlib.suppress(OSError):
            while data := sock.recv(65536):
                sock.sendall(data)
            # The client half-closed: answer with our own EOF once everything is echoed.
            sock.shutdown(socket.SHUT_WR)


class Upstream(socketserver.ThreadingTCPServer):
    """Echoes each connection until EOF, then half-closes; counts connections."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Echo)
        self.connections = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.start()

    @property
    def port(self) -> int:
        port: int = self.server_address[1]
        return port

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(WAIT)


class RelayThread:
    def __init__(self, data_dir: Path, upstream_port: int, **overrides: Any) -> None:
        self.identity = certs.load_or_create(data_dir)
        self.config = RelayConfig(
            upstream=Address("127.0.0.1", upstream_port),
            listen=Address("127.0.0.1", 0),
            data_dir=data_dir,
            stats=Address("127.0.0.1", 0),
            **overrides,
        )
        self.server: RelayServer | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run)
        self._failure: BaseException | None = None

    def start(self) -> RelayThread:
        self._thread.start()
        assert self._ready.wait(WAIT), "relay did not start"
        if self._failure is not None:
            raise self._failure
        return self

    def _run(self) -> None:
        loop = new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:
            self._failure = exc
            self._ready.set()
        finally:
            loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        self.server = RelayServer(self.config, self.identity)
        await self.server.start()
        self._ready.set()
        await self._stop.wait()
        await self.server.drain(1.0)

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.port

    @property
    def stats_port(self) -> int:
        assert self.server is not None
        assert self.server.stats_port is not None
        return self.server.stats_port

    def totals(self) -> dict[str, int]:
        assert self.server is not None
        return self.server.shared.counters.totals()

    def link(self, websocket: bool = False) -> RelayLink:
        return RelayLink(
            "127.0.0.1", self.port, self.identity.pin, self.identity.secret, "localhost", websocket
        )

    def proof(self) -> str:
        return make_proof(self.identity.secret)

    def run_in_loop(self, fn: Any) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(fn)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(WAIT)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.stop()


@pytest.fixture
def relay(tmp_path: Path, upstream: Upstream) -> Iterator[RelayThread]:
    running = RelayThread(tmp_path / "relay", upstream.port).start()
    yield running
    running.stop()


def client_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def tls_connect(port: int, sni: str | None = "localhost") -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    try:
        return client_context().wrap_socket(raw, server_hostname=sni)
    except BaseException:
        raw.close()  # a refused handshake must not leave the socket to the collector
        raise


def read_response(sock: socket.socket, head_only: bool = False) -> tuple[bytes, bytes]:
    """(head, body) of one HTTP response, by Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if head.startswith(b"HTTP/1.1 101") or head_only:
        return head, body
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head, body


def read_all(sock: socket.socket) -> bytes:
    data = b""
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        while chunk := sock.recv(65536):
            data += chunk
    return data
