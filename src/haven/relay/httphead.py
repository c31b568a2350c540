"""HTTP/1.x request heads, parsed strictly and with a size bound: enough for the decoy site
and for reading a proof, nothing more (no bodies, no chunked encoding)."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_HEAD_BYTES = 8 * 1024
MAX_HEADERS = 100

_END = re.compile(rb"\r?\n\r?\n")
_REQUEST_LINE = re.compile(rb"([A-Z]{1,16}) ([\x21-\x7e]{1,4096}) HTTP/(1\.[01])")
# A request line still arriving: reject garbage at once, as nginx does, instead of waiting
# for the deadline.
_LINE_PREFIX = re.compile(
    rb"(\r?\n)*[A-Z]{0,16}( [\x21-\x7e]{0,4096}( (H(T(T(P(/(1(\.([01]\r?)?)?)?)?)?)?)?)?)?)?"
)
_HEADER = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([\x20-\x7e\x80-\xff\t]*?)[ \t]*")


class BadRequest(Exception):
    """Not an HTTP/1.x request head (or too large)."""


@dataclass(frozen=True, slots=True)
class RequestHead:
    method: str
    target: str
    version: str
    headers: tuple[tuple[str, str], ...]  # names lower-cased

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def tokens(self, name: str) -> set[str]:
        """Comma-separated tokens of every `name` header, lower-cased."""
        found: set[str] = set()
        for key, value in self.headers:
            if key == name:
                found.update(t.strip().lower() for t in value.split(","))
        return found

    @property
    def keep_alive(self) -> bool:
        connection = self.tokens("connection")
        if self.version == "1.0":
            return "keep-alive" in connection
        return "close" not in connection

    @property
    def has_body(self) -> bool:
        length = self.header("content-length")
        return self.header("transfer-encoding") is not None or (
            length is not None and length.strip() not in ("", "0")
        )

    @property
    def wants_websocket(self) -> bool:
        return (
            self.method == "GET"
            and "websocket" in self.tokens("upgrade")
            and "upgrade" in self.tokens("connection")
        )


def split_head(buffer: bytes) -> tuple[bytes, bytes] | None:
    """(head, rest) once `buffer` holds a whole head; None while it is still arriving."""
    end = _END.search(buffer, 0, MAX_HEAD_BYTES + 4)
    if end is None:
        if len(buffer) > MAX_HEAD_BYTES:
            raise BadRequest("request head too large")
        first = buffer.lstrip(b"\r\n").split(b"\n", 1)
        complete = len(first) > 1
        line = first[0].rstrip(b"\r") if complete else first[0]
        valid = _REQUEST_LINE.fullmatch(line) if complete else _LINE_PREFIX.fullmatch(line)
        if valid is None:
            raise BadRequest("bad request line")
        return None
    return buffer[: end.end()], buffer[end.end() :]


def parse_head(raw: bytes) -> RequestHead:
    # Browsers and nginx tolerate blank lines before a request line (RFC 9112 2.2).
    lines = raw.lstrip(b"\r\n").split(b"\n")
    line = _REQUEST_LINE.fullmatch(lines[0].rstrip(b"\r"))
    if line is None:
        raise BadRequest("bad request line")
    headers: list[tuple[str, str]] = []
    for text in lines[1:]:
        text = text.rstrip(b"\r")
        if not text:
            continue
        header = _HEADER.fullmatch(text)
        if header is None or len(headers) >= MAX_HEADERS:
            raise BadRequest("bad header")
        headers.append((header[1].decode("ascii").lower(), header[2].decode("latin-1")))
    return RequestHead(
        line[1].decode("ascii"), line[2].decode("ascii"), line[3].decode("ascii"), tuple(headers)
    )
