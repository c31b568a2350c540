"""A proven client is spliced to the upstream: bytes both ways, intact, with half-close,
raw or inside WebSocket frames."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
import ssl
import threading
import time

from websockets.sync.client import connect as ws_connect

from tests.relay.conftest import (
    WAIT,
    RelayThread,
    Upstream,
    client_context,
    read_response,
    tls_connect,
)


def open_stream(relay: RelayThread) -> ssl.SSLSocket:
    sock = tls_connect(relay.port)
    sock.sendall(f"GET /{relay.proof()} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    head, rest = read_response(sock)
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols"), head
    assert rest == b""
    return sock


def test_bytes_are_spliced_both_ways(relay: RelayThread, upstream: Upstream) -> None:
    with open_stream(relay) as sock:
        sock.sendall(b"hello through the relay")
        assert sock.recv(100) == b"hello through the relay"
    assert upstream.connections == 1
    totals = relay.totals()
    assert totals["handshake_ok"] == 1
    assert totals["decoy"] == 0


async def _echo_through(port: int, token: str, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=client_context(), server_hostname="localhost"
    )
    writer.write(f"GET /{token} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ")

    async def send() -> None:
        for i in range(0, len(payload), 1 << 20):
            writer.write(payload[i : i + (1 << 20)])
            await writer.drain()

    sending = asyncio.create_task(send())
    received = await reader.readexactly(len(payload))
    await sending
    writer.close()
    # Wait for the TLS close to finish: left half-done when asyncio.run's loop ends, the
    # socket is found later by the garbage collector (and fails whichever test is running).
    try:
        async with asyncio.timeout(WAIT):
            await writer.wait_closed()
    except (TimeoutError, OSError, ssl.SSLError):
        writer.transport.abort()
        await asyncio.sleep(0)
    return received


def test_a_large_transfer_arrives_intact(relay: RelayThread) -> None:
    payload = os.urandom(16 * 1024 * 1024)
    received = asyncio.run(_echo_through(relay.port, relay.proof(), payload))
    assert hashlib.sha256(received).digest() == hashlib.sha256(payload).digest()
    totals = relay.totals()
    assert totals["bytes_up"] == totals["bytes_down"] == len(payload)


def test_bytes_sent_with_the_request_are_forwarded(relay: RelayThread) -> None:
    with tls_connect(relay.port) as sock:
        sock.sendall(f"GET /{relay.proof()} HTTP/1.1\r\nHost: x\r\n\r\nearly bytes".encode())
        head, rest = read_response(sock)
        while len(rest) < len(b"early bytes"):
            rest += sock.recv(100)
    assert head.startswith(b"HTTP/1.1 101 ")
    assert rest == b"early bytes"


class MemoryTls:
    """A TLS client over a blocking socket that can close its sending half only."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = client_context().wrap_bio(self.incoming, self.outgoing, server_hostname="x.org")
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._pump()
        self._flush()

    def _flush(self) -> None:
        if data := self.outgoing.read():
            self.sock.sendall(data)

    def _pump(self) -> None:
        self._flush()
        data = self.sock.recv(65536)
        if not data:
            self.incoming.write_eof()
        self.incoming.write(data)

    def send(self, data: bytes) -> None:
        self.tls.write(data)
        self._flush()

    def close_sending(self) -> None:
        with contextlib.suppress(ssl.SSLWantReadError):
            self.tls.unwrap()
        self._flush()

    def read_to_close(self) -> bytes:
        """Everything until the peer's close_notify."""
        out = b""
        while True:
            try:
                out += self.tls.read(65536)
            except ssl.SSLWantReadError:
                self._pump()
            except ssl.SSLZeroReturnError:
                return out


def test_half_close_reaches_upstream_and_the_answer_still_comes_back(
    relay: RelayThread,
) -> None:
    client = MemoryTls(relay.port)
    try:
        client.send(f"GET /{relay.proof()} HTTP/1.1\r\nHost: x.org\r\n\r\n".encode())
        payload = os.urandom(300_000)
        client.send(payload)
        # The echo upstream answers its own EOF only after reading ours: getting the whole
        # echo and then a close proves our close_notify became a FIN on the upstream leg.
        client.close_sending()
        reply = client.read_to_close()
    finally:
        client.sock.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ")
    assert body == payload


def test_an_unreachable_upstream_is_a_502_for_the_proven_client(tmp_path: object) -> None:
    from pathlib import Path

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    relay = RelayThread(Path(str(tmp_path)) / "relay", dead_port).start()
    try:
        with tls_connect(relay.port) as sock:
            sock.sendall(f"GET /{relay.proof()} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            head, _ = read_response(sock)
        assert head.startswith(b"HTTP/1.1 502 Bad Gateway\r\nServer: nginx")
    finally:
        relay.stop()


def test_websocket_mode_carries_binary_frames(relay: RelayThread, upstream: Upstream) -> None:
    uri = f"wss://localhost:{relay.port}/{relay.proof()}"
    payload = os.urandom(2 * 1024 * 1024)
    with ws_connect(uri, ssl=client_context(), max_size=None, compression=None) as ws:
        assert ws.response is not None
        assert ws.response.headers["Server"] == "nginx"
        ws.send(b"small")
        assert ws.recv(WAIT) == b"small"
        sender = threading.Thread(target=ws.send, args=(payload,))
        sender.start()
        received = b""
        while len(received) < len(payload):
            frame = ws.recv(WAIT)
            assert isinstance(frame, bytes)
            received += frame
        sender.join(WAIT)
    assert received == payload
    assert upstream.connections == 1


def test_websocket_upgrade_without_the_proof_gets_the_decoy(
    relay: RelayThread, upstream: Upstream
) -> None:
    request = (
        "GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with tls_connect(relay.port) as sock:
        sock.sendall(request.encode())
        head, _body = read_response(sock)
    assert head.startswith(b"HTTP/1.1 404 Not Found\r\nServer: nginx")
    assert upstream.connections == 0


def test_closing_the_websocket_ends_the_upstream_connection(relay: RelayThread) -> None:
    uri = f"wss://localhost:{relay.port}/{relay.proof()}"
    with ws_connect(uri, ssl=client_context(), compression=None) as ws:
        ws.send(b"x")
        assert ws.recv(WAIT) == b"x"
        assert relay.totals()["streams_open"] == 1
    deadline = time.monotonic() + WAIT
    while relay.totals()["open"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert relay.totals()["open"] == 0
    assert relay.totals()["streams_open"] == 0
