"""Reaching the server through a relay: a loopback forwarder the existing HTTP and WebSocket
clients use unchanged.

`RelayTunnel(link)` listens on 127.0.0.1:<free port>. Each local connection becomes one TLS
connection to the relay, whose certificate must match the pin in the invite link (checked
here after the handshake, so a self-signed certificate works and a CA cannot substitute
another); on a mismatch nothing is sent and the local connection is closed. Then the first
request carries a fresh proof of the invite secret, and once the relay answers (101, or the
WebSocket upgrade in ws mode) bytes flow both ways.

Given the server's https:// address, the tunnel then speaks TLS to the server itself inside
that stream and checks the server's certificate (its pin, or the CAs and host name) before
it forwards anything: the relay carries only ciphertext it cannot read or alter
(`haven.client.servertls`). Only the hop from this device's own HTTP client to the tunnel,
on 127.0.0.1, is plain.

    async with RelayTunnel(link, server="https://haven.example.org") as tunnel:
        await tunnel.check()                    # optional: a clear error now, not later
        api = HavenApi(tunnel.url, token)       # and EnvelopeStream(tunnel.url, token)
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import ssl
from dataclasses import dataclass
from typing import cast

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

from haven.client.errors import Unreachable
from haven.client.servertls import InnerTls, ServerAddress, check_peer, inner_context
from haven.core.relaylink import RelayLink, make_proof, parse, spki_pin

log = logging.getLogger("haven.client.relay")

MAX_RESPONSE_HEAD = 16 * 1024
# Looks like any HTTP client to a reverse proxy in front of a ws-mode relay.
USER_AGENT = "Mozilla/5.0"


class RelayUnreachable(Unreachable):
    """The relay could not be reached, or did not let this client through."""


class RelayPinMismatch(RelayUnreachable):
    """The relay's certificate is not the one the invite link pins: someone may be
    intercepting the connection. Nothing was sent to it."""


class RelayRefused(RelayUnreachable):
    """The relay answered like an ordinary web site: it did not accept the invite secret."""


def _client_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # The pin replaces CA and host-name checks: a relay's certificate is usually self-signed.
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


@dataclass(frozen=True)
class Upstream:
    """The server at the far end of the relay, spoken to over TLS inside the relay stream."""

    host: str
    pin: bytes | None  # None: certificate authorities and the host name

    @classmethod
    def of(cls, server: str | None, pin: bytes | None) -> Upstream | None:
        """None for a plain-HTTP server (allowed on loopback only: see
        `servertls.check_relay_allowed`)."""
        if server is None:
            return None
        address = ServerAddress.of(server)
        return cls(address.host, pin) if address.scheme == "https" else None


class _RelaySide(asyncio.Protocol):
    """The TLS connection to the relay: the proof exchange, then the carried bytes (inside
    TLS to the server when there is an `Upstream`)."""

    def __init__(self, link: RelayLink) -> None:
        self.link = link
        self.inner: InnerTls | None = None
        self.inner_ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.local: _LocalSide | None = None
        self._head = b""
        self._early: list[bytes] = []
        self._ws: ClientProtocol | None = None
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def begin(self) -> None:
        assert self.transport is not None
        token = make_proof(self.link.secret)
        host = self.link.server_name or self.link.host
        authority = f"[{host}]" if ":" in host else host
        if self.link.port != 443:
            authority += f":{self.link.port}"
        if not self.link.websocket:
            self.transport.write(
                f"GET /{token} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {USER_AGENT}\r\n"
                "Connection: Upgrade\r\nUpgrade: haven-relay-v1\r\n\r\n".encode()
            )
            return
        self._ws = ClientProtocol(parse_uri(f"wss://{authority}/{token}"), max_size=None)
        request = self._ws.connect()
        request.headers["User-Agent"] = USER_AGENT
        self._ws.send_request(request)
        self._flush()

    def _flush(self) -> None:
        if self._ws is None or self.transport is None:
            return
        for chunk in self._ws.data_to_send():
            if chunk:
                self.transport.write(chunk)

    def _fail(self, error: Exception) -> None:
        # Whoever waits now: for the relay to let us in, or for TLS with the server.
        waiter = self.inner_ready if self.opened.done() and self.inner else self.opened
        if not waiter.done():
            waiter.set_exception(error)
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._ws is not None:
            self._ws_data(data)
        elif self.opened.done():
            self._deliver(data)
        else:
            self._raw_head(data)

    def _raw_head(self, data: bytes) -> None:
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0:
            if len(self._head) > MAX_RESPONSE_HEAD:
                self._fail(RelayRefused("the relay sent a response this client cannot read"))
            return
        head, rest = self._head[:end], self._head[end + 4 :]
        self._head = b""
        if not head.startswith(b"HTTP/1.1 101 "):
            self._fail(self._refusal(head.split(b"\r\n", 1)[0]))
            return
        self.opened.set_result(None)
        if rest:
            self._deliver(rest)

    def _refusal(self, status_line: bytes) -> RelayUnreachable:
        if status_line.startswith((b"HTTP/1.1 502", b"HTTP/1.1 503")):
            return RelayUnreachable("the relay is up but cannot reach its Haven server")
        return RelayRefused(
            "the relay did not accept this invite (a different secret, or this device's "
            "clock is off by more than two minutes)"
        )

    def _ws_data(self, data: bytes) -> None:
        ws = self._ws
        assert ws is not None
        ws.receive_data(data)
        for event in ws.events_received():
            if isinstance(event, Response):
                if ws.handshake_exc is not None or ws.state is not State.OPEN:
                    status = f"HTTP/1.1 {event.status_code}".encode()
                    self._fail(self._refusal(status))
                    return
                self.opened.set_result(None)
            elif isinstance(event, Frame) and event.opcode in (Opcode.BINARY, Opcode.CONT):
                self._deliver(bytes(event.data))
        self._flush()
        if ws.state is State.CLOSED or ws.close_expected():
            self._ended()

    def start_inner(self, inner: InnerTls) -> None:
        self.inner = inner
        self._send_wire(inner.start())

    def _deliver(self, data: bytes) -> None:
        if self.inner is not None:
            try:
                data, reply = self.inner.receive(data)
            except ssl.SSLError as exc:
                self._fail(RelayUnreachable(f"TLS with the server through the relay failed: {exc}"))
                return
            if reply:
                self._send_wire(reply)
            if self.inner.established and not self.inner_ready.done():
                self.inner_ready.set_result(None)
            if not data:
                return
        if self.local is None:
            self._early.append(data)
        else:
            self.local.write(data)

    def attach(self, local: _LocalSide) -> None:
        self.local = local
        for chunk in self._early:
            local.write(chunk)
        self._early = []

    def send(self, data: bytes) -> None:
        """Bytes from this device's client, towards the server."""
        if self.inner is not None:
            if self.inner.closed or not self.inner.established:
                return
            data = self.inner.send(data)
        self._send_wire(data)

    def _send_wire(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if self._ws is None:
            self.transport.write(data)
            return
        if self._ws.state is State.OPEN:
            self._ws.send_binary(data)
            self._flush()

    def close(self) -> None:
        """Our side is done: the server's TLS close first, then a WebSocket close frame in
        ws mode, then the relay's TLS close."""
        if self.inner is not None and not self.inner.closed:
            self._send_wire(self.inner.close())
        if self._ws is not None and self._ws.state is State.OPEN:
            self._ws.send_close(1000)
            self._flush()
        if self.transport is not None:
            self.transport.close()

    def _ended(self) -> None:
        if self.local is not None:
            self.local.close()
        if self.transport is not None:
            self.transport.close()

    def eof_received(self) -> bool:
        if not self.opened.done():
            self._fail(RelayRefused("the relay closed the connection before letting us through"))
        self._ended()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(RelayUnreachable("the relay closed the connection"))
        if self.inner is not None and not self.inner_ready.done():
            self.inner_ready.set_exception(
                RelayUnreachable("the relay's server closed the connection during TLS")
            )
        if not self.lost.done():
            self.lost.set_result(None)
        self._ended()

    async def hang_up(self, within: float = 2.0) -> None:
        """Close (TLS close_notify, and a close frame in ws mode) and wait until the
        connection is really gone, so nothing is left half-closed when the caller's event
        loop ends; a relay that does not answer is cut off."""
        self.close()
        try:
            async with asyncio.timeout(within):
                await asyncio.shield(self.lost)
        except TimeoutError:
            if self.transport is not None:
                self.transport.abort()
            await asyncio.sleep(0)

    def pause_writing(self) -> None:
        if self.local is not None:
            self.local.pause_reading()

    def resume_writing(self) -> None:
        if self.local is not None:
            self.local.resume_reading()


async def dial(link: RelayLink, within: float, upstream: Upstream | None = None) -> _RelaySide:
    """One connection through the relay to its server, ready to carry bytes (and, with an
    `upstream`, inside TLS to that server whose certificate has been checked)."""
    loop = asyncio.get_running_loop()
    side = _RelaySide(link)
    where = f"{link.host}:{link.port}"
    try:
        async with asyncio.timeout(within):
            transport, _ = await loop.create_connection(
                lambda: side, link.host, link.port, ssl=_client_context(),
                server_hostname=link.server_name or "", ssl_handshake_timeout=within,
            )  # fmt: skip
    except (OSError, TimeoutError) as exc:
        raise RelayUnreachable(f"cannot reach the relay at {where}: {exc or 'timed out'}") from None
    der = cast(ssl.SSLObject, transport.get_extra_info("ssl_object")).getpeercert(True)
    if der is None or not hmac.compare_digest(spki_pin(der), link.pin):
        side.opened.cancel()  # nobody will wait for it now
        transport.abort()
        await asyncio.sleep(0)  # let the socket close before the caller's loop may end
        raise RelayPinMismatch(
            f"the relay at {where} presented a different certificate than its invite link "
            "pins; the connection may be intercepted, so nothing was sent"
        )
    side.begin()
    try:
        async with asyncio.timeout(within):
            await side.opened
    except TimeoutError:
        transport.abort()
        await asyncio.sleep(0)
        raise RelayUnreachable(f"the relay at {where} did not answer in time") from None
    except RelayUnreachable:
        transport.abort()
        await asyncio.sleep(0)
        raise
    if upstream is not None:
        await _secure(side, transport, upstream, where, within)
    return side


async def _secure(
    side: _RelaySide, transport: asyncio.Transport, upstream: Upstream, where: str,
    within: float,
) -> None:  # fmt: skip
    """TLS to the server through the relay; the pin is checked before anything is sent."""
    inner = InnerTls(inner_context(upstream.pin), upstream.host)
    side.start_inner(inner)
    try:
        async with asyncio.timeout(within):
            await side.inner_ready
        check_peer(inner.peer_certificate(), upstream.pin, f"the server behind relay {where}")
    except TimeoutError:
        transport.abort()
        await asyncio.sleep(0)
        raise RelayUnreachable(f"the server behind relay {where} did not answer TLS") from None
    except Unreachable:
        transport.abort()
        await asyncio.sleep(0)
        raise


class _LocalSide(asyncio.Protocol):
    """A connection from this device's own HTTP/WebSocket client to the tunnel."""

    def __init__(self, tunnel: RelayTunnel) -> None:
        self.tunnel = tunnel
        self.transport: asyncio.Transport | None = None
        self.relay: _RelaySide | None = None
        self._task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.pause_reading()  # nothing to forward to until the relay answers
        self.tunnel.live.add(self)
        self._task = asyncio.get_running_loop().create_task(self._open())

    async def _open(self) -> None:
        try:
            relay = await dial(self.tunnel.link, self.tunnel.timeout, self.tunnel.upstream)
        except Unreachable as exc:
            self.tunnel.last_error = exc
            log.warning("relay connection failed: %s", exc)
            if self.transport is not None:
                self.transport.abort()
            return
        finally:
            self._task = None
        if self.transport is None or self.transport.is_closing():
            relay.close()
            return
        self.tunnel.last_error = None
        self.relay = relay
        # Kept until the connection is really gone: a relay side whose local side closed
        # first may still be finishing its TLS close when the tunnel shuts down.
        self.tunnel.relay_sides.add(relay)
        relay.lost.add_done_callback(lambda _: self.tunnel.relay_sides.discard(relay))
        relay.attach(self)
        self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        if self.relay is not None:
            self.relay.send(data)

    def eof_received(self) -> bool:
        # HTTP and WebSocket clients close only when done, and a TLS transport cannot
        # half-close: the relay connection ends with this one.
        if self.relay is not None:
            self.relay.close()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.tunnel.live.discard(self)
        if self._task is not None:
            self._task.cancel()
        if self.relay is not None:
            self.relay.close()
        self.transport = None

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def pause_reading(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def pause_writing(self) -> None:
        if self.relay is not None and self.relay.transport is not None:
            self.relay.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.relay is not None and self.relay.transport is not None:
            self.relay.transport.resume_reading()


class RelayTunnel:
    def __init__(
        self,
        link: RelayLink | str,
        timeout: float = 15.0,
        server: str | None = None,
        server_pin: bytes | None = None,
    ) -> None:
        self.link = parse(link) if isinstance(link, str) else link
        self.timeout = timeout
        self.upstream = Upstream.of(server, server_pin)
        self.live: set[_LocalSide] = set()
        self.relay_sides: set[_RelaySide] = set()
        self.last_error: Unreachable | None = None
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def name(self) -> str:
        """How to name this relay to a person (never its secret)."""
        return f"{self.link.host}:{self.link.port}"

    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("use `async with RelayTunnel(...)`")
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> RelayTunnel:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _LocalSide(self), "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.close()
        for local in list(self.live):
            if local.transport is not None:
                local.transport.abort()
        await asyncio.gather(*(relay.hang_up() for relay in list(self.relay_sides)))
        await asyncio.sleep(0)  # let the aborted local connections finish closing
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await self._server.wait_closed()

    async def check(self) -> None:
        """Connects once through the relay and hangs up: RelayPinMismatch, RelayRefused or
        RelayUnreachable says what is wrong."""
        side = await dial(self.link, self.timeout, self.upstream)
        await side.hang_up()
