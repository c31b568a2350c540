"""The dashboard shows what the service holds, and a clear state for what is not set up."""

from __future__ import annotations

import pytest

from haven.server.console import relayfile
from tests.server.console.conftest import Console

pytestmark = pytest.mark.anyio


async def test_the_dashboard_counts_accounts_and_says_what_is_not_configured(
    admin: Console,
) -> None:
    await admin.server.register()
    await admin.server.register()
    page = await admin.get("/admin")
    assert page.status_code == 200
    assert '<span class="figure" id="accounts-count">2</span>' in page.text
    assert "No relay" in page.text
    assert "no transparency report yet" in page.text
    relayfile.path(admin.server.data_dir).write_text("haven://relay?host=h&port=1\n")
    assert "Relay running" in (await admin.get("/admin")).text
