from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from haven.core import b64
from tests.conftest import fresh_stores
from tests.server.conftest import Device, Server, make_config, serve

pytestmark = pytest.mark.anyio


async def connect(server: Server, device: Device) -> ClientConnection:
    return await websockets.connect(server.ws_url, additional_headers=device.auth)


async def next_frame(ws: ClientConnection, within: float = 10) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), within))
    return frame


async def test_stream_pushes_queued_then_live_envelopes_and_takes_acks(server: Server) -> None:
    alice, bob = await server.register(), await server.register()
    queued = await server.send(alice, [bob], b"before")
    async with await connect(server, bob) as ws:
        first = await next_frame(ws)
        assert first["type"] == "envelope"
        assert first["envelope"]["envelope_id"] == queued
        live = await server.send(alice, [bob], b"while connected")
        second = await next_frame(ws)
        assert second["envelope"]["envelope_id"] == live
        assert b64.decode(second["envelope"]["ciphertext"]) == b"while connected"
        await ws.send(json.dumps({"type": "ack", "envelope_ids": [queued, live]}))
        # Acks are applied before the next frame is handled; a send round-trip proves it.
        await ws.send(json.dumps({"type": "send", "request_id": "r1", "message": {
            "recipients": [alice.address], "ciphertext": "aGk", "kind": "olm"}}))  # fmt: skip
        reply = await next_frame(ws)
        assert reply["type"] == "sent"
        assert reply["request_id"] == "r1"
    assert await server.fetch(bob) == []
    [to_alice] = await server.fetch(alice)
    assert to_alice["envelope_id"] == reply["envelope_id"]


async def test_unacked_envelopes_are_pushed_again_after_reconnect(server: Server) -> None:
    alice, bob = await server.register(), await server.register()
    sent = await server.send(alice, [bob])
    async with await connect(server, bob) as ws:
        assert (await next_frame(ws))["envelope"]["envelope_id"] == sent
    async with await connect(server, bob) as ws:
        assert (await next_frame(ws))["envelope"]["envelope_id"] == sent


async def test_bad_frames_get_error_frames_and_the_stream_survives(server: Server) -> None:
    alice, bob, carol = await server.register(), await server.register(), await server.register()
    for_carol = await server.send(alice, [carol])
    async with await connect(server, bob) as ws:
        await ws.send("{not json")
        assert (await next_frame(ws))["error"]["code"] == "validation_failed"
        await ws.send(b"\x00binary frame")
        assert (await next_frame(ws))["error"]["code"] == "validation_failed"
        await ws.send(json.dumps({"type": "ack", "envelope_ids": [for_carol]}))
        error = await next_frame(ws)
        assert error["error"]["code"] == "unknown_envelope"
        await ws.send(json.dumps({"type": "send", "request_id": "x", "message": {
            "recipients": [alice.address], "ciphertext": "@@", "kind": "olm"}}))  # fmt: skip
        assert (await next_frame(ws))["type"] == "error"
        sent = await server.send(alice, [bob])
        assert (await next_frame(ws))["envelope"]["envelope_id"] == sent
    assert len(await server.fetch(carol)) == 1


@pytest.mark.parametrize("token", [None, "garbage", "0" * 32 + ".wrong"])
async def test_stream_refuses_missing_or_wrong_tokens(server: Server, token: str | None) -> None:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(server.ws_url, additional_headers=headers)
    assert refused.value.response.status_code == 403


async def test_another_accounts_token_gets_only_its_own_queue(server: Server) -> None:
    alice, bob, mallory = await server.register(), await server.register(), await server.register()
    await server.send(alice, [bob])
    mine = await server.send(alice, [mallory])
    async with await connect(server, mallory) as ws:
        assert (await next_frame(ws))["envelope"]["envelope_id"] == mine
        with pytest.raises(TimeoutError):
            await next_frame(ws, within=0.5)


async def test_removed_device_is_disconnected(server: Server) -> None:
    alice = await server.register()
    phone = await server.add_device(alice)
    async with await connect(server, phone) as ws:
        await server.http.delete(f"/v1/accounts/me/devices/{phone.device_id}", headers=alice.auth)
        with pytest.raises(ConnectionClosed) as closed:
            await next_frame(ws)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401


async def test_window_limits_unacked_envelopes_in_flight(server: Server) -> None:
    alice, bob = await server.register(), await server.register()
    sent = [await server.send(alice, [bob]) for _ in range(105)]
    async with await connect(server, bob) as ws:
        got = [(await next_frame(ws))["envelope"]["envelope_id"] for _ in range(100)]
        assert got == sent[:100]
        with pytest.raises(TimeoutError):
            await next_frame(ws, within=0.5)
        await ws.send(json.dumps({"type": "ack", "envelope_ids": got[:10]}))
        rest = [(await next_frame(ws))["envelope"]["envelope_id"] for _ in range(5)]
        assert rest == sent[100:]


async def test_live_envelopes_keep_arriving_after_the_queue_empties(
    db_url: str, tmp_path: Path
) -> None:
    # The re-check timer is an hour: only the hand-over from a send to the open stream can
    # deliver in time, including once every envelope was acked and the queue is empty again
    # (SQLite then hands out the same queue positions again).
    emptied = await fresh_stores(db_url)
    await emptied.db.close()
    async with serve(make_config(db_url, tmp_path, poll_seconds=3600)) as server:
        alice, bob = await server.register(), await server.register()
        async with await connect(server, bob) as ws:
            for round_ in range(3):
                sent = [await server.send(alice, [bob], bytes([round_, i])) for i in range(3)]
                got = [(await next_frame(ws))["envelope"]["envelope_id"] for _ in sent]
                assert got == sent
                await ws.send(json.dumps({"type": "ack", "envelope_ids": got}))
                message = {"recipients": [alice.address], "ciphertext": "aGk", "kind": "olm"}
                await ws.send(json.dumps({"type": "send", "request_id": "r", "message": message}))
                assert (await next_frame(ws))["type"] == "sent"  # the ack was applied first
                assert await server.fetch(bob) == []
