"""Console failures are pages; the JSON API keeps its JSON errors."""

from __future__ import annotations

import pytest

from tests.server.console.conftest import Console

pytestmark = pytest.mark.anyio


async def test_console_errors_are_pages_and_api_errors_stay_json(admin: Console) -> None:
    missing = await admin.get("/admin/no-such-page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "There is no such page in the console." in missing.text
    invalid = await admin.get("/admin/reports", status="<bogus>")
    assert invalid.status_code == 422
    assert "status" in invalid.text
    assert "<bogus>" not in invalid.text
    api = await admin.server.http.get("/v1/no-such-thing")
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"
    wrong = await admin.server.http.get("/v1/admin/reports")
    assert wrong.json()["error"]["code"] == "unauthorized"
