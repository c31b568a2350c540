"""HTTP/1.1 request heads under a deadline and a size cap, in front of the ASGI app.

uvicorn (httptools) waits forever for a request's headers and keeps every header it is
sent: one client trickling a header a byte at a time holds a connection open for as long as
it likes (slowloris), and a megabyte of headers is buffered and handed on. This protocol is
uvicorn's own, plus:

- a deadline from the connection's start (and from each later request's first byte on a
  keep-alive connection) to the end of the request's headers: when it passes, the
  connection is closed;
- a cap on the head's size and on its number of headers: over it, `431` and the connection
  is closed;
- a malformed request (conflicting Content-Length and Transfer-Encoding, a duplicate
  Content-Length, an obfuscated Transfer-Encoding: what request smuggling is made of; and a
  WebSocket handshake with a body, which uvicorn leaves hanging) gets the same JSON error
  body as every other refusal, and the connection is closed, so no bytes after it are ever
  read as another request.

Bodies are not timed here: an attachment may take long to upload on a slow link.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from haven.core import limits
from haven.core.errors import ErrorCode, HavenError

_REASONS = {400: b"Bad Request", 431: b"Request Header Fields Too Large"}
LINGER_SECONDS = 2.0  # after refusing a request: how long its remaining bytes are drained


class HeadTooLarge(Exception):
    """Raised from a parser callback: httptools stops parsing and reports a parser error."""


class MalformedRequest(Exception):
    """Raised from a parser callback for a request the parser itself would let through."""


_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding"})


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    head_seconds: float = limits.REQUEST_HEAD_SECONDS
    max_head_bytes: int = limits.MAX_REQUEST_HEAD_BYTES
    max_headers: int = limits.MAX_REQUEST_HEADERS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._in_head = True  # until the first request's headers are complete
        self._head_bytes = 0  # what the parser has handed over: request line and headers
        self._raw_head_bytes = 0  # what has arrived while the head is incomplete
        self._headers = 0
        self._too_large = False
        self._refused = False
        self._began_here = False  # a request began in the read being parsed

    # -- the deadline ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        super().connection_lost(exc)

    def _start_clock(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.head_seconds, self._head_timed_out)

    def _stop_clock(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _head_timed_out(self) -> None:
        self._deadline = None
        if self._in_head and not self.transport.is_closing():
            self.transport.close()

    # -- the head ---------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # the rest of a refused request, read only so the answer is not lost
        self._began_here = False
        super().data_received(data)
        # A header still arriving is buffered by the parser, not yet seen by on_header:
        # count raw bytes too, so one endless header is cut off as well as many short ones.
        # (Not the read a request began in: part of it may be the previous request's body.
        # The parser holds at most that one read beyond the cap.)
        if self._in_head and not self._began_here and not self.transport.is_closing():
            self._raw_head_bytes += len(data)
            if self._raw_head_bytes > self.max_head_bytes:
                self._too_large = True
                self.send_400_response("request head too large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = self._began_here = True
        self._head_bytes = self._raw_head_bytes = self._headers = 0
        self._start_clock()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers += 1
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._stop_clock()
        if self.parser.should_upgrade() and any(name in _BODY_HEADERS for name, _ in self.headers):
            # A WebSocket handshake has no body; uvicorn would otherwise leave this one
            # hanging, neither upgraded nor answered, with no deadline.
            raise MalformedRequest
        super().on_headers_complete()

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.max_head_bytes or self._headers > self.max_headers:
            self._too_large = True
            raise HeadTooLarge

    # -- refusals -----------------------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        """uvicorn calls this for anything the parser refuses; the answer is Haven's JSON
        error, and the connection closes either way.

        Closing with unread bytes in the socket makes the kernel send a reset, which can
        destroy the answer before the client reads it; so the connection says it is done
        sending, drains what is still coming for a moment, then closes."""
        if self.transport.is_closing() or self._refused:
            return
        self._refused = True
        self._in_head = False
        self._stop_clock()
        if self._too_large:
            error = HavenError(
                ErrorCode.HEADERS_TOO_LARGE,
                f"the request head exceeds {self.max_head_bytes} bytes "
                f"or {self.max_headers} headers",
            )
        else:
            error = HavenError(
                ErrorCode.BAD_REQUEST, "the request is not valid HTTP/1.1; connection closed"
            )
        body = json.dumps(error.to_wire()).encode()
        head = [b"HTTP/1.1 %d %s\r\n" % (error.status, _REASONS[error.status])]
        head += [name + b": " + value + b"\r\n" for name, value in self._default_headers()]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _default_headers(self) -> list[tuple[bytes, bytes]]:
        headers: list[tuple[bytes, bytes]] = self.server_state.default_headers
        return headers


def guarded_protocol(head_seconds: float) -> type[GuardedHttpToolsProtocol]:
    """The protocol class with this server's head deadline (uvicorn builds one instance per
    connection from the class)."""
    return type("HavenHttpProtocol", (GuardedHttpToolsProtocol,), {"head_seconds": head_seconds})
