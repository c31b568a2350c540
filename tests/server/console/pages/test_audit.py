"""The audit log in the console: browse it, and verify it with one click; a tampered
entry is named."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest

from tests.server.console.conftest import Console

pytestmark = pytest.mark.anyio


async def test_verify_with_one_click_then_detect_tampering(admin: Console, console_db: str) -> None:
    alice = await admin.server.register()
    for action in ("warn", "restrict"):
        await admin.post(
            f"/admin/accounts/{alice.account_id}/actions", {"action": action, "reason": "spam"}
        )
    log = await admin.get("/admin/audit")
    assert log.text.count("account action") == 2
    verified = await admin.get("/admin/audit/verify")
    assert 'class="flash ok" role="status" id="verify-result">Verified: 2 entries' in verified.text
    with contextlib.closing(sqlite3.connect(console_db.removeprefix("sqlite:///"))) as conn, conn:
        conn.execute("UPDATE audit_entries SET data = replace(data, 'warn', 'ban') WHERE seq = 1")
    failed = await admin.get("/admin/audit/verify")
    assert 'id="verify-result">FAILED: entry 1 was' in failed.text


async def test_the_log_pages_through_entries(admin: Console) -> None:
    alice = await admin.server.register()
    for _ in range(3):
        await admin.post(
            f"/admin/accounts/{alice.account_id}/actions", {"action": "warn", "reason": "spam"}
        )
    later = await admin.get("/admin/audit", after=2)
    assert later.text.count("account action") == 1
    assert "Earlier" in later.text
    assert (await admin.get("/admin/audit", after=-1)).status_code == 422
