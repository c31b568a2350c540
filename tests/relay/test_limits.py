"""Limits a hostile client runs into, and the stats that count them without naming anyone."""

from __future__ import annotations

import re
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from haven.relay.config import Address, RelayConfig, RelayConfigError
from tests.relay.conftest import WAIT, RelayThread, Upstream, read_all, read_response, tls_connect

REFUSED = (ssl.SSLError, OSError)  # closed during the TLS handshake
IPV4 = re.compile(rb"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")


@pytest.fixture
def strict(tmp_path: Path, upstream: Upstream) -> Iterator[RelayThread]:
    running = RelayThread(
        tmp_path / "relay", upstream.port, handshake_timeout=0.3, per_ip_connections=2
    ).start()
    yield running
    running.stop()


def test_a_silent_connection_is_closed_at_the_handshake_deadline(strict: RelayThread) -> None:
    with socket.create_connection(("127.0.0.1", strict.port), timeout=WAIT) as sock:
        assert read_all(sock) == b""  # closed by the relay, long before our own timeout
    assert strict.totals()["timeouts"] == 1


def test_a_slow_request_head_is_cut_off(strict: RelayThread, upstream: Upstream) -> None:
    with tls_connect(strict.port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: local")
        assert read_all(sock) == b""
    assert strict.totals()["timeouts"] == 1
    assert upstream.connections == 0


def test_a_spliced_stream_outlives_the_handshake_deadline(strict: RelayThread) -> None:
    with tls_connect(strict.port) as sock:
        sock.sendall(f"GET /{strict.proof()} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        head, _ = read_response(sock)
        assert head.startswith(b"HTTP/1.1 101 ")
        time.sleep(0.6)  # twice the handshake deadline: only handshakes are timed
        sock.sendall(b"still here")
        assert sock.recv(100) == b"still here"
    assert strict.totals()["timeouts"] == 0


def test_per_address_cap(strict: RelayThread) -> None:
    first, second = tls_connect(strict.port), tls_connect(strict.port)
    try:
        with pytest.raises(REFUSED):
            fetch_root(strict.port)
        assert strict.totals()["refused_per_ip"] == 1
    finally:
        first.close()
        second.close()
    deadline = time.monotonic() + WAIT
    while strict.totals()["open"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fetch_root(strict.port).startswith(b"HTTP/1.1 200 OK")  # a slot is free again


def send_one_byte(port: int) -> None:
    with tls_connect(port) as sock:
        sock.sendall(b"x")


def fetch_root(port: int) -> bytes:
    with tls_connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        return read_response(sock)[0]


def test_max_connections(tmp_path: Path, upstream: Upstream) -> None:
    relay = RelayThread(tmp_path / "relay", upstream.port, max_connections=1).start()
    try:
        with tls_connect(relay.port), pytest.raises(REFUSED):
            send_one_byte(relay.port)
        assert relay.totals()["refused_full"] == 1
    finally:
        relay.stop()


def test_stats_are_on_loopback_and_name_no_one(relay: RelayThread) -> None:
    with tls_connect(relay.port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        read_response(sock)
    with tls_connect(relay.port) as sock:
        sock.sendall(f"GET /{relay.proof()} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        read_response(sock)
        sock.sendall(b"abc")
        sock.recv(10)
    assert relay.server is not None
    stats = relay.server._stats_server
    assert stats is not None
    assert {s.getsockname()[0] for s in stats.sockets} == {"127.0.0.1"}
    text = httpx.get(f"http://127.0.0.1:{relay.stats_port}/metrics", timeout=WAIT).content
    assert b"haven_relay_connections_total 2.0" in text
    assert b'haven_relay_handshakes_total{result="ok"} 1.0' in text
    assert b"haven_relay_decoy_responses_total 1.0" in text
    assert b'haven_relay_bytes_total{direction="to_upstream"} 3.0' in text
    assert IPV4.search(text) is None
    assert b"::1" not in text


def test_stats_refuse_a_public_address(tmp_path: Path) -> None:
    with pytest.raises(RelayConfigError, match="loopback"):
        RelayConfig(
            upstream=Address("127.0.0.1", 1),
            listen=Address("127.0.0.1", 0),
            data_dir=tmp_path,
            stats=Address("0.0.0.0", 9464),
        )


def test_drain_lets_an_open_stream_finish(relay: RelayThread) -> None:
    with tls_connect(relay.port) as sock:
        sock.sendall(f"GET /{relay.proof()} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        read_response(sock)
        assert relay.server is not None
        relay.run_in_loop(lambda: relay.server.hub.__setattr__("draining", True))
        # Draining: a new connection is refused, the open stream still works.
        with pytest.raises(REFUSED):
            send_one_byte(relay.port)
        sock.sendall(b"after drain began")
        assert sock.recv(100) == b"after drain began"
