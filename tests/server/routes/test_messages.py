from __future__ import annotations

import asyncio

import pytest

from haven.core import b64, ids
from tests.server.conftest import Server

pytestmark = pytest.mark.anyio


async def test_group_send_reaches_every_device_in_order_until_acked(server: Server) -> None:
    alice, bob, carol = await server.register(), await server.register(), await server.register()
    bob_laptop = await server.add_device(bob)
    sent = [await server.send(alice, [bob, bob_laptop, carol], f"m{i}".encode()) for i in range(3)]
    for device in (bob, bob_laptop, carol):
        got = await server.fetch(device)
        assert [e["envelope_id"] for e in got] == sent
        assert [b64.decode(e["ciphertext"]) for e in got] == [b"m0", b"m1", b"m2"]
        assert got[0]["sender"] == alice.address
        assert got[0]["kind"] == "olm"
    ack = await server.http.post(
        "/v1/messages/ack", json={"envelope_ids": sent[:2]}, headers=bob.auth
    )
    assert ack.json() == {"acked": 2}
    assert [e["envelope_id"] for e in await server.fetch(bob)] == sent[2:]
    assert len(await server.fetch(carol)) == 3


async def test_send_to_unknown_recipient_queues_nothing(server: Server) -> None:
    alice, bob = await server.register(), await server.register()
    ghost = {"account_id": ids.new_id(), "device_id": ids.new_id()}
    response = await server.http.post(
        "/v1/messages",
        json={"recipients": [bob.address, ghost], "ciphertext": "aGk", "kind": "olm"},
        headers=alice.auth,
    )
    assert response.status_code == 404
    body = response.json()["error"]
    assert body["code"] == "unknown_recipient"
    assert body["details"]["unknown"] == [ghost]
    assert await server.fetch(bob) == []


@pytest.mark.parametrize(
    ("ciphertext", "status", "code"),
    [
        ("not base64!", 422, "validation_failed"),
        ("", 422, "validation_failed"),
        (b64.encode(b"x" * (96 * 1024 + 1)), 413, "body_too_large"),
    ],
)
async def test_bad_ciphertext_is_refused(
    server: Server, ciphertext: str, status: int, code: str
) -> None:
    alice, bob = await server.register(), await server.register()
    response = await server.http.post(
        "/v1/messages",
        json={"recipients": [bob.address], "ciphertext": ciphertext, "kind": "olm"},
        headers=alice.auth,
    )
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert await server.fetch(bob) == []


async def test_largest_allowed_ciphertext_is_delivered(server: Server) -> None:
    alice, bob = await server.register(), await server.register()
    await server.send(alice, [bob], b"y" * (96 * 1024))
    [got] = await server.fetch(bob)
    assert len(b64.decode(got["ciphertext"])) == 96 * 1024


async def test_oversize_body_is_413_before_parsing(server: Server) -> None:
    alice = await server.register()
    response = await server.http.post(
        "/v1/messages",
        content=b"x" * (300 * 1024),
        headers={**alice.auth, "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


async def test_ack_of_another_devices_envelope_is_refused_and_changes_nothing(
    server: Server,
) -> None:
    alice, bob, mallory = await server.register(), await server.register(), await server.register()
    for_bob = await server.send(alice, [bob])
    for_mallory = await server.send(alice, [mallory])
    response = await server.http.post(
        "/v1/messages/ack", json={"envelope_ids": [for_mallory, for_bob]}, headers=mallory.auth
    )
    assert response.status_code == 404
    assert response.json()["error"]["details"] == {"unknown": [for_bob]}
    assert [e["envelope_id"] for e in await server.fetch(bob)] == [for_bob]
    assert [e["envelope_id"] for e in await server.fetch(mallory)] == [for_mallory]


async def test_long_poll_returns_as_soon_as_a_message_arrives(server: Server) -> None:
    alice, bob = await server.register(), await server.register()
    waiting = asyncio.create_task(server.fetch(bob, wait=30))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    sent = await server.send(alice, [bob])
    got = await asyncio.wait_for(waiting, 10)
    assert [e["envelope_id"] for e in got] == [sent]


async def test_long_poll_times_out_empty(server: Server) -> None:
    bob = await server.register()
    assert await server.fetch(bob, wait=0.3) == []


async def test_long_poll_wait_is_bounded(server: Server) -> None:
    bob = await server.register()
    response = await server.http.get("/v1/messages", params={"wait": 3600}, headers=bob.auth)
    assert response.status_code == 422


async def test_franking_commitment_travels_in_the_clear_beside_the_ciphertext(
    server: Server,
) -> None:
    alice, bob = await server.register(), await server.register()
    tag = b64.encode(bytes(range(32)))
    body = {"recipients": [bob.address], "ciphertext": "aGk", "kind": "olm", "franking_tag": tag}
    sent = await server.http.post("/v1/messages", json=body, headers=alice.auth)
    assert sent.status_code == 201
    [got] = await server.fetch(bob)
    assert got["franking_tag"] == tag
    wrong = {**body, "franking_tag": b64.encode(b"short")}
    refused = await server.http.post("/v1/messages", json=wrong, headers=alice.auth)
    assert refused.status_code == 422
