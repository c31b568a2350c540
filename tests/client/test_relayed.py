"""The client's relay tunnel against a real `haven server` behind a real relay: the relay
sees only TLS to the server, and a relay in front of anything else gets no request."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from haven.client.api import HavenApi, Unreachable
from haven.client.relayed import RelayPinMismatch, RelayRefused, RelayTunnel
from haven.client.servertls import ServerPinMismatch, parse_pin
from haven.client.stream import EnvelopeStream
from haven.core import b64
from tests.client.tls_peers import RecordingProxy, RecordingTlsServer
from tests.processes import ServerProcess
from tests.relay.conftest import RelayThread

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def identity_keys() -> dict[str, str]:
    raw = Encoding.Raw, PublicFormat.Raw
    return {
        "curve25519": b64.encode(X25519PrivateKey.generate().public_key().public_bytes(*raw)),
        "ed25519": b64.encode(Ed25519PrivateKey.generate().public_key().public_bytes(*raw)),
    }


@pytest.fixture
def relay(tmp_path: Path, launch: type[ServerProcess]) -> Iterator[RelayThread]:
    server = launch(tmp_path / "server", f"sqlite:///{tmp_path / 'haven.sqlite3'}")
    server.data_dir.mkdir()
    server.start()
    running = RelayThread(tmp_path / "relay", server.port).start()
    yield running
    running.stop()


@pytest.mark.parametrize("websocket", [False, True], ids=["raw", "ws"])
async def test_http_and_the_stream_work_through_the_relay(
    relay: RelayThread, websocket: bool
) -> None:
    async with RelayTunnel(relay.link(websocket).to_url()) as tunnel:
        await tunnel.check()
        async with httpx.AsyncClient(base_url=tunnel.url) as http:
            health = await http.get("/v1/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        async with HavenApi(tunnel.url) as api:
            device = await api.register(identity_keys(), None)
        async with EnvelopeStream(tunnel.url, device.token) as stream:
            assert await stream.next_batch(0.2) == []
    totals = relay.totals()
    assert totals["handshake_ok"] >= 4
    assert totals["decoy"] == 0


async def test_a_wrong_pin_is_refused_and_nothing_is_sent(relay: RelayThread) -> None:
    wrong = replace(relay.link(), pin=bytes(32))
    async with RelayTunnel(wrong) as tunnel:
        with pytest.raises(RelayPinMismatch, match="different certificate"):
            await tunnel.check()
        async with HavenApi(tunnel.url) as api:
            with pytest.raises(Unreachable):
                await api.register(identity_keys(), None)
        assert isinstance(tunnel.last_error, RelayPinMismatch)
    totals = relay.totals()
    assert totals["handshake_ok"] + totals["handshake_failed"] + totals["decoy"] == 0


async def test_a_wrong_secret_is_a_clear_refusal(relay: RelayThread) -> None:
    wrong = replace(relay.link(), secret=bytes(32))
    async with RelayTunnel(wrong) as tunnel:
        with pytest.raises(RelayRefused, match="did not accept this invite"):
            await tunnel.check()
    assert relay.totals()["handshake_failed"] == 1


@pytest.mark.parametrize("websocket", [False, True], ids=["raw", "ws"])
async def test_the_relay_and_its_network_see_only_tls_to_the_server(
    tmp_path: Path, launch: type[ServerProcess], websocket: bool
) -> None:
    server = launch(tmp_path / "server", f"sqlite:///{tmp_path / 'haven.sqlite3'}", tls=True)
    server.data_dir.mkdir()
    server.start()
    async with RecordingProxy(server.port) as between_relay_and_server:
        relay = RelayThread(tmp_path / "relay", between_relay_and_server.port).start()
        try:
            pin = parse_pin(server.pin)
            link = relay.link(websocket)
            async with RelayTunnel(link, server=server.url, server_pin=pin) as tunnel:
                await tunnel.check()
                async with HavenApi(tunnel.url) as api:
                    device = await api.register(identity_keys(), None)
                async with HavenApi(tunnel.url, device.token) as api:
                    assert (await api.key_count()).one_time_key_count == 0
                async with EnvelopeStream(tunnel.url, device.token) as stream:
                    assert await stream.next_batch(0.2) == []
        finally:
            relay.stop()
    seen = bytes(between_relay_and_server.seen)
    assert seen[:1] == b"\x16"  # a TLS handshake record, and then only TLS records
    assert device.token.encode() not in seen
    for clear_text in (b"HTTP/1.1", b"/v1/", b"Bearer", device.account_id.encode()):
        assert clear_text not in seen


async def test_a_relay_in_front_of_an_impostor_gets_no_request(
    tmp_path: Path, launch: type[ServerProcess]
) -> None:
    async with RecordingTlsServer(tmp_path / "impostor") as impostor:
        relay = RelayThread(tmp_path / "relay", impostor.port).start()
        try:
            real_pin = bytes(range(32))
            async with RelayTunnel(
                relay.link(), server="https://haven.example.org", server_pin=real_pin
            ) as tunnel:
                with pytest.raises(ServerPinMismatch, match="nothing was sent"):
                    await tunnel.check()
                async with HavenApi(tunnel.url, token="secret-token") as api:
                    with pytest.raises(Unreachable):
                        await api.key_count()
                assert isinstance(tunnel.last_error, ServerPinMismatch)
        finally:
            relay.stop()
    assert impostor.handshakes >= 2
    assert impostor.received == b""
