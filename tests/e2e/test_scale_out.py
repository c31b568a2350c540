"""Several server processes share PostgreSQL and Redis: a message sent through process A is
pushed at once to a WebSocket held by process B."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
import websockets

from haven.core import b64, ids
from haven.store.stores import Stores
from tests.e2e.test_durability import register
from tests.processes import ServerProcess
from tests.server.conftest import DeviceKeys

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


async def test_send_through_a_is_pushed_by_b(
    launch: type[ServerProcess], pg_stores: object, pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    # Streams re-check their queue only hourly here, so a prompt arrival proves the Redis
    # wake-up crossed processes; the bounded wait below is a deadline, not a speed claim.
    a = launch(tmp_path, pg_url, redis=redis_url, HAVEN_POLL_SECONDS="3600").start()
    b = launch(tmp_path, pg_url, redis=redis_url, HAVEN_POLL_SECONDS="3600").start()
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=30) as via_a,
        httpx.AsyncClient(base_url=b.url, timeout=30) as via_b,
    ):
        _, alice = await register(via_a)
        bob, bob_auth = await register(via_a)
        assert (await via_b.get("/v1/health")).json()["bus"] == "ok"
        ws_url = b.url.replace("http://", "ws://") + "/v1/stream"
        async with websockets.connect(ws_url, additional_headers=bob_auth) as stream:
            # The stream is registered once B answers an ack round trip on it.
            await stream.send(json.dumps({"type": "send", "request_id": "ready", "message": {
                "recipients": [bob], "ciphertext": "cmVhZHk", "kind": "olm"}}))  # fmt: skip
            frames = [json.loads(await asyncio.wait_for(stream.recv(), 30)) for _ in range(2)]
            ready = next(f for f in frames if f["type"] == "envelope")
            await stream.send(
                json.dumps({"type": "ack", "envelope_ids": [ready["envelope"]["envelope_id"]]})
            )
            for i in range(20):
                body = {"recipients": [bob], "ciphertext": b64.encode(b"%d" % i), "kind": "olm"}
                sent = await via_a.post("/v1/messages", json=body, headers=alice)
                assert sent.status_code == 201
                frame = json.loads(await asyncio.wait_for(stream.recv(), 30))
                assert frame["envelope"]["envelope_id"] == sent.json()["envelope_id"]
                await stream.send(
                    json.dumps({"type": "ack", "envelope_ids": [frame["envelope"]["envelope_id"]]})
                )


async def test_device_removed_through_a_is_refused_at_once_by_b(
    launch: type[ServerProcess], pg_stores: object, pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    a = launch(tmp_path, pg_url, redis=redis_url).start()
    b = launch(tmp_path, pg_url, redis=redis_url).start()
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=30) as via_a,
        httpx.AsyncClient(base_url=b.url, timeout=30) as via_b,
    ):
        _, alice = await register(via_a)
        phone = (
            await via_a.post(
                "/v1/accounts/me/devices",
                json={"identity_keys": DeviceKeys().identity()},
                headers=alice,
            )
        ).json()
        phone_auth = {"Authorization": f"Bearer {phone['token']}"}
        # B has now seen (and cached) the phone's credentials.
        assert (await via_b.get("/v1/keys/count", headers=phone_auth)).status_code == 200
        ws_url = b.url.replace("http://", "ws://") + "/v1/stream"
        async with websockets.connect(ws_url, additional_headers=phone_auth) as stream:
            removed = await via_a.delete(
                f"/v1/accounts/me/devices/{phone['device_id']}", headers=alice
            )
            assert removed.status_code == 204
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(stream.recv(), 30)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4401
        # The stream closing proves B heard the revocation, so its cache is clean too.
        refused = await via_b.get("/v1/keys/count", headers=phone_auth)
        assert refused.status_code == 401


async def test_suspension_through_a_closes_streams_held_by_b(
    launch: type[ServerProcess], pg_stores: Stores, pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    operator_id = ids.new_id()
    token = ids.operator_token(operator_id)
    await pg_stores.operators.create(
        operator_id, "moderator", "moderator", ids.token_digest(token), 1
    )
    staff = {"Authorization": f"Bearer {token}"}
    a = launch(tmp_path, pg_url, redis=redis_url).start()
    b = launch(tmp_path, pg_url, redis=redis_url).start()
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=30) as via_a,
        httpx.AsyncClient(base_url=b.url, timeout=30) as via_b,
    ):
        address, alice = await register(via_a)
        assert (await via_b.get("/v1/keys/count", headers=alice)).status_code == 200
        ws_url = b.url.replace("http://", "ws://") + "/v1/stream"
        async with websockets.connect(ws_url, additional_headers=alice) as stream:
            acted = await via_a.post(
                f"/v1/admin/accounts/{address['account_id']}/actions",
                json={"action": "suspend", "reason": "spam"},
                headers=staff,
            )
            assert acted.status_code == 201, acted.text
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(stream.recv(), 30)
        refused = await via_b.get("/v1/keys/count", headers=alice)
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "account_suspended")
