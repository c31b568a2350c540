"""Sending a notice from the console: preview the exact text, send, see it in the
history and in the person's own signed notices; bad input sends nothing."""

from __future__ import annotations

import pytest

from haven.core import ids
from tests.server.console.conftest import Console

pytestmark = pytest.mark.anyio


async def test_preview_then_send_a_notice(admin: Console) -> None:
    alice = await admin.server.register()
    compose = await admin.get("/admin/notices")
    assert "state_sponsored.en" in compose.text
    preview = await admin.post(
        "/admin/notices/preview",
        {"template": "state_sponsored.en", "accounts": f"{alice.account_id}\n"},
    )
    assert preview.status_code == 200
    assert "1 account(s) will receive this" in preview.text
    assert "government" in preview.text.lower()
    assert (await admin.server.http.get("/v1/accounts/me/notices", headers=alice.auth)).json() == []
    sent = await admin.post(
        "/admin/notices/send",
        {"template": "state_sponsored.en", "accounts": alice.account_id},
    )
    assert (sent.status_code, sent.headers["location"]) == (303, "/admin/notices?sent=1")
    history = await admin.get("/admin/notices")
    assert alice.account_id[:12] in history.text
    [notice] = (await admin.server.http.get("/v1/accounts/me/notices", headers=alice.auth)).json()
    assert notice["notice"]["template"] == "state_sponsored"


async def test_bad_recipients_or_templates_send_nothing(admin: Console) -> None:
    alice = await admin.server.register()
    for form, status in (
        ({"template": "state_sponsored.en", "accounts": f"{alice.account_id} <script>"}, 400),
        ({"template": "state_sponsored.en", "accounts": "  "}, 400),
        ({"template": "no_such.en", "accounts": alice.account_id}, 400),
        ({"template": "../../etc.en", "accounts": alice.account_id}, 422),
    ):
        response = await admin.post("/admin/notices/send", form)
        assert response.status_code == status, form
    unknown = await admin.post(
        "/admin/notices/send", {"template": "state_sponsored.en", "accounts": ids.new_id()}
    )
    assert unknown.status_code == 404
    assert (await admin.server.http.get("/v1/accounts/me/notices", headers=alice.auth)).json() == []
