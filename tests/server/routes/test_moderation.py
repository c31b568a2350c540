"""Operator routes against a real server: actions take effect at once, appeals reach a
decision, every step is in the audit log, and no device token opens an operator route."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from haven.core import ids
from haven.safety import auditlog
from haven.store.stores import stores_at
from tests.server.conftest import Device, Server

pytestmark = pytest.mark.anyio


async def operator(db_url: str, name: str = "moderator-1") -> dict[str, str]:
    operator_id = ids.new_id()
    token = ids.operator_token(operator_id)
    async with stores_at(db_url) as stores:
        await stores.operators.create(operator_id, name, "moderator", ids.token_digest(token), 1)
    return {"Authorization": f"Bearer {token}"}


async def act(server: Server, staff: dict[str, str], account: str, **body: Any) -> Any:
    response = await server.http.post(
        f"/v1/admin/accounts/{account}/actions", json=body, headers=staff
    )
    return response


async def test_suspension_appeal_and_reversal(server: Server, db_url: str) -> None:
    staff = await operator(db_url)
    alice, bob = await server.register(), await server.register()
    async with websockets.connect(server.ws_url, additional_headers=alice.auth) as stream:
        done = await act(
            server, staff, alice.account_id, action="suspend", reason="spam", note="bulk invites"
        )
        assert done.status_code == 201, done.text
        # Her open stream closes and her token stops working at once.
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(stream.recv(), 10)
    refused = await server.http.get("/v1/keys/count", headers=alice.auth)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "account_suspended")
    with pytest.raises(InvalidStatus):
        await websockets.connect(server.ws_url, additional_headers=alice.auth)
    assert (await server.http.get("/v1/keys/count", headers=bob.auth)).status_code == 200

    # She can still see why, and appeal; the moderator's internal note is not shown to her.
    standing = (await server.http.get("/v1/accounts/me/standing", headers=alice.auth)).json()
    assert standing["standing"] == "suspended"
    [shown] = standing["actions"]
    assert (shown["reason"], shown["reason_title"]) == ("spam", "Spam")
    assert "bulk invites" not in str(standing)
    appeal = await server.http.post(
        "/v1/accounts/me/appeals",
        json={"action_id": shown["action_id"], "text": "those were my colleagues"},
        headers=alice.auth,
    )
    assert appeal.status_code == 201, appeal.text
    again = await server.http.post(
        "/v1/accounts/me/appeals",
        json={"action_id": shown["action_id"], "text": "again"},
        headers=alice.auth,
    )
    assert again.status_code == 409

    [waiting] = (await server.http.get("/v1/admin/appeals", headers=staff)).json()
    assert waiting["account_id"] == alice.account_id
    decided = await server.http.post(
        f"/v1/admin/appeals/{waiting['appeal']['appeal_id']}/decision",
        json={"outcome": "reverse", "note": "verified with her editor"},
        headers=staff,
    )
    assert decided.json()["status"] == "reversed"
    assert (await server.http.get("/v1/keys/count", headers=alice.auth)).status_code == 200
    told = (await server.http.get("/v1/accounts/me/standing", headers=alice.auth)).json()
    assert told["standing"] == "active"
    assert told["appeals"][0]["status"] == "reversed"

    # Every step is in the audit log, under signed heads that verify.
    page = (await server.http.get("/v1/admin/audit", headers=staff)).json()
    assert [e["kind"] for e in page["entries"]] == [
        "account_action",
        "appeal",
        "appeal_decision",
    ]
    async with stores_at(db_url) as stores:
        report = await auditlog.verify(stores, auditlog.load_public_key(server.data_dir))
    assert report.ok, report.problem
    assert report.heads_checked == 3


async def test_restriction_stops_new_sessions_only(server: Server, db_url: str) -> None:
    staff = await operator(db_url)
    alice, bob = await server.register(), await server.register()
    await act(server, staff, alice.account_id, action="restrict", reason="harassment")
    claim = await server.http.post(
        "/v1/keys/claim", json={"devices": [bob.address]}, headers=alice.auth
    )
    assert (claim.status_code, claim.json()["error"]["code"]) == (403, "account_restricted")
    await server.send(alice, [bob], b"an existing conversation goes on")
    assert len(await server.fetch(bob)) == 1


async def test_revoking_a_device_and_bad_requests(server: Server, db_url: str) -> None:
    staff = await operator(db_url)
    alice = await server.register()
    laptop = await server.add_device(alice)
    done = await act(
        server, staff, alice.account_id, action="revoke_device", reason="account_compromise",
        device_id=laptop.device_id,
    )  # fmt: skip
    assert done.status_code == 201
    assert (await server.http.get("/v1/keys/count", headers=laptop.auth)).status_code == 401
    assert (await server.http.get("/v1/keys/count", headers=alice.auth)).status_code == 200
    for body, status in (
        ({"action": "suspend", "reason": "not-a-reason"}, 400),
        ({"action": "suspend", "reason": "other"}, 400),  # 'other' needs a note
        ({"action": "revoke_device", "reason": "spam"}, 400),  # which device?
        ({"action": "explode", "reason": "spam"}, 422),
    ):
        response = await act(server, staff, alice.account_id, **body)
        assert response.status_code == status, (body, response.text)
    missing = await act(server, staff, ids.new_id(), action="warn", reason="spam")
    assert missing.status_code == 404


async def test_no_device_token_opens_an_operator_route(server: Server, db_url: str) -> None:
    await operator(db_url)
    alice: Device = await server.register()
    forged = {"Authorization": f"Bearer {ids.operator_token(ids.new_id())}"}
    routes = [
        ("POST", f"/v1/admin/accounts/{alice.account_id}/actions"),
        ("GET", f"/v1/admin/accounts/{alice.account_id}"),
        ("GET", "/v1/admin/appeals"),
        ("POST", "/v1/admin/appeals/1/decision"),
        ("GET", "/v1/admin/audit"),
    ]
    for method, path in routes:
        for headers in (alice.auth, forged, {}):
            response = await server.http.request(
                method, path, json={"action": "ban", "reason": "spam"}, headers=headers
            )
            assert response.status_code == 401, (method, path, response.text)
    async with stores_at(db_url) as stores:
        assert await stores.moderation.history(alice.account_id) == []


async def test_moderators_read_and_close_reports(server: Server, db_url: str) -> None:
    from haven.safety.records import audit_entry
    from haven.store.interfaces import NewReport

    staff = await operator(db_url)
    alice, bob = await server.register(), await server.register()
    content = '{"body":"<script>alert(1)</script> meet me","message_id":"x"}'
    filed = NewReport(
        bob.account_id, bob.device_id, alice.account_id, alice.device_id, ids.new_id(), 5,
        "harassment", content, False, "the content does not match the commitment",
    )  # fmt: skip
    async with stores_at(db_url) as stores:
        await stores.reports.file(filed, 6, audit_entry("report_received", 6))
    [shown] = (await server.http.get("/v1/admin/reports", headers=staff)).json()
    assert shown["body"] == "<script>alert(1)</script> meet me"  # shown as data, never run
    assert (shown["verified"], shown["reported"]["account_id"]) == (False, alice.account_id)
    closed = await server.http.post(
        f"/v1/admin/reports/{shown['report_id']}/decision",
        json={"outcome": "dismiss", "note": "unverified"},
        headers=staff,
    )
    assert closed.json()["status"] == "dismissed"
    again = await server.http.post(
        f"/v1/admin/reports/{shown['report_id']}/decision",
        json={"outcome": "actioned"},
        headers=staff,
    )
    assert again.status_code == 409
    assert (await server.http.get("/v1/admin/reports", headers=bob.auth)).status_code == 401
