"""Active probing: whatever a censor, scanner or browser sends without a fresh proof of the
secret over TLS with SNI, it gets the ordinary decoy site and the upstream sees nothing."""

from __future__ import annotations

import os
import random
import socket
import time
from collections.abc import Iterator

import pytest

from haven.core.relaylink import make_proof
from tests.relay.conftest import (
    WAIT,
    RelayThread,
    Upstream,
    read_all,
    read_response,
    tls_connect,
)

NOT_FOUND = b"<center><h1>404 Not Found</h1></center>"
WELCOME = b"<title>Welcome</title>"


def looks_like_decoy(head: bytes, body: bytes, status: bytes, marker: bytes) -> None:
    assert head.startswith(b"HTTP/1.1 " + status), head
    assert b"\r\nServer: nginx\r\n" in head + b"\r\n"
    assert b"Switching Protocols" not in head
    assert marker in body


def exchange(
    relay: RelayThread, request: bytes, sni: str | None = "localhost"
) -> tuple[bytes, bytes]:
    with tls_connect(relay.port, sni) as sock:
        sock.sendall(request)
        return read_response(sock)


def proof_request(token: str, extra: str = "") -> bytes:
    return f"GET /{token} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n".encode()


def test_no_secret_gets_the_site(relay: RelayThread, upstream: Upstream) -> None:
    head, body = exchange(relay, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    looks_like_decoy(head, body, b"200", WELCOME)
    assert upstream.connections == 0


def test_wrong_secret_gets_a_404(relay: RelayThread, upstream: Upstream) -> None:
    head, body = exchange(relay, proof_request(make_proof(os.urandom(32))))
    looks_like_decoy(head, body, b"404", NOT_FOUND)
    assert upstream.connections == 0
    assert relay.totals()["handshake_failed"] == 1


def test_replayed_proof_gets_the_decoy(relay: RelayThread, upstream: Upstream) -> None:
    token = relay.proof()
    head, _ = exchange(relay, proof_request(token))
    assert head.startswith(b"HTTP/1.1 101 ")
    deadline = time.monotonic() + WAIT
    while upstream.connections < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert upstream.connections == 1
    head, body = exchange(relay, proof_request(token))
    looks_like_decoy(head, body, b"404", NOT_FOUND)
    time.sleep(0.1)
    assert upstream.connections == 1


@pytest.mark.parametrize("skew", [-600, 600])
def test_stale_or_future_timestamp_gets_the_decoy(
    relay: RelayThread, upstream: Upstream, skew: int
) -> None:
    token = make_proof(relay.identity.secret, now=time.time() + skew)
    head, body = exchange(relay, proof_request(token))
    looks_like_decoy(head, body, b"404", NOT_FOUND)
    assert upstream.connections == 0


def test_random_bytes_get_a_400(relay: RelayThread, upstream: Upstream) -> None:
    noise = random.Random(7).randbytes(600)
    assert noise[0] != 0x16
    with socket.create_connection(("127.0.0.1", relay.port), timeout=WAIT) as sock:
        sock.sendall(noise)
        reply = read_all(sock)
    assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n")
    assert upstream.connections == 0


def test_garbage_that_starts_like_tls_is_closed(relay: RelayThread, upstream: Upstream) -> None:
    with socket.create_connection(("127.0.0.1", relay.port), timeout=WAIT) as sock:
        sock.sendall(b"\x16\x03\x01\x00\x10" + os.urandom(64))
        reply = read_all(sock)
    assert b"HTTP" not in reply  # a TLS alert at most, as from any TLS server
    assert upstream.connections == 0


def test_plain_http_with_the_right_proof_gets_the_decoy(
    relay: RelayThread, upstream: Upstream
) -> None:
    with socket.create_connection(("127.0.0.1", relay.port), timeout=WAIT) as sock:
        sock.sendall(proof_request(relay.proof()))
        head, body = read_response(sock)
    looks_like_decoy(head, body, b"404", NOT_FOUND)
    with socket.create_connection(("127.0.0.1", relay.port), timeout=WAIT) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        head, body = read_response(sock)
    looks_like_decoy(head, body, b"200", WELCOME)
    assert upstream.connections == 0


def test_tls_without_sni_gets_the_decoy(relay: RelayThread, upstream: Upstream) -> None:
    head, body = exchange(relay, proof_request(relay.proof()), sni=None)
    looks_like_decoy(head, body, b"404", NOT_FOUND)
    assert upstream.connections == 0


def test_a_browser_sees_an_ordinary_site(relay: RelayThread, upstream: Upstream) -> None:
    browser = (
        "Host: localhost\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101"
        " Firefox/128.0\r\nAccept: text/html,application/xhtml+xml\r\nAccept-Language: en-US\r\n"
        "Accept-Encoding: gzip, deflate, br\r\nConnection: keep-alive\r\n"
    )
    with tls_connect(relay.port) as sock:
        sock.sendall(f"GET / HTTP/1.1\r\n{browser}\r\n".encode())
        head, body = read_response(sock)
        looks_like_decoy(head, body, b"200", WELCOME)
        assert b"Connection: keep-alive" in head
        etag = next(line for line in head.split(b"\r\n") if line.startswith(b"ETag: "))[6:]
        # Same connection: keep-alive, HEAD, 404, and a conditional GET.
        sock.sendall(f"HEAD /index.html HTTP/1.1\r\n{browser}\r\n".encode())
        head, _ = read_response(sock, head_only=True)
        assert head.startswith(b"HTTP/1.1 200 OK")
        assert b"Content-Length: " in head
        sock.sendall(f"GET /favicon.ico HTTP/1.1\r\n{browser}\r\n".encode())
        head, body = read_response(sock)
        looks_like_decoy(head, body, b"404", NOT_FOUND)
        sock.sendall(f"GET / HTTP/1.1\r\n{browser}If-None-Match: {etag.decode()}\r\n\r\n".encode())
        head, _ = read_response(sock, head_only=True)
        assert head.startswith(b"HTTP/1.1 304 Not Modified")
    assert upstream.connections == 0
    assert relay.totals()["decoy"] == 4


def test_a_proof_after_a_decoy_request_gets_the_decoy(
    relay: RelayThread, upstream: Upstream
) -> None:
    with tls_connect(relay.port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        read_response(sock)
        sock.sendall(proof_request(relay.proof()))
        head, body = read_response(sock)
    looks_like_decoy(head, body, b"404", NOT_FOUND)
    assert upstream.connections == 0


def test_a_post_with_the_proof_gets_the_decoy(relay: RelayThread, upstream: Upstream) -> None:
    request = f"POST /{relay.proof()} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\nhi"
    head, _ = exchange(relay, request.encode())
    assert head.startswith(b"HTTP/1.1 405 Not Allowed\r\nServer: nginx")
    assert upstream.connections == 0


class TestNoWayElsewhere:
    """The relay connects to its configured upstream and nowhere else."""

    @pytest.fixture
    def elsewhere(self) -> Iterator[Upstream]:
        other = Upstream()
        yield other
        other.stop()

    def test_connect_gets_a_400(
        self, relay: RelayThread, upstream: Upstream, elsewhere: Upstream
    ) -> None:
        target = f"127.0.0.1:{elsewhere.port}"
        head, _ = exchange(relay, f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        assert head.startswith(b"HTTP/1.1 400 Bad Request\r\nServer: nginx")
        assert (upstream.connections, elsewhere.connections) == (0, 0)

    def test_absolute_form_gets_the_decoy(
        self, relay: RelayThread, upstream: Upstream, elsewhere: Upstream
    ) -> None:
        request = f"GET http://127.0.0.1:{elsewhere.port}/{relay.proof()} HTTP/1.1\r\n\r\n"
        head, body = exchange(relay, request.encode())
        looks_like_decoy(head, body, b"404", NOT_FOUND)
        head, body = exchange(
            relay, f"GET http://127.0.0.1:{elsewhere.port}/ HTTP/1.1\r\n\r\n".encode()
        )
        looks_like_decoy(head, body, b"200", WELCOME)
        assert (upstream.connections, elsewhere.connections) == (0, 0)

    def test_host_header_does_not_route(
        self, relay: RelayThread, upstream: Upstream, elsewhere: Upstream
    ) -> None:
        target = f"127.0.0.1:{elsewhere.port}"
        head, body = exchange(relay, f"GET / HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        looks_like_decoy(head, body, b"200", WELCOME)
        # Even a proven client naming another host is spliced to the configured upstream.
        with tls_connect(relay.port) as sock:
            sock.sendall(f"GET /{relay.proof()} HTTP/1.1\r\nHost: {target}\r\n\r\nping".encode())
            head, rest = read_response(sock)
            while len(rest) < 4:
                rest += sock.recv(16)
        assert head.startswith(b"HTTP/1.1 101 ")
        assert rest == b"ping"
        assert (upstream.connections, elsewhere.connections) == (1, 0)
