"""TLS for the relay: the server context, and a sans-I/O TLS session over memory BIOs.

Memory BIOs rather than the event loop's own TLS transport because the relay must look at
the first bytes before deciding whether a connection is TLS at all (plain HTTP gets the
decoy too), must know whether the client sent SNI, and must half-close each direction of a
spliced stream separately, which the loop's TLS transports cannot do.
"""

from __future__ import annotations

import contextlib
import ssl
from pathlib import Path

READ_CHUNK = 256 * 1024


class SniObject(ssl.SSLObject):
    """An SSLObject that remembers the server name the client asked for."""

    sni: str | None = None


def _record_sni(obj: ssl.SSLObject | ssl.SSLSocket, name: str | None, _: ssl.SSLContext) -> None:
    if isinstance(obj, SniObject):
        obj.sni = name


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.options |= ssl.OP_NO_RENEGOTIATION | ssl.OP_CIPHER_SERVER_PREFERENCE
    # An HTTP/1.1-only web server: what a plain nginx without http2 answers in ALPN.
    ctx.set_alpn_protocols(["http/1.1"])
    ctx.sslobject_class = SniObject
    ctx.sni_callback = _record_sni
    return ctx


class TlsSession:
    """One server-side TLS connection: ciphertext in, plaintext out, and the reverse."""

    __slots__ = ("_in", "_obj", "_out", "established", "peer_closed")

    def __init__(self, ctx: ssl.SSLContext) -> None:
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._obj = ctx.wrap_bio(self._in, self._out, server_side=True)
        self.established = False
        self.peer_closed = False

    @property
    def sni(self) -> str | None:
        return self._obj.sni if isinstance(self._obj, SniObject) else None

    def receive(self, data: bytes) -> list[bytes]:
        """Feeds ciphertext; returns the plaintext it completes. Raises ssl.SSLError on a
        broken or failed handshake (send `pending()` - the alert - then close)."""
        self._in.write(data)
        if not self.established:
            try:
                self._obj.do_handshake()
            except ssl.SSLWantReadError:
                return []
            self.established = True
        chunks: list[bytes] = []
        while True:
            try:
                chunk = self._obj.read(READ_CHUNK)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                self.peer_closed = True
                break
            if not chunk:
                self.peer_closed = True
                break
            chunks.append(chunk)
        return chunks

    def pending(self) -> bytes:
        """Ciphertext waiting to be sent (handshake flights, alerts, tickets)."""
        return self._out.read()

    def encrypt(self, data: bytes) -> bytes:
        self._obj.write(data)
        return self._out.read()

    def close_notify(self) -> bytes:
        """Ends our direction; the peer's may go on (TLS 1.3 half-close)."""
        # Want-read: the peer's close_notify has not come yet, as expected.
        with contextlib.suppress(ssl.SSLError):
            self._obj.unwrap()
        return self._out.read()
