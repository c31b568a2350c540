"""The transparency report in the console: preview a period with its charts, publish it,
and the public page serves exactly that; an unverifiable log is never published."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sqlite3

import pytest

from tests.server.console.conftest import Console

pytestmark = pytest.mark.anyio


def this_year() -> str:
    return str(dt.datetime.now(tz=dt.UTC).year)


async def test_preview_then_publish(admin: Console) -> None:
    empty = await admin.get("/admin/transparency")
    assert 'id="published-period">nothing yet' in empty.text
    assert (await admin.server.http.get("/transparency")).status_code == 404
    alice = await admin.server.register()
    for action in ("warn", "suspend"):
        await admin.post(
            f"/admin/accounts/{alice.account_id}/actions", {"action": action, "reason": "spam"}
        )
    preview = await admin.get("/admin/transparency", period=this_year())
    assert 'id="chart-over-time"' in preview.text
    assert 'id="chart-by-type"' in preview.text
    monthly = re.findall(r"<title>\d{4}-\d{2}: (\d+)</title>", preview.text)
    assert len(monthly) == 12
    assert sum(int(n) for n in monthly) == 2  # one bar a month; both actions are in
    assert "<title>suspend: 1</title>" in preview.text
    assert alice.account_id not in preview.text  # counts only
    published = await admin.post("/admin/transparency/publish", {"period": this_year()})
    assert published.status_code == 303
    after = await admin.get(published.headers["location"])
    assert f'id="published-period">{this_year()}<' in after.text
    public = await admin.server.http.get("/v1/transparency/latest")
    assert public.json()["figures"]["actions_by_type"]["suspend"] == 1


async def test_bad_periods_and_a_tampered_log_publish_nothing(
    admin: Console, console_db: str
) -> None:
    assert (await admin.get("/admin/transparency", period="2026-Q7")).status_code == 400
    assert (await admin.post("/admin/transparency/publish", {"period": "soon"})).status_code == 400
    alice = await admin.server.register()
    await admin.post(
        f"/admin/accounts/{alice.account_id}/actions", {"action": "warn", "reason": "spam"}
    )
    with contextlib.closing(sqlite3.connect(console_db.removeprefix("sqlite:///"))) as conn, conn:
        conn.execute("UPDATE audit_entries SET data = replace(data, 'warn', 'ban')")
    preview = await admin.get("/admin/transparency", period=this_year())
    assert "does not verify" in preview.text
    refused = await admin.post("/admin/transparency/publish", {"period": this_year()})
    assert refused.status_code == 409
    assert (await admin.server.http.get("/v1/transparency/latest")).status_code == 404
