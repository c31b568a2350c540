"""Every route, generated from the app's route table, refuses callers without a valid token.

A new route is covered automatically: it either appears in PUBLIC with a reason, or it must
refuse anonymous and forged callers, or this test fails.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from starlette.routing import Route

from haven.core import ids
from haven.core.config import Config
from haven.server.app import create_app
from tests.server.conftest import Device, Server

pytestmark = pytest.mark.anyio

PUBLIC = {
    ("POST", "/v1/accounts"): "registration is how a device gets its token",
    ("GET", "/v1/health"): "liveness for load balancers; reveals no data",
    ("GET", "/metrics"): "loopback-only; counts without identities",
    ("GET", "/v1/openapi.json"): "the public API description",
    ("GET", "/v1/transparency/latest"): "the published transparency report: counts only",
    ("GET", "/transparency"): "the published transparency report as a page: counts only",
    ("GET", "/v1/notices/key"): "the notice public key; clients pin it when they join",
    ("GET", "/v1/keylog/key"): "the key log's public key; clients pin it when they join",
}


def route_table() -> list[tuple[str, str, object]]:
    """(method, full path, route) for every route, through included routers."""
    found: list[tuple[str, str, object]] = []
    for context in iter_route_contexts(create_app(Config()).routes):
        route, path = context.route, str(context.path)
        if isinstance(route, APIWebSocketRoute):
            found.append(("WEBSOCKET", path, route))
        elif isinstance(route, APIRoute | Route):
            found.extend((m, path, route) for m in sorted(route.methods or {"GET"}))
    return found


def http_routes() -> list[tuple[str, str]]:
    return [(m, p) for m, p, _ in route_table() if m not in {"WEBSOCKET", "HEAD"}]


def test_stream_route_is_the_only_websocket() -> None:
    sockets = [path for method, path, _ in route_table() if method == "WEBSOCKET"]
    assert sockets == ["/v1/stream"]  # tests/server/routes/test_stream.py covers its refusals


def fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", ids.new_id(), path)


async def forged_callers(server: Server) -> dict[str, dict[str, str]]:
    alice = await server.register()
    removed = await server.add_device(alice)
    await server.http.delete(f"/v1/accounts/me/devices/{removed.device_id}", headers=alice.auth)
    victim = await server.register()
    return {
        "no token": {},
        "not bearer": {"Authorization": f"Basic {alice.token}"},
        "malformed token": {"Authorization": "Bearer nonsense"},
        "right device, wrong secret": {
            "Authorization": f"Bearer {victim.device_id}.{ids.new_token()}"
        },
        "another account's secret on this device id": {
            "Authorization": f"Bearer {victim.device_id}.{alice.token.split('.', 1)[1]}"
        },
        "removed device": removed.auth,
    }


@pytest.mark.parametrize(("method", "path"), http_routes())
async def test_route_refuses_callers_without_a_valid_token(
    server: Server, method: str, path: str
) -> None:
    if (method, path) in PUBLIC:
        return
    for label, headers in (await forged_callers(server)).items():
        response = await server.http.request(method, fill(path), headers=headers, json={})
        assert response.status_code == 401, (label, response.text)
        assert response.json()["error"]["code"] == "unauthorized"


def test_every_public_route_still_exists() -> None:
    assert set(PUBLIC) <= set(http_routes())


async def test_valid_token_passes(server: Server) -> None:
    device: Device = await server.register()
    response = await server.http.get("/v1/keys/count", headers=device.auth)
    assert response.status_code == 200
