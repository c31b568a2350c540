"""A proven client's stream to the upstream: bytes both ways with back-pressure and
half-close, either raw after a 101 response or inside WebSocket binary frames.

The upstream leg is plain TCP and the client leg is TLS, so every byte has to pass through
user space to be encrypted or decrypted: os.splice() could only move bytes between two
plain sockets, and kernel TLS (which would let it) is not available here. Reads are taken
in the largest chunks the loop hands over and written without copying again.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from websockets.datastructures import Headers
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from haven.relay import stats
from haven.relay.config import Address
from haven.relay.decoy import SERVER
from haven.relay.stats import Row

WRITE_HIGH_WATER = 512 * 1024
PENDING_LIMIT = 256 * 1024  # client bytes held while the upstream connection opens
CONNECT_TIMEOUT = 10.0
RAW_ACCEPT = (
    b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: haven-relay-v1\r\n\r\n"
)
RAW_REFUSE = (
    f"HTTP/1.1 502 Bad Gateway\r\nServer: {SERVER}\r\nContent-Length: 0\r\n"
    "Connection: close\r\n\r\n"
).encode()


class ClientPort(Protocol):
    """What a splice needs from the client connection (plaintext in and out)."""

    def send(self, data: bytes) -> None: ...
    def send_eof(self) -> None: ...
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def close(self) -> None: ...


class UpstreamSide(asyncio.Protocol):
    __slots__ = ("splice",)

    def __init__(self, splice: Splice) -> None:
        self.splice = splice

    def data_received(self, data: bytes) -> None:
        self.splice.from_upstream(data)

    def eof_received(self) -> bool:
        self.splice.upstream_eof()
        return True  # keep our writing half open: the client may still be sending

    def connection_lost(self, exc: Exception | None) -> None:
        self.splice.upstream_lost()

    def pause_writing(self) -> None:
        self.splice.client.pause_reading()

    def resume_writing(self) -> None:
        self.splice.client.resume_reading()


class Splice:
    """Raw mode: after the 101, the stream is the bytes themselves."""

    __slots__ = (
        "_connecting", "client", "client_done", "finished", "pending", "pending_bytes", "stats",
        "upstream", "upstream_done",
    )  # fmt: skip

    def __init__(self, client: ClientPort, row: Row) -> None:
        self.client = client
        self.stats = row
        self.upstream: asyncio.Transport | None = None
        self.pending: list[bytes] | None = []
        self.pending_bytes = 0
        self.client_done = False
        self.upstream_done = False
        self.finished = False
        self._connecting: asyncio.Task[None] | None = None

    def start(self, upstream: Address, first: bytes) -> None:
        if first:
            self.from_client([first])
        self._connecting = asyncio.get_running_loop().create_task(self._connect(upstream))

    async def _connect(self, address: Address) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                transport, _ = await loop.create_connection(
                    lambda: UpstreamSide(self), address.host, address.port
                )
        except (OSError, TimeoutError):
            if not self.finished:
                self.finished = True
                self.client.send(self.refusal())
                self.client.close()
            return
        finally:
            self._connecting = None
        if self.finished:  # the client left while we were connecting
            transport.close()
            return
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
        self.upstream = transport
        self.stats.add(stats.STREAMS_OPEN)
        self.client.send(self.acceptance())
        pending, self.pending = self.pending or [], None
        for chunk in pending:
            self.client_payload(chunk)
        if self.client_done and transport.can_write_eof():
            transport.write_eof()
        self.client.resume_reading()

    # Framing hooks, overridden by the WebSocket mode.
    def acceptance(self) -> bytes:
        return RAW_ACCEPT

    def refusal(self) -> bytes:
        return RAW_REFUSE

    def client_payload(self, data: bytes) -> None:
        assert self.upstream is not None
        self.stats.add(stats.BYTES_UP, len(data))
        self.upstream.write(data)

    def from_upstream(self, data: bytes) -> None:
        self.stats.add(stats.BYTES_DOWN, len(data))
        self.client.send(data)

    def upstream_eof(self) -> None:
        if not self.upstream_done:
            self.upstream_done = True
            self.client.send_eof()
        self._maybe_finish()

    def client_eof(self) -> None:
        if self.client_done:
            return
        self.client_done = True
        if self.upstream is not None and self.upstream.can_write_eof():
            self.upstream.write_eof()
        self._maybe_finish()

    # Shared by both modes.
    def from_client(self, chunks: list[bytes]) -> None:
        if self.pending is not None:
            self.pending.extend(chunks)
            self.pending_bytes += sum(map(len, chunks))
            if self.pending_bytes > PENDING_LIMIT:
                self.client.pause_reading()
            return
        self.forward(chunks)

    def forward(self, chunks: list[bytes]) -> None:
        """Client payload to upstream: one call per batch of TLS records, not per record."""
        assert self.upstream is not None
        self.stats.add(stats.BYTES_UP, sum(map(len, chunks)))
        self.upstream.writelines(chunks)

    def _maybe_finish(self) -> None:
        if self.client_done and self.upstream_done:
            self.finish()

    def finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        if self.upstream is not None:
            self.upstream.close()
        self.client.close()

    def pause_upstream(self) -> None:
        if self.upstream is not None:
            with contextlib.suppress(RuntimeError):
                self.upstream.pause_reading()

    def resume_upstream(self) -> None:
        if self.upstream is not None:
            with contextlib.suppress(RuntimeError):
                self.upstream.resume_reading()

    def upstream_lost(self) -> None:
        if self.upstream is not None:
            self.stats.add(stats.STREAMS_OPEN, -1)
        self.upstream = None
        self.upstream_done = True
        self.finish()

    def client_lost(self) -> None:
        self.client_done = True
        self.finished = True
        if self._connecting is not None:
            self._connecting.cancel()
        if self.upstream is not None:
            self.upstream.close()


class WebSocketSplice(Splice):
    """WebSocket mode: after a standard upgrade, payload travels in binary frames, so the
    relay can sit behind an HTTP reverse proxy. Framing is the `websockets` library's."""

    __slots__ = ("_request", "_ws")

    def __init__(self, client: ClientPort, row: Row, head: bytes) -> None:
        super().__init__(client, row)
        self._ws = ServerProtocol(max_size=None)
        self._ws.receive_data(head)
        events = self._ws.events_received()
        self._request = events[0] if events and isinstance(events[0], Request) else None

    def _response(self, status: int | None) -> bytes:
        if self._request is None:
            return RAW_REFUSE
        request = self._request
        response = self._ws.accept(request) if status is None else self._ws.reject(status, "")
        headers = Headers((k, v) for k, v in response.headers.raw_items() if k.lower() != "server")
        headers["Server"] = SERVER
        response.headers = headers
        self._ws.send_response(response)
        return b"".join(self._ws.data_to_send())

    def acceptance(self) -> bytes:
        reply = self._response(None)
        if self._ws.state is not State.OPEN:
            self.client_done = True
        return reply

    def refusal(self) -> bytes:
        return self._response(502)

    def _flush(self) -> None:
        for chunk in self._ws.data_to_send():
            if chunk:
                self.client.send(chunk)
            else:
                self.client.send_eof()

    def client_payload(self, data: bytes) -> None:
        upstream = self.upstream
        self._ws.receive_data(data)
        for event in self._ws.events_received():
            carries = isinstance(event, Frame) and event.opcode in (Opcode.BINARY, Opcode.CONT)
            if carries and upstream is not None:
                assert isinstance(event, Frame)
                self.stats.add(stats.BYTES_UP, len(event.data))
                upstream.write(event.data)
        self._flush()
        if self._ws.state in (State.CLOSING, State.CLOSED):
            super().client_eof()

    def forward(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self.client_payload(chunk)

    def from_upstream(self, data: bytes) -> None:
        if self._ws.state is not State.OPEN:
            return
        self.stats.add(stats.BYTES_DOWN, len(data))
        self._ws.send_binary(data)
        self._flush()

    def upstream_eof(self) -> None:
        if self.upstream_done:
            return
        self.upstream_done = True
        if self._ws.state is State.OPEN:
            self._ws.send_close(1000)
            self._flush()
        self._maybe_finish()

    def client_eof(self) -> None:
        if self.pending is None:
            self._ws.receive_eof()
            self._flush()
        super().client_eof()
