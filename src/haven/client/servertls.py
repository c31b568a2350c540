"""Authenticating the server end to end, also through a relay.

A relay splices bytes, so whatever the client sends through it in the clear, the relay's
operator can read: the device token above all, which would let them act as this device
and link a device of their own. So through a relay the client always speaks TLS to the
server itself, inside the relay's TLS (`InnerTls`), and checks the server's certificate
before one byte of a request leaves: by the pin the server operator printed
(`--server-pin`), or by the certificate authorities and the host name when there is none.

A server with a self-signed certificate is reached directly the same way: its certificate
is fetched once, checked against the pin, and then trusted alone (`pinned_context`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from haven.client.errors import Unreachable
from haven.core.relaylink import PIN_BYTES, b64url_decode, is_loopback, spki_pin

READ_CHUNK = 64 * 1024


class ServerPinMismatch(Unreachable):
    """The server's certificate is not the one its pin names: someone (a relay, a network)
    may be in the middle. Nothing was sent."""


class ServerNotPrivate(Unreachable):
    """The server speaks plain HTTP, so a relay would see the device token in the clear."""


def parse_pin(text: str) -> bytes:
    """A server pin as `haven up`/`haven server --tls` print it; ValueError if it is not."""
    try:
        pin = b64url_decode(text.strip())
    except ValueError:
        pin = b""
    if len(pin) != PIN_BYTES:
        raise ValueError(
            "a server pin is the 43-character code `haven server --tls` prints "
            "(base64url of a SHA-256)"
        )
    return pin


@dataclass(frozen=True)
class ServerAddress:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> ServerAddress:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http:// or https:// server address: {url!r}")
        return cls(scheme, parts.hostname, parts.port or (443 if scheme == "https" else 80))

    @property
    def private_through_relay(self) -> bool:
        """HTTPS is private end to end; plain HTTP only when the server is this machine
        (a development set-up, where the relay is this machine too)."""
        return self.scheme == "https" or is_loopback(self.host)


def check_relay_allowed(server: str) -> None:
    """ServerNotPrivate when reaching `server` through a relay would expose the token."""
    if not ServerAddress.of(server).private_through_relay:
        raise ServerNotPrivate(
            f"{server} does not use TLS (http://), so a relay's operator could read this "
            "device's token: ask your server's operator for its https:// address"
        )


def _unverified_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # The pin replaces CA and host-name checks; it is checked before anything is sent.
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def inner_context(pin: bytes | None) -> ssl.SSLContext:
    """For TLS to the server inside a relay stream: pinned (checked after the handshake by
    `check_peer`), or the usual certificate authorities and host-name check."""
    ctx = _unverified_context() if pin is not None else httpx.create_ssl_context()
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def check_peer(der: bytes | None, pin: bytes | None, where: str) -> None:
    if pin is None:
        return  # the context verified the chain and the host name during the handshake
    if der is None or not hmac.compare_digest(spki_pin(der), pin):
        raise ServerPinMismatch(
            f"{where} presented a different certificate than the server pin in this "
            "profile; the connection may be intercepted, so nothing was sent"
        )


async def pinned_context(server: str, pin: bytes, within: float) -> ssl.SSLContext:
    """A context that trusts exactly the certificate `server` presents now, after checking
    it against `pin`; the fetch sends nothing but a TLS handshake."""
    address = ServerAddress.of(server)
    try:
        async with asyncio.timeout(within):
            _, writer = await asyncio.open_connection(
                address.host, address.port, ssl=_unverified_context(),
                server_hostname=address.host, ssl_handshake_timeout=within,
            )  # fmt: skip
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        raise Unreachable(f"cannot reach {server}: {exc or 'timed out'}") from None
    der = writer.get_extra_info("ssl_object").getpeercert(True)
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
        async with asyncio.timeout(within):
            await writer.wait_closed()
    check_peer(der, pin, server)
    trust = ssl.create_default_context(cadata=der)
    trust.check_hostname = False  # the pin names the key; the name in it does not matter
    return trust


class InnerTls:
    """TLS to the server carried inside another stream, without I/O of its own (Python's
    `ssl` over memory buffers): bytes from the relay go in, bytes for the relay come out."""

    def __init__(self, context: ssl.SSLContext, server_hostname: str) -> None:
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(
            self._incoming, self._outgoing, server_hostname=server_hostname
        )
        self.established = False
        self.closed = False

    def _drain(self) -> bytes:
        return self._outgoing.read()

    def _handshake(self) -> None:
        try:
            self._tls.do_handshake()
        except ssl.SSLWantReadError:
            return
        self.established = True

    def start(self) -> bytes:
        """The ClientHello."""
        self._handshake()
        return self._drain()

    def receive(self, data: bytes) -> tuple[bytes, bytes]:
        """(plaintext for this device, bytes to send back); ssl.SSLError if the server's
        side cannot be trusted or is not TLS."""
        self._incoming.write(data)
        if not self.established:
            self._handshake()
            if not self.established:
                return b"", self._drain()
        plain: list[bytes] = []
        while not self.closed:
            try:
                chunk = self._tls.read(READ_CHUNK)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                self.closed = True
                break
            if not chunk:
                break
            plain.append(chunk)
        return b"".join(plain), self._drain()

    def send(self, plaintext: bytes) -> bytes:
        self._tls.write(plaintext)
        return self._drain()

    def close(self) -> bytes:
        """The close_notify alert, if the session got that far."""
        if self.established and not self.closed:
            with contextlib.suppress(ssl.SSLError):
                self._tls.unwrap()
        self.closed = True
        return self._drain()

    def peer_certificate(self) -> bytes | None:
        return self._tls.getpeercert(True)
