"""Reports in the console: a faithfully franked report is marked verified, an altered one
unverified with the reason, the revealed text is shown escaped, and closing works."""

from __future__ import annotations

from pathlib import Path

import pytest

from haven.client.messenger import Messenger
from haven.core import b64
from tests.server.console.conftest import Console

pytestmark = pytest.mark.anyio
PASSPHRASE = "correct horse battery staple"


async def test_verified_and_unverified_reports_and_closing_one(
    admin: Console, tmp_path: Path
) -> None:
    alice = await Messenger.create_account(tmp_path / "alice", admin.server.url, PASSPHRASE)
    bob = await Messenger.create_account(tmp_path / "bob", admin.server.url, PASSPHRASE)
    try:
        faithful = await alice.send_text(bob.state.account_id, "<img src=x onerror=alert(1)>")
        altered = await alice.send_text(bob.state.account_id, "see you at noon")
        await bob.receive()
        await bob.report(faithful, "harassment")
        [message] = [m for m in bob.state.messages if m.get("message_id") == altered]
        content = b64.decode(message["franking_content"]).replace(b"see you", b"I hurt you")
        message["franking_content"] = b64.encode(content)
        await bob.report(altered, "threats")
    finally:
        await alice.close()
        await bob.close()
    page = await admin.get("/admin/reports")
    assert page.text.count('data-verified="true"') == 1
    assert page.text.count('data-verified="false"') == 1
    assert "the content does not match the commitment" in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert "<img src=x" not in page.text
    closed = await admin.post("/admin/reports/1/decision", {"outcome": "actioned"})
    assert closed.status_code == 303
    assert "Report 1:" in (await admin.get("/admin/reports", status="actioned")).text
    again = await admin.post("/admin/reports/1/decision", {"outcome": "dismiss"})
    assert again.status_code == 409
