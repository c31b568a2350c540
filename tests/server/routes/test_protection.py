"""Protected accounts over HTTP against a real server: a stolen device token cannot add a
device without the registration lock, guessing the lock is backed off and tells nothing,
new devices asking to join change nothing until approved, every device change is a signed
alert on the other devices, and operators see campaigns but never act automatically."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from haven.core import b64, clock, ids, limits
from haven.store.interfaces import ProtectionStore
from haven.store.stores import stores_at
from tests.conftest import fresh_stores
from tests.server.conftest import Device, DeviceKeys, Server, make_config, serve
from tests.server.routes.test_moderation import operator

pytestmark = pytest.mark.anyio

Later = Callable[[float], None]


@pytest.fixture
async def open_server(db_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    """Without the per-address registration limit: some tests register many accounts."""
    emptied = await fresh_stores(db_url)
    await emptied.db.close()
    async with serve(make_config(db_url, tmp_path, rate_limits=False)) as running:
        yield running


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> Later:
    """Move the server's clocks forward (it runs in this process)."""
    offset = [0.0]
    wall, steady = clock.now_ms, clock.monotonic
    monkeypatch.setattr(clock, "now_ms", lambda: wall() + int(offset[0] * 1000))
    monkeypatch.setattr(clock, "monotonic", lambda: steady() + offset[0])

    def advance(seconds: float) -> None:
        offset[0] += seconds

    return advance


def new_lock() -> str:
    """A registration-lock proof as a device sends it (the server never sees the lock)."""
    return b64.encode(secrets.token_bytes(32))


async def protect(server: Server, device: Device, lock: str, **extra: Any) -> dict[str, Any]:
    response = await server.http.post(
        "/v1/accounts/me/protection",
        json={"action": "enable", "registration_lock": lock, **extra},
        headers=device.auth,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def add_device(server: Server, device: Device, lock: str | None = None) -> Any:
    body: dict[str, Any] = {"identity_keys": DeviceKeys().identity()}
    if lock is not None:
        body["registration_lock"] = lock
    return await server.http.post("/v1/accounts/me/devices", json=body, headers=device.auth)


async def device_ids(server: Server, device: Device) -> list[str]:
    listed = await server.http.get(f"/v1/accounts/{device.account_id}/devices", headers=device.auth)
    return [d["device_id"] for d in listed.json()["devices"]]


async def alerts(server: Server, device: Device) -> list[dict[str, Any]]:
    found = await server.http.get("/v1/accounts/me/notices", headers=device.auth)
    assert found.status_code == 200, found.text
    return [n["notice"] for n in found.json()]


async def join(server: Server, account_id: str, lock: str) -> Any:
    return await server.http.post(
        "/v1/link-requests",
        json={"account_id": account_id, "identity_keys": DeviceKeys().identity(),
              "registration_lock": lock},
    )  # fmt: skip


async def test_a_stolen_device_token_without_the_lock_cannot_add_a_device(server: Server) -> None:
    owner = await server.register()
    laptop = await server.add_device(owner)
    lock = new_lock()
    status = await protect(server, owner, lock)
    assert status["status"] == "on"
    before = await device_ids(server, owner)
    # The thief holds the laptop's token, but not the lock.
    missing = await add_device(server, laptop)
    wrong = await add_device(server, laptop, new_lock())
    for refused in (missing, wrong):
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "registration_lock"
    assert await device_ids(server, owner) == before
    # With the lock, adding works, and the owner's other device is told.
    added = await add_device(server, laptop, lock)
    assert added.status_code == 201, added.text
    new_device = added.json()["device_id"]
    assert await device_ids(server, owner) == [*before, new_device]
    linked = [a for a in await alerts(server, owner) if a["template"] == "device_linked"]
    assert [new_device in a["body"] for a in linked] == [False, True]  # the laptop, then this


async def test_a_silently_linked_device_is_announced_on_the_others(server: Server) -> None:
    owner = await server.register()
    # Unprotected: a token is enough to add a device, but it cannot be done silently.
    added = await server.add_device(owner)
    [alert] = await alerts(server, owner)
    assert alert["template"] == "device_linked"
    assert added.device_id in alert["body"]
    assert f"haven account remove-device {added.device_id}" in alert["body"]
    removed = await server.http.delete(
        f"/v1/accounts/me/devices/{added.device_id}", headers=owner.auth
    )
    assert removed.status_code == 204
    assert [a["template"] for a in await alerts(server, owner)] == [
        "device_linked", "device_removed",
    ]  # fmt: skip
    # Signed with the notice key, like operator notices: a chat message cannot be one.
    async with stores_at(str(server.app.state.haven.config.database_url)) as stores:
        kinds = [e.kind for e in await stores.audit.entries()]
    assert kinds.count("security_alert") == 2


async def test_lock_refusals_say_the_same_whatever_the_reason(open_server: Server) -> None:
    server = open_server
    protected, plain = await server.register(), await server.register()
    lock = new_lock()
    await protect(server, protected, lock)
    answers = [
        await join(server, protected.account_id, new_lock()),  # wrong lock
        await join(server, plain.account_id, new_lock()),  # not protected
        await join(server, ids.new_id(), new_lock()),  # no such account
    ]
    for _ in range(limits.LOCK_FREE_ATTEMPTS):
        await add_device(server, protected, new_lock())
    answers.append(await join(server, protected.account_id, lock))  # right, but locked out
    assert {(a.status_code, a.text) for a in answers} == {
        (403, answers[0].text),
    }
    assert answers[0].json()["error"]["code"] == "registration_lock"


async def test_guessing_backs_off_per_account_and_a_right_lock_waits_it_out(
    open_server: Server, later: Later
) -> None:
    server = open_server
    owner = await server.register()
    lock = new_lock()
    await protect(server, owner, lock)
    for _ in range(limits.LOCK_FREE_ATTEMPTS):
        refused = await add_device(server, owner, new_lock())
        assert refused.status_code == 403
    # Backing off: even the right lock is refused...
    assert (await add_device(server, owner, lock)).status_code == 403
    later(limits.LOCK_BACKOFF_BASE_SECONDS + 1)
    # ...until the backoff has passed.
    assert (await add_device(server, owner, lock)).status_code == 201


async def test_guessing_across_accounts_backs_off_per_address(
    open_server: Server, later: Later
) -> None:
    server = open_server
    owners = [await server.register() for _ in range(limits.LOCK_FREE_ATTEMPTS + 1)]
    locks = [new_lock() for _ in owners]
    for owner, lock in zip(owners, locks, strict=True):
        await protect(server, owner, lock)
    # One wrong guess per account: no account backs off, but the address does.
    for owner in owners[:-1]:
        assert (await join(server, owner.account_id, new_lock())).status_code == 403
    last, last_lock = owners[-1], locks[-1]
    assert (await join(server, last.account_id, last_lock)).status_code == 403
    later(limits.LOCK_BACKOFF_BASE_SECONDS + 1)
    assert (await join(server, last.account_id, last_lock)).status_code == 201


async def test_simultaneous_guesses_from_one_address_get_only_the_free_attempts(
    open_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = open_server
    owners = [await server.register() for _ in range(limits.LOCK_FREE_ATTEMPTS + 5)]
    for owner in owners:
        await protect(server, owner, new_lock())
    store: ProtectionStore = server.app.state.haven.stores.protection
    checked: list[str] = []
    check = store.check_lock

    async def counted(*args: Any) -> bool:
        checked.append(args[0])
        return await check(*args)

    monkeypatch.setattr(store, "check_lock", counted)
    guesses = [join(server, owner.account_id, new_lock()) for owner in owners]
    answers = await asyncio.gather(*guesses)
    assert {a.status_code for a in answers} == {403}
    # However the requests interleaved, only the free attempts reached a lock.
    assert len(checked) == limits.LOCK_FREE_ATTEMPTS


async def test_a_join_request_changes_nothing_until_a_device_approves_it(server: Server) -> None:
    owner = await server.register()
    lock = new_lock()
    await protect(server, owner, lock)
    asked = await join(server, owner.account_id, lock)
    assert asked.status_code == 201, asked.text
    pending = asked.json()
    future = {"Authorization": f"Bearer {pending['token']}"}
    assert (await server.http.get("/v1/keys/count", headers=future)).status_code == 401
    assert await device_ids(server, owner) == [owner.device_id]
    [announced] = [a for a in await alerts(server, owner) if a["template"] == "link_requested"]
    assert pending["request_id"] in announced["body"]
    [waiting] = (await server.http.get("/v1/accounts/me/link-requests", headers=owner.auth)).json()
    assert (waiting["request_id"], waiting["device_id"]) == (
        pending["request_id"], pending["device_id"],
    )  # fmt: skip
    # Another account cannot approve or deny it.
    stranger = await server.register()
    for method, suffix in (("POST", "/approve"), ("DELETE", "")):
        refused = await server.http.request(
            method, f"/v1/accounts/me/link-requests/{pending['request_id']}{suffix}",
            headers=stranger.auth,
        )  # fmt: skip
        assert refused.status_code == 404
    approved = await server.http.post(
        f"/v1/accounts/me/link-requests/{pending['request_id']}/approve", headers=owner.auth
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert (await server.http.get("/v1/keys/count", headers=future)).status_code == 200
    assert await device_ids(server, owner) == [owner.device_id, pending["device_id"]]
    assert "device_linked" in [a["template"] for a in await alerts(server, owner)]
    again = await server.http.post(
        f"/v1/accounts/me/link-requests/{pending['request_id']}/approve", headers=owner.auth
    )
    assert again.status_code == 404


async def test_an_unapproved_request_expires_and_a_denied_one_never_works(
    server: Server, later: Later
) -> None:
    owner = await server.register()
    lock = new_lock()
    await protect(server, owner, lock)
    expiring = (await join(server, owner.account_id, lock)).json()
    denied = (await join(server, owner.account_id, lock)).json()
    gone = await server.http.delete(
        f"/v1/accounts/me/link-requests/{denied['request_id']}", headers=owner.auth
    )
    assert gone.status_code == 204
    later(limits.LINK_REQUEST_TTL_SECONDS + 1)
    listed = await server.http.get("/v1/accounts/me/link-requests", headers=owner.auth)
    assert listed.json() == []
    for pending in (expiring, denied):
        late = await server.http.post(
            f"/v1/accounts/me/link-requests/{pending['request_id']}/approve", headers=owner.auth
        )
        assert late.status_code == 404
        token = {"Authorization": f"Bearer {pending['token']}"}
        assert (await server.http.get("/v1/keys/count", headers=token)).status_code == 401
    assert await device_ids(server, owner) == [owner.device_id]
    async with stores_at(str(server.app.state.haven.config.database_url)) as stores:
        logged = await stores.keylog.entries_for(owner.account_id)
    assert len(logged) == 1  # only the first device: an expired request left no trace


async def test_turning_protection_off_needs_the_lock_and_waits_out_the_cooling_off(
    server: Server, later: Later
) -> None:
    owner = await server.register()
    lock = new_lock()
    await protect(server, owner, lock, language="fr")

    async def change(**body: Any) -> Any:
        return await server.http.post("/v1/accounts/me/protection", json=body,
                                      headers=owner.auth)  # fmt: skip

    assert (await change(action="enable", registration_lock=new_lock())).status_code == 409
    wrong = await change(action="disable", registration_lock=new_lock())
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (403, "registration_lock")
    leaving = await change(action="disable", registration_lock=lock)
    assert leaving.json()["status"] == "disabling"
    assert leaving.json()["disable_after"] == pytest.approx(
        clock.now_ms() + limits.PROTECTION_COOLING_OFF_SECONDS * 1000, abs=60_000
    )
    # Still protected meanwhile, and any device can cancel.
    assert (await add_device(server, owner)).status_code == 403
    kept = await change(action="cancel_disable")
    assert kept.json()["status"] == "on"
    assert (await change(action="cancel_disable")).status_code == 409
    await change(action="disable", registration_lock=lock)
    later(limits.PROTECTION_COOLING_OFF_SECONDS - 60)
    assert (await server.http.get("/v1/accounts/me/protection", headers=owner.auth)).json()[
        "status"
    ] == "disabling"
    later(120)
    status = await server.http.get("/v1/accounts/me/protection", headers=owner.auth)
    assert status.json()["status"] == "off"
    assert (await add_device(server, owner)).status_code == 201
    sent = [a for a in await alerts(server, owner) if a["template"].startswith("protection")]
    assert [a["template"] for a in sent] == [
        "protection_on", "protection_disabling", "protection_kept", "protection_disabling",
    ]  # fmt: skip
    assert {a["language"] for a in sent} == {"fr"}


async def test_changing_the_lock_needs_the_current_one(server: Server) -> None:
    owner = await server.register()
    old, new = new_lock(), new_lock()
    await protect(server, owner, old)
    refused = await server.http.post(
        "/v1/accounts/me/protection",
        json={"action": "change_lock", "registration_lock": new, "new_lock": new},
        headers=owner.auth,
    )
    assert refused.status_code == 403
    changed = await server.http.post(
        "/v1/accounts/me/protection",
        json={"action": "change_lock", "registration_lock": old, "new_lock": new},
        headers=owner.auth,
    )
    assert changed.status_code == 200, changed.text
    assert (await add_device(server, owner, new)).status_code == 201
    assert "lock_changed" in [a["template"] for a in await alerts(server, owner)]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"action": "enable"}, 400, "bad_request"),
        ({"action": "enable", "registration_lock": "not base64!"}, 422, "validation_failed"),
        ({"action": "enable", "registration_lock": b64.encode(b"short")}, 422,
         "validation_failed"),
        ({"action": "explode"}, 422, "validation_failed"),
        ({"action": "disable", "registration_lock": b64.encode(bytes(32))}, 409, "conflict"),
        ({"action": "cancel_disable"}, 409, "conflict"),
        ({"action": "enable", "registration_lock": b64.encode(bytes(32)), "language": "../x"},
         422, "validation_failed"),
    ],
)  # fmt: skip
async def test_bad_protection_changes_are_refused_and_change_nothing(
    server: Server, body: dict[str, Any], status: int, code: str
) -> None:
    owner = await server.register()
    response = await server.http.post("/v1/accounts/me/protection", json=body, headers=owner.auth)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    found = await server.http.get("/v1/accounts/me/protection", headers=owner.auth)
    assert found.json()["status"] == "off"
    assert await alerts(server, owner) == []


async def test_bad_join_requests_are_refused(server: Server) -> None:
    for body in (
        {},
        {"account_id": "me", "identity_keys": DeviceKeys().identity(),
         "registration_lock": new_lock()},
        {"account_id": ids.new_id(), "identity_keys": {"curve25519": "x", "ed25519": "y"},
         "registration_lock": new_lock()},
    ):  # fmt: skip
        response = await server.http.post("/v1/link-requests", json=body)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_failed"


async def test_last_seen_is_shown_to_the_account_only(server: Server) -> None:
    owner = await server.register()
    idle = await server.add_device(owner)
    seen = await server.http.get("/v1/accounts/me/device-activity", headers=owner.auth)
    assert seen.status_code == 200
    by_device = {d["device_id"]: d for d in seen.json()}
    assert set(by_device) == {owner.device_id, idle.device_id}
    resolution = limits.LAST_SEEN_RESOLUTION_SECONDS * 1000
    assert by_device[owner.device_id]["last_seen_at"] % resolution == 0
    assert by_device[owner.device_id]["last_seen_at"] > clock.now_ms() - resolution
    assert by_device[idle.device_id]["last_seen_at"] is None  # never used its token
    other = await server.register()
    mine = await server.http.get("/v1/accounts/me/device-activity", headers=other.auth)
    assert [d["device_id"] for d in mine.json()] == [other.device_id]


async def test_an_operator_invites_into_protection(server: Server, db_url: str) -> None:
    staff = await operator(db_url)
    person = await server.register()
    invited = await server.http.post(
        f"/v1/admin/accounts/{person.account_id}/protection-invite", json={}, headers=staff
    )
    assert invited.status_code == 201, invited.text
    [notice] = await alerts(server, person)
    assert (notice["notice_id"], notice["template"]) == (
        invited.json()["notice_id"], "protection_invite",
    )  # fmt: skip
    status = (await server.http.get("/v1/accounts/me/protection", headers=person.auth)).json()
    assert (status["status"], status["invited"]) == ("invited", True)
    await protect(server, person, new_lock())
    again = await server.http.post(
        f"/v1/admin/accounts/{person.account_id}/protection-invite", json={}, headers=staff
    )
    assert again.status_code == 409
    missing = await server.http.post(
        f"/v1/admin/accounts/{ids.new_id()}/protection-invite", json={}, headers=staff
    )
    assert missing.status_code == 404
    bad = await server.http.post(
        f"/v1/admin/accounts/{person.account_id}/protection-invite",
        json={"language": "EN!"}, headers=staff,
    )  # fmt: skip
    assert bad.status_code == 422


def report_body(reported: Device) -> dict[str, Any]:
    junk = b64.encode(secrets.token_bytes(32))
    return {
        "envelope_id": ids.new_id(), "sender": reported.address, "server_time": 1,
        "franking_tag": junk, "delivery_stamp": junk, "content": b64.encode(b'{"body":"x"}'),
        "franking_key": junk, "reason": "harassment",
    }  # fmt: skip


async def test_reports_against_a_protected_account_raise_one_flag_and_act_on_nothing(
    open_server: Server, db_url: str
) -> None:
    server = open_server
    staff = await operator(db_url)
    journalist = await server.register()
    await protect(server, journalist, new_lock())
    reporters = [await server.register() for _ in range(8)]
    for reporter in reporters:
        filed = await server.http.post(
            "/v1/reports", json=report_body(journalist), headers=reporter.auth
        )
        assert filed.status_code == 201, filed.text
    [flag] = (await server.http.get("/v1/admin/campaigns", headers=staff)).json()
    assert (flag["account_id"], flag["protected"], flag["reporters"]) == (
        journalist.account_id, True, 8,
    )  # fmt: skip
    assert set(flag["reporter_accounts"]) == {r.account_id for r in reporters}
    standing = await server.http.get("/v1/accounts/me/standing", headers=journalist.auth)
    assert standing.json()["standing"] == "active"
    confirmed = await server.http.post(
        f"/v1/admin/campaigns/{flag['flag_id']}/decision",
        json={"outcome": "confirm", "note": "same network as last month"}, headers=staff,
    )  # fmt: skip
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"
    assert (await server.http.get("/v1/admin/reports", headers=staff)).json() == []
    told = [a for a in await alerts(server, journalist) if a["template"] == "reporting_campaign"]
    assert len(told) == 1
    assert not any(r.account_id in told[0]["body"] for r in reporters)
    twice = await server.http.post(
        f"/v1/admin/campaigns/{flag['flag_id']}/decision", json={"outcome": "dismiss"},
        headers=staff,
    )  # fmt: skip
    assert twice.status_code == 409
    missing = await server.http.post(
        "/v1/admin/campaigns/999999/decision", json={"outcome": "dismiss"}, headers=staff
    )
    assert missing.status_code == 404
    listed = await server.http.get("/v1/admin/campaigns?status=confirmed", headers=staff)
    assert [f["flag_id"] for f in listed.json()] == [flag["flag_id"]]
    bad = await server.http.get("/v1/admin/campaigns?status=everything", headers=staff)
    assert bad.status_code == 422
