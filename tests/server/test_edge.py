"""The edge under a flood: one address or one device hammering a real server runs out of
its allowance (429, Haven's JSON error; a WebSocket is turned away), and everyone else is
served as if nothing were happening.

Each address's traffic comes from its own loopback address (127.0.0.2, 127.0.0.3, ...).
The limiters' clocks are stopped, so no allowance comes back during a test: the counts are
exact, with nothing timed.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from haven.core import limits
from haven.server.ratelimit import RateLimiter
from tests.conftest import fresh_stores
from tests.server.conftest import Device, DeviceKeys, Server, make_config, serve

pytestmark = pytest.mark.anyio

PER_ADDRESS = limits.Rate(burst=60, per_second=1.0)
PER_DEVICE = limits.Rate(burst=30, per_second=1.0)
FLOOD = 4  # times the allowance a flooder tries


class StoppedClockLimiter(RateLimiter):
    """A limiter whose clock never moves: a bucket, once empty, stays empty."""

    def allow(self, key: str, now: float | None = None) -> bool:
        return super().allow(key, now=0.0)


@pytest.fixture
async def limited(db_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    emptied = await fresh_stores(db_url)
    await emptied.db.close()
    async with serve(make_config(db_url, tmp_path, rate_limits=True)) as running:
        rate_limits = running.app.state.haven.limits
        rate_limits.per_ip = StoppedClockLimiter(PER_ADDRESS)
        rate_limits.per_device = StoppedClockLimiter(PER_DEVICE)
        yield running


def client_at(server: Server, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=server.url, transport=transport, timeout=30)


async def register(http: httpx.AsyncClient) -> Device:
    keys = DeviceKeys()
    response = await http.post("/v1/accounts", json={"identity_keys": keys.identity()})
    assert response.status_code == 201, response.text
    body = response.json()
    return Device(body["account_id"], body["device_id"], body["token"], keys)


def outcomes(responses: list[httpx.Response]) -> Counter[tuple[int, str | None]]:
    def code(response: httpx.Response) -> str | None:
        error: dict[str, Any] | None = response.json().get("error")
        return None if error is None else str(error["code"])

    return Counter((r.status_code, code(r)) for r in responses)


async def test_a_flood_from_one_address_is_cut_to_its_allowance_and_no_one_else_notices(
    limited: Server,
) -> None:
    async with client_at(limited, "127.0.0.2") as flooder, client_at(limited, "127.0.0.3") as other:
        flood = [flooder.get("/v1/health") for _ in range(FLOOD * PER_ADDRESS.burst)]
        calm = [other.get("/v1/health") for _ in range(PER_ADDRESS.burst // 2)]
        answered = await asyncio.gather(*flood, *calm)
        flooded, served = answered[: len(flood)], answered[len(flood) :]
        assert outcomes(flooded) == {
            (200, None): PER_ADDRESS.burst,
            (429, "rate_limited"): len(flood) - PER_ADDRESS.burst,
        }
        assert outcomes(served) == {(200, None): len(calm)}
        # A WebSocket from the flooding address is turned away too; another's is not.
        with pytest.raises(websockets.InvalidStatus):
            async with websockets.connect(limited.ws_url, local_addr=("127.0.0.2", 0)):
                pass
        reader, writer = await register(other), await register(other)
        async with websockets.connect(
            limited.ws_url, additional_headers=reader.auth, local_addr=("127.0.0.3", 0)
        ) as stream:
            body = {"recipients": [reader.address], "ciphertext": "Y3Q", "kind": "olm"}
            sent = await other.post("/v1/messages", json=body, headers=writer.auth)
            assert sent.status_code == 201
            frame = json.loads(await asyncio.wait_for(stream.recv(), 30))
            assert frame["envelope"]["envelope_id"] == sent.json()["envelope_id"]


async def test_a_flood_from_one_device_is_cut_to_its_allowance_and_no_one_else_notices(
    limited: Server,
) -> None:
    # Two people behind one address (as on a shared network); the address allowance is
    # not what stops the flood here.
    limited.app.state.haven.limits.per_ip = StoppedClockLimiter(limits.Rate(10_000, 1.0))
    async with client_at(limited, "127.0.0.4") as http:
        flooder, bystander = await register(http), await register(http)
        body = {"recipients": [bystander.address], "ciphertext": "Y3Q", "kind": "olm"}
        flood = [
            http.post("/v1/messages", json=body, headers=flooder.auth)
            for _ in range(FLOOD * PER_DEVICE.burst)
        ]
        answered = await asyncio.gather(*flood)
        assert outcomes(answered) == {
            (201, None): PER_DEVICE.burst,
            (429, "rate_limited"): len(flood) - PER_DEVICE.burst,
        }
        # The bystander reads all that got through, and sends as usual.
        fetched = await http.get("/v1/messages", headers=bystander.auth)
        assert len(fetched.json()["envelopes"]) == PER_DEVICE.burst
        reply = {"recipients": [flooder.address], "ciphertext": "Y3Q", "kind": "olm"}
        sent = await http.post("/v1/messages", json=reply, headers=bystander.auth)
        assert sent.status_code == 201
