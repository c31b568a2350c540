from __future__ import annotations

from pathlib import Path

import pytest

from haven.core import clock, ids
from haven.store.stores import open_stores
from tests.server.conftest import DeviceKeys, Server, make_config, serve

pytestmark = pytest.mark.anyio


async def test_register_returns_credentials_and_stores_only_a_digest(
    server: Server, db_url: str
) -> None:
    device = await server.register()
    assert ids.is_id(device.account_id)
    assert ids.is_id(device.device_id)
    assert device.token.startswith(device.device_id + ".")
    stores = await open_stores(db_url)
    try:
        found = await stores.accounts.credentials(device.device_id)
    finally:
        await stores.db.close()
    assert found is not None
    assert found[1] == ids.token_digest(device.token)
    assert device.token.encode() not in found[1]


async def test_same_identity_key_cannot_register_twice(server: Server) -> None:
    keys = DeviceKeys()
    first = await server.http.post("/v1/accounts", json={"identity_keys": keys.identity()})
    again = await server.http.post("/v1/accounts", json={"identity_keys": keys.identity()})
    assert first.status_code == 201
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "identity_key_in_use"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "validation_failed"),
        ({"identity_keys": {"curve25519": "AAAA", "ed25519": "AAAA"}}, "validation_failed"),
        ({"identity_keys": {"curve25519": "!!not base64!!", "ed25519": "x"}}, "validation_failed"),
        ({"identity_keys": {"curve25519": 5, "ed25519": None}}, "validation_failed"),
    ],
)
async def test_bad_registration_is_refused(server: Server, body: object, code: str) -> None:
    response = await server.http.post("/v1/accounts", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


async def test_malformed_json_is_a_clear_400(server: Server) -> None:
    response = await server.http.post(
        "/v1/accounts", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "invalid_json", "message": "the request body is not valid JSON"}
    }


async def test_invite_only_registration(db_url: str, tmp_path: Path) -> None:
    cfg = make_config(db_url, tmp_path, registration="invite")
    stores = await open_stores(db_url)
    code = ids.new_token()
    now = clock.now_ms()
    await stores.invites.create(ids.token_digest(code), now, now + 60_000, uses=1, note="")
    await stores.db.close()
    async with serve(cfg) as server:
        keys = {"identity_keys": DeviceKeys().identity()}
        refused = await server.http.post("/v1/accounts", json=keys)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "invite_required"
        wrong = await server.http.post("/v1/accounts", json={**keys, "invite": "guess"})
        assert wrong.json()["error"]["code"] == "invite_invalid"
        await server.register(invite=code)
        used_up = await server.http.post(
            "/v1/accounts", json={"identity_keys": DeviceKeys().identity(), "invite": code}
        )
        assert used_up.status_code == 403


async def test_devices_of_an_account_are_listed_with_their_keys(server: Server) -> None:
    alice = await server.register()
    laptop = await server.add_device(alice)
    bob = await server.register()
    response = await server.http.get(f"/v1/accounts/{alice.account_id}/devices", headers=bob.auth)
    assert response.status_code == 200
    listed = response.json()
    assert listed["account_id"] == alice.account_id
    assert [d["device_id"] for d in listed["devices"]] == [alice.device_id, laptop.device_id]
    assert listed["devices"][1]["identity_keys"] == laptop.keys.identity()
    missing = await server.http.get(f"/v1/accounts/{ids.new_id()}/devices", headers=bob.auth)
    assert missing.status_code == 404


async def test_device_is_removed_by_its_own_account_only(server: Server) -> None:
    alice = await server.register()
    phone = await server.add_device(alice)
    mallory = await server.register()
    refused = await server.http.delete(
        f"/v1/accounts/me/devices/{phone.device_id}", headers=mallory.auth
    )
    assert refused.status_code == 404
    assert (await server.http.get("/v1/keys/count", headers=phone.auth)).status_code == 200
    removed = await server.http.delete(
        f"/v1/accounts/me/devices/{phone.device_id}", headers=alice.auth
    )
    assert removed.status_code == 204
    gone = await server.http.get("/v1/keys/count", headers=phone.auth)
    assert gone.status_code == 401


async def test_device_cap(server: Server) -> None:
    alice = await server.register()
    for _ in range(9):
        await server.add_device(alice)
    response = await server.http.post(
        "/v1/accounts/me/devices",
        json={"identity_keys": DeviceKeys().identity()},
        headers=alice.auth,
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "too_many_devices"
