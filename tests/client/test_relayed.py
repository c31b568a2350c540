"""The client's relay tunnel against a real `haven server` behind a real relay."""

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
from haven.client.stream import EnvelopeStream
from haven.core import b64
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
