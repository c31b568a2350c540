from __future__ import annotations

import pytest

import haven
from tests.server.conftest import Server

pytestmark = pytest.mark.anyio


async def test_health_reports_database_and_bus(server: Server) -> None:
    response = await server.http.get("/v1/health")
    assert response.json() == {
        "status": "ok",
        "version": haven.__version__,
        "database": "ok",
        "bus": "local",
    }


async def test_metrics_count_without_identities(server: Server) -> None:
    alice, bob = await server.register(), await server.register()
    await server.send(alice, [bob])
    text = (await server.http.get("/metrics")).text
    assert "haven_messages_sent_total 1.0" in text
    assert "haven_accounts_created_total 2.0" in text
    assert alice.account_id not in text


async def test_openapi_describes_the_v1_api(server: Server) -> None:
    spec = (await server.http.get("/v1/openapi.json")).json()
    assert {"/v1/accounts", "/v1/messages", "/v1/keys/claim", "/v1/attachments"} <= set(
        spec["paths"]
    )
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


async def test_unknown_route_and_wrong_method_are_json_errors(server: Server) -> None:
    missing = await server.http.get("/v1/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong = await server.http.put("/v1/health")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"
