from __future__ import annotations

import pytest

from haven.core import ids
from tests.server.conftest import DeviceKeys, Server

pytestmark = pytest.mark.anyio


async def test_upload_count_and_claim(server: Server) -> None:
    bob = await server.register()
    alice = await server.register()
    upload = {
        "one_time_keys": [bob.keys.signed_key(f"otk{i}") for i in range(2)],
        "fallback_key": bob.keys.signed_key("fb"),
    }
    stored = await server.http.put("/v1/keys", json=upload, headers=bob.auth)
    assert stored.json() == {"one_time_key_count": 2, "has_fallback_key": True}
    claims = []
    for _ in range(3):
        r = await server.http.post(
            "/v1/keys/claim", json={"devices": [bob.address]}, headers=alice.auth
        )
        assert r.status_code == 200
        [claimed] = r.json()["keys"]
        assert claimed["identity_keys"] == bob.keys.identity()
        claims.append((claimed["one_time_key"]["key_id"], claimed["fallback"]))
    assert claims == [("otk0", False), ("otk1", False), ("fb", True)]
    count = await server.http.get("/v1/keys/count", headers=bob.auth)
    assert count.json() == {"one_time_key_count": 0, "has_fallback_key": True}


async def test_key_signed_by_another_device_is_refused_and_nothing_stored(server: Server) -> None:
    bob = await server.register()
    forger = DeviceKeys()
    upload = {"one_time_keys": [bob.keys.signed_key("good"), forger.signed_key("forged")]}
    response = await server.http.put("/v1/keys", json=upload, headers=bob.auth)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_signature"
    count = await server.http.get("/v1/keys/count", headers=bob.auth)
    assert count.json()["one_time_key_count"] == 0


async def test_claim_for_unknown_device_is_404(server: Server) -> None:
    alice = await server.register()
    unknown = {"account_id": ids.new_id(), "device_id": alice.device_id}
    r = await server.http.post("/v1/keys/claim", json={"devices": [unknown]}, headers=alice.auth)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "unknown_device"


async def test_too_many_keys_in_one_upload_is_refused(server: Server) -> None:
    bob = await server.register()
    upload = {"one_time_keys": [bob.keys.signed_key(f"k{i}") for i in range(101)]}
    response = await server.http.put("/v1/keys", json=upload, headers=bob.auth)
    assert response.status_code == 422
