"""A message the server answered 201 for survives `kill -9` of the server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from haven.core import b64
from tests.processes import ServerProcess
from tests.server.conftest import DeviceKeys

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

MESSAGES = 1_000


async def register(http: httpx.AsyncClient) -> tuple[dict[str, str], dict[str, str]]:
    response = await http.post("/v1/accounts", json={"identity_keys": DeviceKeys().identity()})
    assert response.status_code == 201
    body = response.json()
    return (
        {"account_id": body["account_id"], "device_id": body["device_id"]},
        {"Authorization": f"Bearer {body['token']}"},
    )


async def test_acknowledged_messages_survive_sigkill_and_arrive_exactly_once(
    launch: type[ServerProcess], empty_db: str, tmp_path: Path
) -> None:
    server = launch(tmp_path, empty_db).start()
    accepted: set[str] = set()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        _, alice = await register(http)
        bob, bob_auth = await register(http)

        async def sender(worker: int, stop: asyncio.Event) -> None:
            n = 0
            while not stop.is_set():
                body = {
                    "recipients": [bob],
                    "ciphertext": b64.encode(f"{worker}:{n}".encode()),
                    "kind": "olm",
                }
                try:
                    response = await http.post("/v1/messages", json=body, headers=alice)
                except httpx.TransportError:
                    return  # the server died under us: this one was never acknowledged
                assert response.status_code == 201, response.text
                accepted.add(response.json()["envelope_id"])
                if len(accepted) >= MESSAGES:
                    enough.set()
                n += 1

        stop, enough = asyncio.Event(), asyncio.Event()
        workers = [asyncio.create_task(sender(w, stop)) for w in range(16)]
        await asyncio.wait_for(enough.wait(), 300)
        # Kill while sends are still in flight, not after a quiet moment.
        await asyncio.to_thread(server.kill)
        stop.set()
        await asyncio.gather(*workers)
    assert len(accepted) >= MESSAGES

    server.start()
    received: list[str] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        while True:
            response = await http.get("/v1/messages", params={"limit": 100}, headers=bob_auth)
            batch = [e["envelope_id"] for e in response.json()["envelopes"]]
            if not batch:
                break
            received.extend(batch)
            ack = await http.post(
                "/v1/messages/ack", json={"envelope_ids": batch}, headers=bob_auth
            )
            assert ack.status_code == 200
    assert len(received) == len(set(received)), "an envelope was delivered twice after its ack"
    missing = accepted - set(received)
    assert not missing, f"{len(missing)} acknowledged messages were lost"
