"""Hostile HTTP against a real `haven server` process (uvicorn as `haven server` runs it):
request smuggling, oversize heads, slowloris.

- Every ambiguous framing (Content-Length with Transfer-Encoding, two Content-Lengths, an
  obfuscated Transfer-Encoding, bad chunk sizes, bare line feeds, ...) is answered with one
  400 in Haven's JSON error shape and the connection is closed: the request hidden behind it
  (a message send with a valid token) never runs.
- A head over the cap (one huge header, or too many) gets 431 and never reaches the app.
- A silent or trickling client is cut off at the head deadline, long before its head ends,
  and while such clients keep coming back, everyone else's requests still succeed.

The server's head deadline is shortened to HEAD_SECONDS so the tests are quick; nothing here
measures time: a trickle is cut off if the server closes the socket before the head is
done.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import select
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from haven.core import b64, limits
from tests.processes import ServerProcess
from tests.server.conftest import DeviceKeys

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

HEAD_SECONDS = 0.5
TRICKLE_INTERVAL = 0.05  # a 2,000-byte head trickled at this pace takes 100 s unless cut
WAIT = 30.0  # socket timeouts: a deadline for a broken test, never a claim about speed


@dataclass
class Target:
    server: ServerProcess
    alice: dict[str, str]
    bob: dict[str, str]
    bob_auth: dict[str, str]

    @property
    def port(self) -> int:
        return self.server.port

    def hidden_send(self, label: str, close: bool = False) -> bytes:
        """A complete, valid request that sends Bob a message: what a smuggler hides."""
        body = json.dumps({
            "recipients": [self.bob],
            "ciphertext": b64.encode(f"smuggled {label}".encode()),
            "kind": "olm",
        }).encode()  # fmt: skip
        return (
            b"POST /v1/messages HTTP/1.1\r\nHost: haven\r\n"
            + f"Authorization: {self.alice['Authorization']}\r\n".encode()
            + b"Content-Type: application/json\r\n"
            + (b"Connection: close\r\n" if close else b"")
            + b"Content-Length: %d\r\n\r\n" % len(body)
            + body
        )

    def bob_queue(self) -> list[str]:
        response = httpx.get(f"{self.server.url}/v1/messages", headers=self.bob_auth, timeout=WAIT)
        assert response.status_code == 200
        return [b64.decode(e["ciphertext"]).decode() for e in response.json()["envelopes"]]


def _register(url: str) -> tuple[dict[str, str], dict[str, str]]:
    response = httpx.post(
        f"{url}/v1/accounts", json={"identity_keys": DeviceKeys().identity()}, timeout=WAIT
    )
    assert response.status_code == 201, response.text
    body = response.json()
    address = {"account_id": body["account_id"], "device_id": body["device_id"]}
    return address, {"Authorization": f"Bearer {body['token']}"}


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    data = tmp_path_factory.mktemp("hostile-http")
    server = ServerProcess(
        data, f"sqlite:///{data / 'haven.sqlite3'}", HAVEN_REQUEST_HEAD_SECONDS=str(HEAD_SECONDS)
    )
    try:
        server.start()
        _, alice = _register(server.url)
        bob, bob_auth = _register(server.url)
        yield Target(server, alice, bob, bob_auth)
    finally:
        server.stop()


# -- raw HTTP --------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def error_code(self) -> str:
        code: str = json.loads(self.body)["error"]["code"]
        return code


def read_until_closed(sock: socket.socket) -> tuple[bytes, bool]:
    """Everything the server sends, and whether it closed the connection (rather than our
    timeout running out)."""
    data = b""
    sock.settimeout(WAIT)
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        return data, False
    except ConnectionResetError:
        pass
    return data, True


def parse_answers(data: bytes) -> list[Answer]:
    found = []
    while data:
        head, separator, rest = data.partition(b"\r\n\r\n")
        assert separator, f"a truncated answer: {data[:200]!r}"
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        found.append(Answer(int(status_line.split()[1]), headers, rest[:length]))
        data = rest[length:]
    return found


def exchange(port: int, raw: bytes) -> tuple[list[Answer], bool]:
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(raw)
        data, closed = read_until_closed(sock)
    return parse_answers(data), closed


# -- request smuggling -----------------------------------------------------------------------


POST = b"POST /v1/health HTTP/1.1\r\nHost: haven\r\n"
EMPTY_CHUNKED = b"0\r\n\r\n"
WS_HANDSHAKE = (
    b"GET /v1/stream HTTP/1.1\r\nHost: haven\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
)


def smuggling_attempts(hidden: bytes) -> dict[str, bytes]:
    """Framings that two HTTP parsers could read differently, each with `hidden` placed
    where one reading would take it for a second request."""
    n = len(hidden)
    # name -> (request line and first headers, framing headers, body before `hidden`)
    cases = {
        "CL.TE": (POST, b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n" % (n + 5),
                  EMPTY_CHUNKED),
        "TE.CL": (POST, b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", b"%x\r\n" % n),
        "two Content-Lengths": (POST, b"Content-Length: 0\r\nContent-Length: %d\r\n" % n, b""),
        "Content-Length list": (POST, b"Content-Length: 0, %d\r\n" % n, b""),
        "signed Content-Length": (POST, b"Content-Length: +0\r\n", b""),
        "negative Content-Length": (POST, b"Content-Length: -1\r\n", b""),
        "overflowing Content-Length": (POST, b"Content-Length: 99999999999999999999999\r\n", b""),
        "TE not chunked": (POST, b"Transfer-Encoding: xchunked\r\n", EMPTY_CHUNKED),
        "TE with space before colon": (
            POST, b"Transfer-Encoding : chunked\r\nContent-Length: 0\r\n", EMPTY_CHUNKED),
        "TE chunked, identity": (POST, b"Transfer-Encoding: chunked, identity\r\n", EMPTY_CHUNKED),
        "two TEs": (POST, b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
                    EMPTY_CHUNKED),
        "TE behind a vertical tab": (
            POST, b"Transfer-Encoding:\x0bchunked\r\nContent-Length: 0\r\n", EMPTY_CHUNKED),
        "TE folded onto the next line": (
            POST, b"Transfer-Encoding:\r\n chunked\r\nContent-Length: 0\r\n", EMPTY_CHUNKED),
        "TE and CL on HTTP/1.0": (
            b"POST /v1/health HTTP/1.0\r\n",
            b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", EMPTY_CHUNKED),
        "chunk size overflow": (POST, b"Transfer-Encoding: chunked\r\n", b"fffffffffffffffff1\r\n"),
        "chunk size not hex": (POST, b"Transfer-Encoding: chunked\r\n", b"zz\r\n"),
        "chunk ended by bare LF": (POST, b"Transfer-Encoding: chunked\r\n", b"0\n\n"),
        "NUL in a header": (POST, b"X-Note: a\x00b\r\nContent-Length: 0\r\n", b""),
        "bare CR in a header": (POST, b"X-Note: a\rContent-Length: 0\r\n", b""),
        "space in a header name": (POST, b"Content Length: 0\r\n", b""),
        "HTTP/1.2": (b"POST /v1/health HTTP/1.2\r\nHost: haven\r\n", b"Content-Length: 0\r\n", b""),
        "WebSocket handshake with a body": (WS_HANDSHAKE, b"Content-Length: %d\r\n" % n, b""),
    }  # fmt: skip
    attempts = {name: start + framing + b"\r\n" + body + hidden
                for name, (start, framing, body) in cases.items()}  # fmt: skip
    bare_lf = b"POST /v1/health HTTP/1.1\nHost: haven\nContent-Length: 0\n\n"
    attempts["bare LF line ends"] = bare_lf + hidden
    return attempts


SMUGGLING_CASES = list(smuggling_attempts(b""))


@pytest.mark.parametrize("case", SMUGGLING_CASES)
def test_an_ambiguous_request_is_refused_and_nothing_behind_it_runs(
    target: Target, case: str
) -> None:
    raw = smuggling_attempts(target.hidden_send(case))[case]
    answers, closed = exchange(target.port, raw)
    assert [a.status for a in answers] == [400], answers
    assert answers[0].headers["content-type"] == "application/json"
    assert answers[0].error_code() == "bad_request"
    assert closed, "the connection stayed open after an unparseable request"
    assert f"smuggled {case}" not in target.bob_queue()


def test_the_hidden_request_does_run_when_sent_plainly(target: Target) -> None:
    """The smuggling cases would pass with a broken hidden request: this one proves it
    sends a message when it is not hidden."""
    answers, _ = exchange(target.port, target.hidden_send("in plain sight", close=True))
    assert [a.status for a in answers] == [201]
    queued = target.bob_queue()
    assert "smuggled in plain sight" in queued
    ids = [
        e["envelope_id"]
        for e in httpx.get(f"{target.server.url}/v1/messages", headers=target.bob_auth).json()[
            "envelopes"
        ]
    ]
    acked = httpx.post(
        f"{target.server.url}/v1/messages/ack", json={"envelope_ids": ids}, headers=target.bob_auth
    )
    assert acked.status_code == 200


# -- oversize heads --------------------------------------------------------------------------


def test_a_header_over_the_cap_gets_431_and_never_reaches_the_app(target: Target) -> None:
    hidden = target.hidden_send("with a huge header")
    line_end = hidden.index(b"\r\n") + 2
    padded = hidden[:line_end] + b"X-Padding: " + b"a" * limits.MAX_REQUEST_HEAD_BYTES + b"\r\n"
    answers, closed = exchange(target.port, padded + hidden[line_end:])
    assert [(a.status, a.error_code()) for a in answers] == [(431, "headers_too_large")]
    assert closed
    assert "smuggled with a huge header" not in target.bob_queue()


def test_too_many_headers_get_431(target: Target) -> None:
    many = b"".join(b"X-H%d: 1\r\n" % i for i in range(limits.MAX_REQUEST_HEADERS + 1))
    answers, closed = exchange(
        target.port, b"GET /v1/health HTTP/1.1\r\nHost: h\r\n" + many + b"\r\n"
    )
    assert [(a.status, a.error_code()) for a in answers] == [(431, "headers_too_large")]
    assert closed


def test_an_endless_header_line_is_cut_off(target: Target) -> None:
    """One header that never ends: the parser buffers it without a callback, so the cap
    must count raw bytes too."""
    with socket.create_connection(("127.0.0.1", target.port), timeout=WAIT) as sock:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nX-Endless: ")
        # Sixteen times the cap, and no end of line: the head is still unfinished when this
        # is all sent, so an answer can only mean the server cut it off.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(b"a" * 16 * limits.MAX_REQUEST_HEAD_BYTES)
        data, closed = read_until_closed(sock)
    assert closed
    assert [(a.status, a.error_code()) for a in parse_answers(data)] == [(431, "headers_too_large")]


def test_a_large_but_allowed_head_still_works(target: Target) -> None:
    padding = b"X-Padding: " + b"a" * (limits.MAX_REQUEST_HEAD_BYTES - 1024) + b"\r\n"
    answers, _ = exchange(
        target.port,
        b"GET /v1/health HTTP/1.1\r\nHost: h\r\nConnection: close\r\n" + padding + b"\r\n",
    )
    assert [a.status for a in answers] == [200]


# -- slowloris ------------------------------------------------------------------------------


def test_a_silent_connection_is_closed_at_the_head_deadline(target: Target) -> None:
    with socket.create_connection(("127.0.0.1", target.port), timeout=WAIT) as sock:
        data, closed = read_until_closed(sock)
    assert (data, closed) == (b"", True)


def _read_one_answer(sock: socket.socket) -> Answer:
    data = b""
    while True:
        head, separator, rest = data.partition(b"\r\n\r\n")
        if separator:
            length = int(parse_answers(head + separator)[0].headers.get("content-length", "0"))
            if len(rest) >= length:
                return parse_answers(data)[0]
        chunk = sock.recv(65536)
        assert chunk, f"closed before a whole answer: {data!r}"
        data += chunk


def trickle(port: int, head: bytes, first: bytes = b"") -> int:
    """Send `first` at once, then `head` one byte per interval until the server closes the
    connection; returns how many bytes of `head` went out."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        if first:
            sock.sendall(first)
            _read_one_answer(sock)
        for sent in range(len(head)):
            readable, _, _ = select.select([sock], [], [], TRICKLE_INTERVAL)
            if readable and read_until_closed(sock)[1]:
                return sent
            try:
                sock.sendall(head[sent : sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                return sent
    return len(head)


SLOW_HEAD = b"GET /v1/health HTTP/1.1\r\nHost: haven\r\nX-Slow: " + b"a" * 2000 + b"\r\n\r\n"


@dataclass
class SlowClients:
    """What a swarm of slowloris clients got: how often they were cut off, and how often
    one sent its whole payload without being cut off."""

    clients: int
    cut_off: int = 0
    finished: int = 0
    all_cut_off: asyncio.Event = field(default_factory=asyncio.Event)


@contextlib.asynccontextmanager
async def slow_clients(port: int, payload: bytes, clients: int) -> AsyncIterator[SlowClients]:
    """`clients` connections that each trickle `payload` a byte per interval and reconnect
    whenever they are cut off, until the block ends; `all_cut_off` is set once there have
    been as many cut-offs as clients."""
    got = SlowClients(clients)
    stop = asyncio.Event()

    async def slowloris() -> None:
        while not stop.is_set():
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                for i in range(len(payload)):
                    if stop.is_set():
                        break
                    writer.write(payload[i : i + 1])
                    with contextlib.suppress(TimeoutError):
                        if await asyncio.wait_for(reader.read(65536), TRICKLE_INTERVAL) == b"":
                            got.cut_off += 1
                            break
                else:
                    got.finished += 1
            except ConnectionError:
                got.cut_off += 1
            finally:
                if got.cut_off >= clients:
                    got.all_cut_off.set()
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()

    tasks = [asyncio.create_task(slowloris()) for _ in range(clients)]
    try:
        yield got
    finally:
        stop.set()
        await asyncio.gather(*tasks)


def test_a_head_trickled_a_byte_at_a_time_is_cut_off_before_it_ends(target: Target) -> None:
    assert trickle(target.port, SLOW_HEAD) < len(SLOW_HEAD)


def test_a_trickled_second_request_on_a_kept_alive_connection_is_cut_off(target: Target) -> None:
    quick = b"GET /v1/health HTTP/1.1\r\nHost: haven\r\n\r\n"
    assert trickle(target.port, SLOW_HEAD, first=quick) < len(SLOW_HEAD)


async def test_slow_clients_do_not_hold_up_anyone_else(target: Target) -> None:
    """Forty slowloris clients that reconnect whenever they are cut off, and meanwhile one
    person registers, sends twenty messages and receives them: everything of theirs goes
    through, and the slow clients never finish a request."""
    async with slow_clients(target.port, SLOW_HEAD, 40) as slow:
        async with httpx.AsyncClient(base_url=target.server.url, timeout=WAIT) as http:
            me = (
                await http.post("/v1/accounts", json={"identity_keys": DeviceKeys().identity()})
            ).json()
            auth = {"Authorization": f"Bearer {me['token']}"}
            address = {"account_id": me["account_id"], "device_id": me["device_id"]}
            sent = set()
            for i in range(20):
                body = {"recipients": [address], "ciphertext": b64.encode(b"%d" % i), "kind": "olm"}
                response = await http.post("/v1/messages", json=body, headers=auth)
                assert response.status_code == 201, response.text
                sent.add(response.json()["envelope_id"])
            received = await http.get("/v1/messages", headers=auth)
            assert {e["envelope_id"] for e in received.json()["envelopes"]} == sent
        # As many cut-offs as slow clients (the wait is a deadline, not a speed claim).
        await asyncio.wait_for(slow.all_cut_off.wait(), WAIT)
    assert slow.finished == 0
    assert slow.cut_off >= slow.clients
    print(
        f"\nserver: {slow.clients} slowloris clients cut off {slow.cut_off} times; 20 sends served"
    )
