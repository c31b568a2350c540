"""One client connection, from its first byte to its close.

    first byte 0x16 -> TLS handshake -> request heads -> proof?  yes -> spliced stream
    anything else   -> (plain HTTP)  -> request heads -> decoy site (keep-alive, 400, ...)

A stream opens only for the first request of a TLS connection that sent SNI, whose method
is GET and whose origin-form path is a fresh proof; every other request, on every other
connection, is answered by the decoy and nothing reaches upstream. The client's address is
used for the per-address cap only: it is never logged, stored or forwarded.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from enum import IntEnum
from typing import cast

from haven.core.relaylink import looks_like_proof
from haven.relay import stats
from haven.relay.config import RelayConfig
from haven.relay.decoy import DecoySite
from haven.relay.handshake import ProofGate
from haven.relay.httphead import BadRequest, RequestHead, parse_head, split_head
from haven.relay.limits import AddressCaps, address_key
from haven.relay.splice import Splice, WebSocketSplice
from haven.relay.stats import Row
from haven.relay.tls import TlsSession


class Phase(IntEnum):
    SNIFF = 0
    HANDSHAKE = 1
    REQUEST = 2
    STREAM = 3
    CLOSED = 4


@dataclass(eq=False)
class Hub:
    """What every connection of one worker shares."""

    config: RelayConfig
    tls: ssl.SSLContext
    gate: ProofGate
    decoy: DecoySite
    stats: Row
    caps: AddressCaps
    connections: set[ClientSide] = field(default_factory=set)
    draining: bool = False
    drained: asyncio.Event | None = None  # set when the last connection closes in a drain


class ClientSide(asyncio.Protocol):
    __slots__ = (
        "_buffer", "_deadline", "_key", "_served", "_tls", "_transport", "active", "hub", "phase",
        "stream",
    )  # fmt: skip

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.phase = Phase.SNIFF
        self.active = True
        self.stream: Splice | None = None
        self._transport: asyncio.Transport | None = None
        self._tls: TlsSession | None = None
        self._buffer = b""
        self._served = 0
        self._key: int | None = None
        self._deadline: asyncio.TimerHandle | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)
        transport = self._transport
        hub = self.hub
        hub.stats.add(stats.CONNECTIONS)
        if hub.draining or len(hub.connections) >= hub.config.max_connections:
            hub.stats.add(stats.REFUSED_FULL)
            self._refuse()
            return
        key = address_key(transport.get_extra_info("peername"))
        if not hub.caps.acquire(key):
            hub.stats.add(stats.REFUSED_PER_IP)
            self._refuse()
            return
        self._key = key
        hub.connections.add(self)
        hub.stats.add(stats.OPEN)
        self._arm_deadline()

    def data_received(self, data: bytes) -> None:
        self.active = True
        if self.phase is Phase.STREAM:
            self._stream_bytes(data)
            return
        if self.phase is Phase.SNIFF:
            if data[:1] == b"\x16":
                self._tls = TlsSession(self.hub.tls)
                self.phase = Phase.HANDSHAKE
            else:
                self.phase = Phase.REQUEST
        if self._tls is None:
            self._request_bytes(data)
            return
        try:
            chunks = self._tls.receive(data)
        except ssl.SSLError:
            self._write(self._tls.pending())  # the alert, as any TLS server sends
            self.close()
            return
        self._write(self._tls.pending())
        if self.phase is Phase.HANDSHAKE and self._tls.established:
            self.phase = Phase.REQUEST
        for i, chunk in enumerate(chunks):
            if self.phase is Phase.STREAM:
                assert self.stream is not None
                self.stream.from_client(chunks[i:])
                break
            if self.phase is not Phase.REQUEST:
                return
            self._request_bytes(chunk)
        if self._tls.peer_closed:
            if self.stream is not None:
                self.stream.client_eof()
            else:
                self.close()

    def eof_received(self) -> bool:
        if self.stream is not None:
            self.stream.client_eof()
            return True
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.phase = Phase.CLOSED
        self._disarm_deadline()
        if self._key is None:
            return
        hub = self.hub
        hub.connections.discard(self)
        hub.caps.release(self._key)
        hub.stats.add(stats.OPEN, -1)
        self._key = None
        if hub.drained is not None and not hub.connections:
            hub.drained.set()
        if self.stream is not None:
            self.stream.client_lost()

    def pause_writing(self) -> None:
        if self.stream is not None:
            self.stream.pause_upstream()
        else:
            self.pause_reading()  # a client pipelining requests it never reads

    def resume_writing(self) -> None:
        if self.stream is not None:
            self.stream.resume_upstream()
        else:
            self.resume_reading()

    # What a splice uses (ClientPort)

    def send(self, data: bytes) -> None:
        self.active = True
        if self._transport is None or self._transport.is_closing():
            return
        if self._tls is not None:
            data = self._tls.encrypt(data)
        self._transport.write(data)

    def send_eof(self) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if self._tls is not None:
            transport.write(self._tls.close_notify())
        if transport.can_write_eof():
            transport.write_eof()

    def pause_reading(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    # Internals

    def _refuse(self) -> None:
        self.phase = Phase.CLOSED
        assert self._transport is not None
        self._transport.close()

    def _write(self, data: bytes) -> None:
        if data and self._transport is not None:
            self._transport.write(data)

    def _arm_deadline(self) -> None:
        self._disarm_deadline()
        loop = asyncio.get_running_loop()
        self._deadline = loop.call_later(self.hub.config.handshake_timeout, self._too_slow)

    def _disarm_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.phase is not Phase.STREAM:
            self.hub.stats.add(stats.TIMEOUTS)
            self.abort()

    def _stream_bytes(self, data: bytes) -> None:
        assert self.stream is not None
        if self._tls is None:
            return
        try:
            chunks = self._tls.receive(data)
        except ssl.SSLError:
            self.abort()
            return
        self._write(self._tls.pending())
        if chunks:
            self.stream.from_client(chunks)
        if self._tls.peer_closed:
            self.stream.client_eof()

    def _request_bytes(self, data: bytes) -> None:
        self._buffer += data
        decoy = self.hub.decoy
        while self.phase is Phase.REQUEST:
            try:
                split = split_head(self._buffer)
                if split is None:
                    return
                raw, self._buffer = split
                head = parse_head(raw)
            except BadRequest:
                self._buffer = b""
                self.hub.stats.add(stats.DECOY)
                self._reply(decoy.bad_request(), keep=False)
                return
            if self._served == 0 and self._proven(head):
                self._open_stream(head, raw)
                return
            self._served += 1
            self.hub.stats.add(stats.DECOY)
            response, keep = decoy.respond(head)
            self._reply(response, keep)
            if keep:
                self._arm_deadline()

    def _reply(self, response: bytes, keep: bool) -> None:
        self.send(response)
        if not keep:
            self.phase = Phase.CLOSED
            if self._tls is not None and self._transport is not None:
                self._write(self._tls.close_notify())
            self.close()

    def _proven(self, head: RequestHead) -> bool:
        token = head.target[1:] if head.target.startswith("/") else ""
        if not looks_like_proof(token):
            return False
        ok = (
            self._tls is not None
            and self._tls.sni is not None
            and head.method == "GET"
            and not self.hub.draining
            and self.hub.gate.admit(token)
        )
        self.hub.stats.add(stats.HANDSHAKE_OK if ok else stats.HANDSHAKE_FAILED)
        return ok

    def _open_stream(self, head: RequestHead, raw: bytes) -> None:
        self._disarm_deadline()
        self.phase = Phase.STREAM
        row = self.hub.stats
        stream = WebSocketSplice(self, row, raw) if head.wants_websocket else Splice(self, row)
        self.stream = stream
        first, self._buffer = self._buffer, b""
        stream.start(self.hub.config.upstream, first)

    def check_idle(self) -> None:
        """Called periodically: a stream with no traffic since the last call is closed."""
        if self.phase is Phase.STREAM:
            if not self.active and self.stream is not None and not self.stream.finished:
                self.abort()
            self.active = False
