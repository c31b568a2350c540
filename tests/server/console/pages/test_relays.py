"""Relays and invites: the relay `haven up` started (or a clear 'not configured'), and
invite codes made in the console that really register an account."""

from __future__ import annotations

import pytest

from haven.server.console import relayfile
from tests.server.conftest import DeviceKeys
from tests.server.console.conftest import Console

pytestmark = pytest.mark.anyio


async def test_no_relay_is_a_clear_state_and_a_relay_link_shows_with_its_qr(
    admin: Console,
) -> None:
    page = await admin.get("/admin/relays")
    assert 'id="relay-not-configured"' in page.text
    link = "haven://relay?host=127.0.0.1&port=8443&pin=abc&secret=def"
    relayfile.path(admin.server.data_dir).write_text(link + "\n")
    shown = await admin.get("/admin/relays")
    assert "haven://relay?host=127.0.0.1&amp;port=8443&amp;pin=abc&amp;secret=def" in shown.text
    assert 'src="data:image/png;base64,' in shown.text
    relayfile.path(admin.server.data_dir).write_text("<script>not a link</script>")
    assert 'id="relay-not-configured"' in (await admin.get("/admin/relays")).text


async def test_an_invite_made_in_the_console_registers_one_account(admin: Console) -> None:
    made = await admin.post("/admin/invites", {"uses": "1", "days": "2", "note": "for Rui"})
    assert made.status_code == 200
    code = made.text.split('id="invite-code">')[1].split("<")[0]
    assert 'id="invite-qr" src="data:image/png;base64,' in made.text
    assert code not in (await admin.get("/admin/relays")).text  # shown once
    body = {"identity_keys": DeviceKeys().identity(), "invite": code}
    first = await admin.server.http.post("/v1/accounts", json=body)
    assert first.status_code == 201, first.text
    body = {"identity_keys": DeviceKeys().identity(), "invite": code}
    second = await admin.server.http.post("/v1/accounts", json=body)
    assert second.status_code == 403
    for bad in ({"uses": "0"}, {"days": "900"}, {"uses": "x"}):
        assert (await admin.post("/admin/invites", bad)).status_code == 422
