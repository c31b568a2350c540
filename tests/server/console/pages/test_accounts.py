"""Acting on an account from the console: it takes effect, it is in the audit log, and a
bad request changes nothing."""

from __future__ import annotations

import pytest

from haven.core import ids
from tests.server.console.conftest import Console

pytestmark = pytest.mark.anyio


async def test_search_then_suspend_with_a_reason_and_see_it_in_the_audit_log(
    admin: Console,
) -> None:
    alice = await admin.server.register()
    found = await admin.get("/admin/accounts", q=alice.account_id[:6])
    assert alice.account_id in found.text
    page = await admin.get(f"/admin/accounts/{alice.account_id}")
    assert alice.device_id in page.text
    done = await admin.post(
        f"/admin/accounts/{alice.account_id}/actions",
        {"action": "suspend", "reason": "spam", "note": "<b>bulk</b> invites"},
    )
    assert done.status_code == 303
    after = await admin.get(done.headers["location"])
    assert 'id="standing">suspended<' in after.text
    assert "&lt;b&gt;bulk&lt;/b&gt; invites" in after.text
    refused = await admin.server.http.get("/v1/keys/count", headers=alice.auth)
    assert refused.status_code == 403  # at once, for the device itself
    audit = await admin.get("/admin/audit")
    assert "account action" in audit.text
    assert alice.account_id in audit.text
    assert "Ana" in audit.text


async def test_a_bad_action_is_refused_and_changes_nothing(admin: Console) -> None:
    alice = await admin.server.register()
    for form, status in (
        ({"action": "suspend", "reason": "not-a-reason"}, 400),
        ({"action": "obliterate", "reason": "spam"}, 400),
        ({"action": "suspend", "reason": "other", "note": "   "}, 400),
        ({"action": "revoke_device", "reason": "spam"}, 400),
        ({"action": "suspend", "reason": "spam", "device_id": "nope"}, 422),
    ):
        response = await admin.post(f"/admin/accounts/{alice.account_id}/actions", form)
        assert response.status_code == status, (form, response.text[:300])
        assert "That did not work" in response.text
    missing = await admin.post(
        f"/admin/accounts/{ids.new_id()}/actions", {"action": "warn", "reason": "spam"}
    )
    assert missing.status_code == 404
    assert (await admin.get(f"/admin/accounts/{ids.new_id()}")).status_code == 404
    assert "The log is empty" in (await admin.get("/admin/audit")).text


async def test_an_appeal_is_decided_from_the_console(admin: Console) -> None:
    alice = await admin.server.register()
    await admin.post(
        f"/admin/accounts/{alice.account_id}/actions", {"action": "suspend", "reason": "spam"}
    )
    standing = (await admin.server.http.get("/v1/accounts/me/standing", headers=alice.auth)).json()
    action_id = standing["actions"][0]["action_id"]
    appealed = await admin.server.http.post(
        "/v1/accounts/me/appeals",
        json={"action_id": action_id, "text": "I was inviting my <i>newsroom</i>"},
        headers=alice.auth,
    )
    assert appealed.status_code == 201, appealed.text
    waiting = await admin.get("/admin/appeals")
    assert "I was inviting my &lt;i&gt;newsroom&lt;/i&gt;" in waiting.text
    appeal_id = appealed.json()["appeal_id"]
    decided = await admin.post(
        f"/admin/appeals/{appeal_id}/decision", {"outcome": "reverse", "note": "checked"}
    )
    assert decided.status_code == 303
    assert (await admin.server.http.get("/v1/keys/count", headers=alice.auth)).status_code == 200
    assert "No open appeals" in (await admin.get("/admin/appeals")).text
