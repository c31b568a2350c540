"""Authenticating the server end to end: pins, the relay policy for plain-HTTP servers,
TLS carried inside another stream, and the pinned direct connection."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import httpx
import pytest

from haven.client.api import HavenApi
from haven.client.servertls import (
    InnerTls,
    ServerAddress,
    ServerNotPrivate,
    ServerPinMismatch,
    check_relay_allowed,
    inner_context,
    parse_pin,
    pinned_context,
)
from haven.core.relaylink import b64url_encode
from tests.client.tls_peers import RecordingTlsServer

pytestmark = pytest.mark.anyio


def test_a_pin_is_43_base64url_characters_of_a_sha256() -> None:
    pin = b64url_encode(bytes(range(32)))
    assert parse_pin(f"  {pin}\n") == bytes(range(32))
    for bad in ("", "abc", pin[:-1], pin + "A", pin.replace("A", "+"), "x" * 64):
        with pytest.raises(ValueError, match="43-character"):
            parse_pin(bad)


def test_server_addresses() -> None:
    assert ServerAddress.of("https://haven.example.org") == ServerAddress(
        "https", "haven.example.org", 443
    )
    assert ServerAddress.of("http://127.0.0.1:8080/") == ServerAddress("http", "127.0.0.1", 8080)
    for bad in ("ftp://x", "haven.example.org", "https://"):
        with pytest.raises(ValueError, match="not an http"):
            ServerAddress.of(bad)


def test_a_relay_is_refused_for_a_plain_http_server_that_is_not_this_machine() -> None:
    for fine in ("https://haven.example.org", "http://127.0.0.1:8080", "http://localhost:1"):
        check_relay_allowed(fine)
    for exposed in ("http://haven.example.org", "http://203.0.113.9:8080"):
        with pytest.raises(ServerNotPrivate, match="could read this device's token"):
            check_relay_allowed(exposed)


async def test_a_client_with_relays_for_a_plain_http_server_does_not_use_them() -> None:
    async with HavenApi("http://192.0.2.1:9", relays=["haven://relay?unused"], timeout=1) as api:
        with pytest.raises(ServerNotPrivate):
            await api.health()


async def _inner_session(server: RecordingTlsServer, pin: bytes | None) -> InnerTls:
    """InnerTls over a plain TCP connection, pumped by hand as the tunnel pumps it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    inner = InnerTls(inner_context(pin), "localhost")
    try:
        writer.write(inner.start())
        while not inner.established:
            data = await reader.read(65536)
            assert data, "the server hung up during the handshake"
            _, reply = inner.receive(data)
            writer.write(reply)
        writer.write(inner.send(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"))
        answer = b""
        while b"ok" not in answer:
            plain, reply = inner.receive(await reader.read(65536))
            writer.write(reply)
            answer += plain
        assert answer.startswith(b"HTTP/1.1 200 OK")
        writer.write(inner.close())
        return inner
    finally:
        writer.close()
        await writer.wait_closed()


async def test_tls_inside_another_stream_carries_requests_and_shows_the_peer(
    tmp_path: Path,
) -> None:
    async with RecordingTlsServer(tmp_path) as server:
        inner = await _inner_session(server, server.pin_bytes)
    assert inner.closed
    assert b"GET /v1/health" in server.received
    der = inner.peer_certificate()
    assert der is not None


async def test_without_a_pin_a_self_signed_server_fails_the_ca_check(tmp_path: Path) -> None:
    async with RecordingTlsServer(tmp_path) as server:
        with pytest.raises(ssl.SSLCertVerificationError):
            await _inner_session(server, None)
    assert server.received == b""


async def test_a_pinned_server_is_trusted_alone_and_an_impostor_gets_nothing(
    tmp_path: Path,
) -> None:
    async with (
        RecordingTlsServer(tmp_path / "real") as real,
        RecordingTlsServer(tmp_path / "impostor") as impostor,
    ):
        context = await pinned_context(real.url, real.pin_bytes, 5)
        async with httpx.AsyncClient(verify=context) as http:
            assert (await http.get(real.url + "/v1/health")).json() == {"status": "ok"}
            # The context trusts that one certificate: another key is refused in the
            # handshake, before any request.
            with pytest.raises(httpx.ConnectError):
                await http.get(impostor.url + "/v1/health")
        with pytest.raises(ServerPinMismatch, match="nothing was sent"):
            await pinned_context(impostor.url, real.pin_bytes, 5)
        async with HavenApi(impostor.url, token="secret-token", server_pin=real.pin_bytes) as api:
            with pytest.raises(ServerPinMismatch):
                await api.health()
    assert b"GET" not in real.received.replace(b"GET /v1/health", b"")
    assert impostor.received == b""  # not the request, not the token


async def test_the_pinned_api_reaches_its_server(tmp_path: Path) -> None:
    async with (
        RecordingTlsServer(tmp_path) as server,
        HavenApi(server.url, token="t0ken", server_pin=server.pin_bytes) as api,
    ):
        await api.health()
        assert api.ssl_context is not None  # what the WebSocket stream uses
    assert b"Bearer t0ken" in server.received
