"""The request-head guard in front of the app, on a bare ASGI app that counts the requests
it is handed: deadlines, size caps and refusals happen before any request reaches it.
(tests/e2e/test_hostile_http.py attacks a whole `haven server` the same way.)"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn

from haven.core import limits
from haven.server.httpguard import guarded_protocol

pytestmark = pytest.mark.anyio

DEADLINE = 0.3
WAIT = 30.0  # a deadline for a broken test, never a claim about speed


@dataclass
class Counting:
    requests: list[str] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.requests.append(scope["path"])
        headers = [(b"content-length", b"2")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})


@dataclass
class Guarded:
    port: int
    app: Counting


@pytest.fixture
async def guarded() -> AsyncIterator[Guarded]:
    app = Counting()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=guarded_protocol(DEADLINE), lifespan="off",
        log_level="error", loop="asyncio",
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done()
        await asyncio.sleep(0.01)
    try:
        yield Guarded(server.servers[0].sockets[0].getsockname()[1], app)
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def connection(port: int) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def everything(reader: asyncio.StreamReader) -> bytes:
    """What the server sends until it closes (a closed connection reads b"")."""
    return await asyncio.wait_for(reader.read(), WAIT)


async def test_a_silent_connection_is_closed_at_the_deadline(guarded: Guarded) -> None:
    async with connection(guarded.port) as (reader, _):
        assert await everything(reader) == b""
    assert guarded.app.requests == []


async def test_a_head_still_incomplete_at_the_deadline_is_dropped(guarded: Guarded) -> None:
    async with connection(guarded.port) as (reader, writer):
        writer.write(b"GET /slow HTTP/1.1\r\nHost: x\r\n")
        assert await everything(reader) == b""
    assert guarded.app.requests == []


async def test_an_idle_kept_alive_connection_is_not_the_deadlines_business(
    guarded: Guarded,
) -> None:
    async with connection(guarded.port) as (reader, writer):
        for path in (b"/one", b"/two"):
            writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
            assert head.startswith(b"HTTP/1.1 200 ")
            assert await asyncio.wait_for(reader.readexactly(2), WAIT) == b"ok"
            await asyncio.sleep(DEADLINE * 2)  # idle between requests: uvicorn's keep-alive
    assert guarded.app.requests == ["/one", "/two"]


async def refused(port: int, raw: bytes) -> tuple[int, str]:
    async with connection(port) as (reader, writer):
        writer.write(raw)
        answer = await everything(reader)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"\r\nconnection: close\r\n" in head + b"\r\n"
    assert b"\r\ncontent-type: application/json\r\n" in head + b"\r\n"
    return int(head.split()[1]), json.loads(body)["error"]["code"]


async def test_a_head_over_the_cap_is_431(guarded: Guarded) -> None:
    big = b"X-Big: " + b"a" * limits.MAX_REQUEST_HEAD_BYTES + b"\r\n"
    raw = b"GET / HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n"
    assert await refused(guarded.port, raw) == (431, "headers_too_large")
    many = b"".join(b"X-%d: 1\r\n" % i for i in range(limits.MAX_REQUEST_HEADERS + 1))
    raw = b"GET / HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"
    assert await refused(guarded.port, raw) == (431, "headers_too_large")
    assert guarded.app.requests == []


@pytest.mark.parametrize(
    "raw",
    [
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhello",
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Content-Length: 5\r\n\r\nhello",
    ],
    ids=["CL and TE", "two CLs", "upgrade with a body"],
)
async def test_an_ambiguous_request_is_a_json_400_and_never_reaches_the_app(
    guarded: Guarded, raw: bytes
) -> None:
    assert await refused(guarded.port, raw) == (400, "bad_request")
    assert guarded.app.requests == []
