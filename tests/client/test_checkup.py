"""The security checkup against a real server: it finds each planted problem (a changed
safety number, a stale device, no relay, an old block list, a weak passphrase, a device
asking to join) with the command that fixes it, and comes back clean once they are fixed."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from haven.client import checkup
from haven.client import protection as protect
from haven.client.messenger import Messenger
from haven.core import clock
from haven.core.relaylink import RelayLink
from haven.store.stores import stores_at
from haven.store.tables import device_seen, devices
from tests.client.conftest import PASSPHRASE, MakeClient, second_device

pytestmark = pytest.mark.anyio

DAY_MS = 24 * 3600 * 1000
RELAY = RelayLink("127.0.0.1", 9, bytes(range(32)), bytes(range(32, 64))).to_url()
STRONG = checkup.PassphraseCheck.of(PASSPHRASE)


def attention(report: checkup.Report) -> dict[str, checkup.Finding]:
    return {f.title: f for f in report.findings if f.status == "attention"}


async def age_device(db_url: str, device_id: str, days: int) -> None:
    """As if the device had last been used `days` ago (and linked before that)."""
    then = clock.now_ms() - days * DAY_MS
    async with stores_at(db_url) as stores:
        await stores.device_activity.touch(device_id, "", then)  # recorded if never seen

        def work(conn: sa.Connection) -> None:
            conn.execute(sa.update(devices).where(devices.c.device_id == device_id)
                         .values(created_at=then - DAY_MS))  # fmt: skip
            conn.execute(sa.update(device_seen).where(device_seen.c.device_id == device_id)
                         .values(last_seen_at=then))  # fmt: skip

        await stores.db.run(work)


async def test_planted_problems_are_found_and_clear_after_the_fix(
    make_client: MakeClient, tmp_path: Path, db_url: str
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    alice.add_contact(bob.state.account_id, "bob")
    await alice.mark_verified("bob")
    old_tablet = await second_device(alice, tmp_path / "tablet")
    await old_tablet.close()
    await age_device(db_url, old_tablet.state.device_id, 45)
    bobs_laptop = await second_device(bob, tmp_path / "bob-laptop")  # bob's number changes
    await bobs_laptop.close()

    report = await checkup.run(alice, STRONG)
    assert report.needs_attention
    found = attention(report)
    profile = str(alice.profile.directory)
    changed = found["Your safety number with bob changed"]
    assert changed.fix == f"haven verify bob --profile {profile}"
    [stale] = [f for t, f in found.items() if old_tablet.state.device_id in t]
    assert "45 days ago" in stale.title
    assert stale.fix == (
        f"haven account remove-device {old_tablet.state.device_id} --profile {profile}"
    )
    assert found["No relay is configured"].fix == f"haven relay add LINK --profile {profile}"
    blocklist = found["The block list of spyware links was never downloaded"]
    assert blocklist.fix == f"haven account update-blocklist --profile {profile}"
    assert set(found) == {changed.title, stale.title, "No relay is configured", blocklist.title}
    # Protection is recommended, not demanded, of someone the operator has not invited.
    [protection] = [f for f in report.findings if f.check == "protection"]
    assert protection.status == "advice"

    # The fixes, as the commands in the report do them.
    await alice.mark_verified("bob")
    await protect.remove_device(alice, old_tablet.state.device_id)
    alice.add_relay(RELAY)
    await alice.links.refresh(alice.api, force=True)

    cleared = await checkup.run(alice, STRONG)
    assert attention(cleared) == {}
    assert not cleared.needs_attention
    assert {f.check for f in cleared.findings if f.status == "ok"} >= {
        "contact", "device", "relay", "blocklist", "passphrase",
    }  # fmt: skip


async def test_weak_passphrase_join_requests_and_invitations_need_attention(
    make_client: MakeClient, tmp_path: Path
) -> None:
    alice = await make_client("alice")
    await protect.turn_on(alice, "a good long lock")
    await protect.begin_join(tmp_path / "new", alice.state.server, alice.state.account_id,
                             "a good long lock", PASSPHRASE)  # fmt: skip
    report = await checkup.run(alice, checkup.PassphraseCheck.of("hunter2"))
    found = attention(report)
    assert "This profile's passphrase is weak" in found
    assert found["1 new device(s) ask to join your account"].fix == (
        f"haven account requests list --profile {alice.profile.directory}"
    )
    [protection] = [f for f in report.findings if f.check == "protection"]
    assert (protection.status, protection.title) == ("ok", "Account protection is on")


async def test_a_turn_off_in_progress_needs_attention(make_client: MakeClient) -> None:
    alice = await make_client("alice")
    await protect.turn_on(alice, "a good long lock")
    await protect.turn_off(alice, "a good long lock")
    [protection] = [f for f in (await checkup.run(alice)).findings if f.check == "protection"]
    assert protection.status == "attention"
    assert protection.fix is not None
    assert protection.fix.startswith("haven account protect cancel")


async def test_an_unreachable_server_is_reported_not_hidden(
    make_client: MakeClient, tmp_path: Path
) -> None:
    alice = await make_client("alice")
    offline = Messenger(alice.profile, alice.state, type(alice.api)("http://127.0.0.1:9"))
    try:
        report = await checkup.run(offline)
    finally:
        await offline.close()
    assert "The server's checks could not run" in attention(report)


@pytest.mark.parametrize(
    ("passphrase", "weak"),
    [
        ("hunter2", True),
        ("password1234", True),
        ("aaaaaaaaaaaaaaaaaaaa", True),
        ("sunflower123", True),  # 12 characters, two kinds
        ("Sunflower-123", False),  # 13 characters, four kinds
        ("correct horse battery staple", False),
        ("tres largo pero sencillo", False),
    ],
)
def test_passphrase_strength(passphrase: str, weak: bool) -> None:
    assert (checkup.passphrase_problem(passphrase) is not None) == weak


def test_the_report_reads_as_lines_with_fixes_and_the_guide() -> None:
    report = checkup.Report([
        checkup.Finding("relay", "attention", "No relay", "detail", "haven relay add LINK",
                        "spyware"),
        checkup.Finding("contact", "ok", "bob is verified"),
    ])  # fmt: skip
    assert checkup.lines(report) == [
        "!! No relay", "     detail", "     fix: haven relay add LINK",
        "     read: haven guide spyware", "ok bob is verified",
        "Security guidance: haven guide (or /guide in haven chat)",
    ]  # fmt: skip
    assert report.to_json()["needs_attention"] is True
