"""Which paths are the console's (and so get its headers)."""

from __future__ import annotations

import pytest

from haven.server.console.headers import is_console_path
from tests.server.console.conftest import Console

pytestmark = pytest.mark.anyio


def test_console_paths() -> None:
    for path in ("/admin", "/admin/", "/admin/login", "/admin/static/console.js"):
        assert is_console_path(path)
    for path in ("/administrator", "/v1/admin/reports", "/", "/transparency"):
        assert not is_console_path(path)


async def test_the_api_keeps_its_own_headers(admin: Console) -> None:
    health = await admin.server.http.get("/v1/health")
    assert "x-frame-options" not in health.headers
    redirect = await admin.server.http.get("/admin")  # even a redirect to sign-in
    assert redirect.headers["x-frame-options"] == "DENY"
    assert redirect.headers["cache-control"] == "no-store"
