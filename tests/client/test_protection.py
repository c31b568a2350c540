"""Account protection from real clients against a real server: the lock is asked for only
when the account is protected, a new device joins with the lock and a device's approval,
and alerts reach the other devices once each."""

from __future__ import annotations

from pathlib import Path

import pytest

from haven.client import protection as protect
from haven.client.api import ApiError
from haven.client.messenger import Messenger, MessengerError
from haven.core import clock, limits
from tests.client.conftest import PASSPHRASE, MakeClient, second_device

pytestmark = pytest.mark.anyio

LOCK = "amber-kestrel-1984"


def never_asked() -> str:
    raise AssertionError("the lock was asked for, but the account is not protected")


async def test_linking_to_a_protected_account_needs_the_lock(
    make_client: MakeClient, tmp_path: Path
) -> None:
    alice = await make_client("alice")
    # Unprotected: approving asks for no lock.
    laptop_code = Messenger.begin_link(tmp_path / "laptop", alice.state.server, PASSPHRASE)
    await protect.approve_link(alice, laptop_code, never_asked)
    status = await protect.turn_on(alice, LOCK)
    assert status.status == "on"
    code = Messenger.begin_link(tmp_path / "phone", alice.state.server, PASSPHRASE)
    with pytest.raises(ApiError) as refused:
        await protect.approve_link(alice, code, lambda: "not the lock")
    assert refused.value.code == "registration_lock"
    approval, _ = await protect.approve_link(alice, code, lambda: LOCK)
    phone = await Messenger.complete_link(tmp_path / "phone", PASSPHRASE, approval)
    try:
        assert phone.state.account_id == alice.state.account_id
        assert (await protect.status(phone)).status == "on"
    finally:
        await phone.close()


async def test_a_weak_lock_is_refused_on_the_device(make_client: MakeClient) -> None:
    alice = await make_client("alice")
    with pytest.raises(MessengerError, match="at least"):
        await protect.turn_on(alice, "12345")
    assert (await protect.status(alice)).status == "off"


async def test_a_new_device_joins_with_the_lock_and_an_approval(
    make_client: MakeClient, tmp_path: Path
) -> None:
    alice = await make_client("alice")
    await protect.turn_on(alice, LOCK, "fr")
    asked = await protect.begin_join(tmp_path / "new", alice.state.server, alice.state.account_id,
                                     LOCK, PASSPHRASE)  # fmt: skip
    assert await protect.finish_join(tmp_path / "new", PASSPHRASE, wait=0) is None
    with pytest.raises(MessengerError, match="waiting"):
        Messenger.open(tmp_path / "new", PASSPHRASE)
    [waiting] = await protect.link_requests(alice)
    assert waiting.request_id == asked["request_id"]
    # The digits on the approving screen are the ones the new device shows.
    assert protect.key_digits(waiting.identity_keys.model_dump()) == asked["check"]
    await protect.approve_request(alice, waiting.request_id)
    joined = await protect.finish_join(tmp_path / "new", PASSPHRASE, wait=30)
    assert joined is not None
    try:
        assert joined.state.device_id == asked["device_id"]
        await joined.send_text(alice.state.account_id, "it is me, on my new phone")
        [message] = await alice.receive()
        assert message["body"] == "it is me, on my new phone"
    finally:
        await joined.close()
    alerts = await protect.new_alerts(alice)
    assert [a["template"] for a in alerts] == ["protection_on", "link_requested", "device_linked"]
    assert all(a["verified"] for a in alerts)
    assert protect.label(alerts[-1]) == "SECURITY ALERT from your Haven server"
    assert await protect.new_alerts(alice) == []  # shown once


async def test_a_wrong_lock_makes_nothing(make_client: MakeClient, tmp_path: Path) -> None:
    alice = await make_client("alice")
    await protect.turn_on(alice, LOCK)
    with pytest.raises(ApiError) as refused:
        await protect.begin_join(tmp_path / "thief", alice.state.server, alice.state.account_id,
                                 "a guess at it", PASSPHRASE)  # fmt: skip
    assert refused.value.code == "registration_lock"
    assert not (tmp_path / "thief" / "state.haven").exists()
    assert await protect.link_requests(alice) == []


async def test_an_unapproved_join_expires(
    make_client: MakeClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await make_client("alice")
    await protect.turn_on(alice, LOCK)
    await protect.begin_join(tmp_path / "new", alice.state.server, alice.state.account_id, LOCK,
                             PASSPHRASE)  # fmt: skip
    wall = clock.now_ms
    monkeypatch.setattr(clock, "now_ms", lambda: wall() + limits.LINK_REQUEST_TTL_SECONDS * 1001)
    with pytest.raises(MessengerError, match="expired"):
        await protect.finish_join(tmp_path / "new", PASSPHRASE, wait=0)
    assert await protect.link_requests(alice) == []


async def test_turning_off_waits_and_can_be_cancelled(make_client: MakeClient) -> None:
    alice = await make_client("alice")
    await protect.turn_on(alice, LOCK)
    with pytest.raises(ApiError):
        await protect.turn_off(alice, "the wrong lock")
    leaving = await protect.turn_off(alice, LOCK)
    assert leaving.status == "disabling"
    assert leaving.disable_after is not None
    assert (await protect.cancel_turn_off(alice)).status == "on"
    await protect.change_lock(alice, LOCK, "a brand new lock")
    with pytest.raises(ApiError):
        await protect.turn_off(alice, LOCK)
    assert (await protect.turn_off(alice, "a brand new lock")).status == "disabling"


async def test_devices_are_listed_and_removed(make_client: MakeClient, tmp_path: Path) -> None:
    alice = await make_client("alice")
    laptop = await second_device(alice, tmp_path / "laptop")
    try:
        listed = {d.device_id for d in await protect.devices(alice)}
        assert listed == {alice.state.device_id, laptop.state.device_id}
        with pytest.raises(MessengerError, match="device you are using"):
            await protect.remove_device(alice, alice.state.device_id)
        await protect.remove_device(alice, laptop.state.device_id)
        assert [d.device_id for d in await protect.devices(alice)] == [alice.state.device_id]
        with pytest.raises(ApiError) as gone:
            await laptop.api.key_count()
        assert gone.value.status == 401
        alerts = [a["template"] for a in await protect.new_alerts(alice)]
        assert alerts == ["device_linked", "device_removed"]
    finally:
        await laptop.close()


def test_key_digits_are_six_digits_that_follow_the_key() -> None:
    first = protect.key_digits({"ed25519": "A" * 43})
    assert first == protect.key_digits({"ed25519": "A" * 43})
    assert first != protect.key_digits({"ed25519": "B" * 43})
    assert len(first) == 7
    assert first[3] == " "
    assert first.replace(" ", "").isdigit()


def test_the_client_knows_every_alert_the_server_sends() -> None:
    from haven.safety import alerts

    assert {name for name, _ in alerts.available()} == protect.ALERT_TEMPLATES
