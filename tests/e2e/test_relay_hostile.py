"""Hostile clients against a real `haven relay` process in front of a real server: slowloris
on the TLS handshake and on the request head, an oversize head, an ambiguous request with a
proof hidden behind it, and slow clients crowding a person who holds the invite link.

The relay's handshake deadline is shortened to DEADLINE; nothing here measures time: a
trickle is cut off if the relay closes the socket before the trickle is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from haven.client.api import HavenApi
from haven.core.relaylink import b64url_decode, make_proof, parse
from tests.e2e.test_hostile_http import (
    TRICKLE_INTERVAL,
    WAIT,
    parse_answers,
    read_until_closed,
    slow_clients,
)
from tests.e2e.test_relay import RelayProcess, blocked_url
from tests.processes import ServerProcess
from tests.relay.conftest import client_context, tls_connect

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

DEADLINE = 0.5


@dataclass
class Relayed:
    server: ServerProcess
    relay: RelayProcess

    @property
    def port(self) -> int:
        return self.relay.port

    def proof(self) -> str:
        return make_proof(parse(self.relay.link).secret)


def _wait_listening(port: int) -> None:
    """The relay prints its link before it binds its port."""
    for _ in range(600):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


@pytest.fixture(scope="module")
def relayed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relayed]:
    data = tmp_path_factory.mktemp("relay-hostile")
    # With TLS, as relayed clients need it: they speak TLS to the server through the relay.
    server = ServerProcess(data, f"sqlite:///{data / 'haven.sqlite3'}", tls=True)
    relay = RelayProcess(data / "relay", 0, "--handshake-timeout", str(DEADLINE))
    try:
        server.start()
        relay.upstream_port = server.port
        relay.start()
        _wait_listening(relay.port)
        yield Relayed(server, relay)
    finally:
        relay.kill()
        server.stop()


def _closed_before_the_end(sock: socket.socket | ssl.SSLSocket, data: bytes) -> int:
    """Send `data` a byte per interval until the peer closes; how many bytes went out."""
    for sent in range(len(data)):
        readable, _, _ = select.select([sock], [], [], TRICKLE_INTERVAL)
        if readable:
            with contextlib.suppress(ssl.SSLError, ConnectionResetError):
                if sock.recv(65536) == b"":
                    return sent
        try:
            sock.sendall(data[sent : sent + 1])
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            return sent
    return len(data)


def test_a_silent_connection_is_closed_at_the_handshake_deadline(relayed: Relayed) -> None:
    with socket.create_connection(("127.0.0.1", relayed.port), timeout=WAIT) as sock:
        assert read_until_closed(sock) == (b"", True)


def _client_hello() -> bytes:
    """The first flight of a real TLS handshake, to trickle by hand."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = client_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    with contextlib.suppress(ssl.SSLWantReadError):
        tls.do_handshake()
    hello = outgoing.read()
    assert hello[:1] == b"\x16"  # a TLS handshake record
    return hello


def test_a_trickled_tls_handshake_is_cut_off_before_it_ends(relayed: Relayed) -> None:
    hello = _client_hello()
    with socket.create_connection(("127.0.0.1", relayed.port), timeout=WAIT) as sock:
        assert _closed_before_the_end(sock, hello) < len(hello)


def test_a_trickled_head_after_tls_is_cut_off_before_it_ends(relayed: Relayed) -> None:
    head = b"GET /" + relayed.proof().encode() + b" HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 500
    with tls_connect(relayed.port) as sock:
        assert _closed_before_the_end(sock, head + b"\r\n\r\n") < len(head)


def _exchange_tls(port: int, raw: bytes) -> tuple[bytes, bool]:
    with tls_connect(port) as sock:
        sock.sendall(raw)
        data, closed = b"", False
        with contextlib.suppress(ssl.SSLError, ConnectionResetError, TimeoutError):
            while chunk := sock.recv(65536):
                data += chunk
            closed = True
    return data, closed


def test_an_oversize_head_gets_the_decoys_400_and_is_never_spliced(relayed: Relayed) -> None:
    raw = b"GET /" + relayed.proof().encode() + b" HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n"
    data, closed = _exchange_tls(relayed.port, raw)
    assert [a.status for a in parse_answers(data)] == [400]
    assert b"nginx" in data  # the decoy's answer, not the server's
    assert closed


def test_a_proof_hidden_behind_an_ambiguous_body_is_never_spliced(relayed: Relayed) -> None:
    hidden = b"GET /" + relayed.proof().encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    raw = (
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n" % (len(hidden) + 5)
        + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        + hidden
    )
    data, closed = _exchange_tls(relayed.port, raw)
    answers = parse_answers(data)
    assert len(answers) == 1, data[:300]
    assert answers[0].status != 101, data[:300]
    assert closed


async def test_slow_clients_do_not_keep_a_person_with_the_link_out(relayed: Relayed) -> None:
    """Thirty clients trickling TLS handshakes and reconnecting whenever cut off; meanwhile
    someone whose server is blocked reaches it through the relay, five times over."""
    async with slow_clients(relayed.port, _client_hello(), 30) as slow:
        for _ in range(5):
            api = HavenApi(
                blocked_url(),
                relays=[relayed.relay.link],
                server_pin=b64url_decode(relayed.server.pin),
            )
            try:
                await api.health()
                assert api.via == f"127.0.0.1:{relayed.port}"
            finally:
                await api.close()
        # As many cut-offs as slow clients (the wait is a deadline, not a speed claim).
        await asyncio.wait_for(slow.all_cut_off.wait(), WAIT)
    print(
        f"\nrelay: {slow.clients} slowloris clients cut off {slow.cut_off} times; "
        "5 relayed health checks"
    )
