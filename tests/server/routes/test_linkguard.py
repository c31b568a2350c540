"""The link-check endpoints: a client gets the list and full hashes for one prefix."""

from __future__ import annotations

import pytest

from haven.core import b64
from haven.intel.bundled import FEED
from haven.intel.importing import store_collection
from haven.intel.merge import collect
from haven.linkguard import RiceDeltas, apply, expression_hash
from haven.store.stores import stores_at
from tests.server.conftest import Server

pytestmark = pytest.mark.anyio


async def test_list_then_full_hashes_for_a_hit(server: Server, db_url: str) -> None:
    async with stores_at(db_url) as stores:
        cytrox = collect([FEED / "amnesty-investigations/2021-12-16_cytrox/domains.txt"])
        await store_collection(stores.intel, cytrox, "test", 1)
    device = await server.register()

    response = await server.http.get("/v1/linkguard/list", headers=device.auth)
    assert response.status_code == 200, response.text
    update = response.json()
    assert update["reset"] is True
    additions = RiceDeltas(**{**update["additions"], "encoded_data": b64.decode(
        update["additions"]["encoded_data"])})  # fmt: skip
    empty = RiceDeltas(None, 1, 0, b"")
    held = apply([], additions, empty, b64.decode(update["checksum"]))
    assert len(held) == update["entries"] > 200

    full = expression_hash("2y4nothing.xyz/")
    assert int.from_bytes(full[:4], "big") in held
    hashes = await server.http.get(
        "/v1/linkguard/hashes", params={"prefix": full[:4].hex()}, headers=device.auth
    )
    assert hashes.status_code == 200
    assert "max-age=" in hashes.headers["cache-control"]
    body = hashes.json()
    [match] = [m for m in body["matches"] if m["hash"] == b64.encode(full)]
    [indicator] = match["indicators"]
    assert (indicator["type"], indicator["value"]) == ("domain", "2y4nothing.xyz")
    assert indicator["sources"][0]["publisher"] == "Amnesty International"
    assert body["cache_seconds"] > 0

    again = await server.http.get(
        "/v1/linkguard/list", params={"version": update["version"]}, headers=device.auth
    )
    assert again.json()["reset"] is False
    assert again.json()["additions"]["entry_count"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"prefix": "abc"},  # under 4 bytes
        {"prefix": "0123456"},  # odd length
        {"prefix": "ABCDEF01"},  # upper case
        {"prefix": "zzzzzzzz"},
        {"prefix": "00" * 33},  # over 32 bytes
    ],
)
async def test_bad_prefixes_are_refused(server: Server, params: dict[str, str]) -> None:
    device = await server.register()
    response = await server.http.get("/v1/linkguard/hashes", params=params, headers=device.auth)
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["code"] in ("bad_request", "validation_failed")


async def test_bad_versions_are_refused(server: Server) -> None:
    device = await server.register()
    for version in ("-1", "x", str(2**63)):
        response = await server.http.get(
            "/v1/linkguard/list", params={"version": version}, headers=device.auth
        )
        assert response.status_code in (400, 422), response.text
