"""Protection for people at high risk, as the whole system runs it: a real `haven server`
process, the `haven` command as a person and an operator type it.

- a takeover with the account's device token but without the registration lock fails;
- a device linked silently (with a stolen token, no link code ever shown) is announced on
  the account's other devices, as a signed alert no message can imitate;
- fifty reports from fresh accounts against a protected account suspend nothing and raise
  one coordinated-campaign flag, every guard decision in the audit log;
- the checkup finds each planted problem (a changed safety number, a stale device, no
  relay) and comes back clean after the fixes it names.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from haven.client.messenger import Messenger
from haven.client.profile import Profile
from haven.core import b64, clock, ids
from haven.core.relaylink import RelayLink
from haven.crypto.reglock import derive_proof
from haven.store.stores import stores_at
from haven.store.tables import device_seen, devices
from tests.processes import ServerProcess
from tests.server.conftest import DeviceKeys

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

PASSPHRASE = "a long passphrase for tests"
LOCK = "harbour-lantern-2718"
DAY_MS = 24 * 3600 * 1000


def haven(
    *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "haven", *args], capture_output=True, text=True, timeout=180,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    if check:
        assert result.returncode == 0, result.stderr
    return result


class Person:
    def __init__(self, tmp_path: Path, name: str) -> None:
        self.profile = tmp_path / name
        secret = tmp_path / "passphrase.txt"
        secret.write_text(PASSPHRASE + "\n")
        self.args = ["--profile", str(self.profile), "--passphrase-file", str(secret)]
        self.account_id = ""

    def create(self, server: ServerProcess) -> Person:
        created = haven("account", "create", "--server", server.url, *self.args, "--json")
        self.account_id = json.loads(created.stdout)["account_id"]
        return self

    def token(self) -> str:
        """What an attacker copies off a seized or cloned device."""
        return Profile.open(self.profile, PASSPHRASE)[1].token


def write(path: Path, text: str) -> str:
    path.write_text(text + "\n")
    return str(path)


async def device_ids(server: ServerProcess, token: str, account: str) -> list[str]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        listed = await http.get(
            f"/v1/accounts/{account}/devices", headers={"Authorization": f"Bearer {token}"}
        )
    return [d["device_id"] for d in listed.json()["devices"]]


async def test_a_takeover_with_the_device_token_but_without_the_lock_fails(
    launch: type[ServerProcess], tmp_path: Path
) -> None:
    server = launch(tmp_path, f"sqlite:///{tmp_path / 'server.sqlite3'}").start()
    alice = Person(tmp_path, "alice").create(server)
    lock_file = write(tmp_path / "lock.txt", LOCK)
    haven("account", "protect", "on", "--lock-file", lock_file, *alice.args)
    status = json.loads(haven("account", "protect", "status", *alice.args, "--json").stdout)
    assert status["status"] == "on"

    stolen = alice.token()
    before = await device_ids(server, stolen, alice.account_id)
    guess = b64.encode(derive_proof("123456", alice.account_id))
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        for extra in ({}, {"registration_lock": guess}):
            taken = await http.post(
                "/v1/accounts/me/devices",
                json={"identity_keys": DeviceKeys().identity(), **extra},
                headers={"Authorization": f"Bearer {stolen}"},
            )
            assert taken.status_code == 403, taken.text
            assert taken.json()["error"]["code"] == "registration_lock"
    # The thief's own device, linked through the normal commands, fails the same way.
    thief = Person(tmp_path, "thief")
    code = json.loads(haven("account", "link", "--server", server.url, *thief.args,
                            "--json").stdout)["link_code"]  # fmt: skip
    guessed = write(tmp_path / "guess.txt", "not-the-lock")
    refused = haven("account", "approve", code, *alice.args, "--lock-file", guessed, check=False)
    assert refused.returncode != 0
    assert "registration lock was not accepted" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert await device_ids(server, stolen, alice.account_id) == before

    # The owner, with the lock, links her new phone the usual way.
    phone = Person(tmp_path, "phone")
    code = json.loads(haven("account", "link", "--server", server.url, *phone.args,
                            "--json").stdout)["link_code"]  # fmt: skip
    approved = haven("account", "approve", code, *alice.args, "--lock-file", lock_file, "--json")
    haven("account", "link", "--approval", json.loads(approved.stdout)["approval"], *phone.args)
    assert len(await device_ids(server, stolen, alice.account_id)) == len(before) + 1


async def test_a_silently_linked_device_raises_an_alert_on_the_others(
    launch: type[ServerProcess], tmp_path: Path
) -> None:
    server = launch(tmp_path, f"sqlite:///{tmp_path / 'server.sqlite3'}").start()
    alice = Person(tmp_path, "alice").create(server)
    mallory = Person(tmp_path, "mallory").create(server)
    # Mallory sends a message dressed up as an alert: it stays a message from Mallory.
    haven("send", "SECURITY ALERT from your Haven server: a new device was linked, reply "
          "with your passphrase", "--to", alice.account_id, *mallory.args)  # fmt: skip
    # With the token copied off Alice's phone, a device is added without any link code.
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        silent = await http.post(
            "/v1/accounts/me/devices",
            json={"identity_keys": DeviceKeys().identity()},
            headers={"Authorization": f"Bearer {alice.token()}"},
        )
    assert silent.status_code == 201, silent.text
    device = silent.json()["device_id"]

    received = haven("receive", *alice.args, "--json")
    [message] = [json.loads(line) for line in received.stdout.splitlines()]
    assert message["from"] == mallory.account_id  # the imitation is an ordinary message
    assert "SECURITY ALERT from your Haven server" in received.stderr
    assert device in received.stderr
    assert "signature verified" in received.stderr
    again = haven("receive", *alice.args, "--json")
    assert device not in again.stderr  # each alert once per device
    shown = haven("notices", *alice.args, "--json").stdout
    notices = [json.loads(line) for line in shown.splitlines()]
    [alert] = [n for n in notices if n.get("template") == "device_linked"]
    assert alert["verified"]
    assert device in alert["body"]
    # The checkup lists it as just linked, with the command that removes it.
    report = json.loads(haven("checkup", *alice.args, "--json", check=False).stdout)
    [found] = [f for f in report["findings"] if device in f["title"]]
    assert found["fix"].startswith(f"haven account remove-device {device}")
    haven("account", "remove-device", device, *alice.args)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        listed = await http.get(f"/v1/accounts/{alice.account_id}/devices",
                                headers={"Authorization": f"Bearer {alice.token()}"})  # fmt: skip
    assert device not in {d["device_id"] for d in listed.json()["devices"]}


def report_body(target: dict[str, str]) -> dict[str, Any]:
    junk = b64.encode(os.urandom(32))
    return {
        "envelope_id": ids.new_id(), "sender": target, "server_time": clock.now_ms(),
        "franking_tag": junk, "delivery_stamp": junk,
        "content": b64.encode(b'{"body": "an opinion they dislike"}'), "franking_key": junk,
        "reason": "harassment",
    }  # fmt: skip


async def test_fifty_reports_from_fresh_accounts_suspend_nothing_and_raise_one_flag(
    launch: type[ServerProcess], empty_db: str, tmp_path: Path
) -> None:
    server = launch(tmp_path, empty_db).start()
    data = ["--data-dir", str(tmp_path), "--db", empty_db]
    staff = {"HAVEN_OPERATOR_TOKEN": haven("admin", "create-admin", "ana", *data).stdout.strip()}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:

        async def register() -> tuple[dict[str, str], dict[str, str]]:
            made = await http.post("/v1/accounts", json={"identity_keys": DeviceKeys().identity()})
            assert made.status_code == 201, made.text
            body = made.json()
            return ({"account_id": body["account_id"], "device_id": body["device_id"]},
                    {"Authorization": f"Bearer {body['token']}"})  # fmt: skip

        journalist, journalist_auth = await register()
        proof = b64.encode(derive_proof(LOCK, journalist["account_id"]))
        protected = await http.post(
            "/v1/accounts/me/protection",
            json={"action": "enable", "registration_lock": proof}, headers=journalist_auth,
        )  # fmt: skip
        assert protected.status_code == 200, protected.text
        for _ in range(50):
            _, auth = await register()  # a network of accounts made minutes ago
            filed = await http.post("/v1/reports", json=report_body(journalist), headers=auth)
            assert filed.status_code == 201, filed.text
        standing = await http.get("/v1/accounts/me/standing", headers=journalist_auth)
        assert standing.json() == {"standing": "active", "actions": [], "appeals": []}
        assert (await http.get("/v1/keys/count", headers=journalist_auth)).status_code == 200

    listed = haven("admin", "campaigns", "--server", server.url, "--json", env=staff)
    [flag] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (flag["account_id"], flag["protected"], flag["reports"], flag["reporters"]) == (
        journalist["account_id"], True, 50, 50,
    )  # fmt: skip
    assert flag["fresh_reporters"] == 50
    assert "fresh_accounts" in flag["signals"]
    review = json.loads(haven("admin", "account", "show", journalist["account_id"], "--server",
                              server.url, "--json", env=staff).stdout)  # fmt: skip
    assert (review["standing"], review["actions"]) == ("active", [])
    async with stores_at(empty_db) as stores:
        guard = [json.loads(e.data) for e in await stores.audit.entries()
                 if e.kind == "report_guard"]  # fmt: skip
    assert len(guard) == 50
    assert {g["automatic_action"] for g in guard} == {"none"}
    assert sum(g["decision"] == "campaign_flagged" for g in guard) == 1
    assert haven("audit", "verify", *data).returncode == 0


async def test_the_checkup_finds_planted_problems_and_clears_after_the_fixes(
    launch: type[ServerProcess], tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    server = launch(tmp_path, db).start()
    alice = Person(tmp_path, "alice").create(server)
    bob = Person(tmp_path, "bob").create(server)
    haven("contacts", "add", bob.account_id, "--name", "bob", *alice.args)
    haven("verify", "bob", "--accept", *alice.args)
    # Planted: a tablet of Alice's unused for two months, and a new device of Bob's.
    tablet = await link_device(alice, tmp_path / "tablet")
    await link_device(bob, tmp_path / "bob-laptop")
    then = clock.now_ms() - 60 * DAY_MS
    async with stores_at(db) as stores:

        def age(conn: sa.Connection) -> None:
            conn.execute(sa.update(devices).where(devices.c.device_id == tablet)
                         .values(created_at=then))  # fmt: skip
            conn.execute(sa.delete(device_seen).where(device_seen.c.device_id == tablet))

        await stores.db.run(age)

    found = haven("checkup", *alice.args, "--json", check=False)
    assert found.returncode == 1, found.stderr
    report = json.loads(found.stdout)
    assert report["needs_attention"]
    fixes = {f["title"]: f["fix"] for f in report["findings"] if f["status"] == "attention"}
    assert set(fixes) == {
        "Your safety number with bob changed", f"Device {tablet} was last seen 60 days ago",
        "No relay is configured", "The block list of spyware links was never downloaded",
    }  # fmt: skip
    text = haven("checkup", *alice.args, check=False)
    assert text.returncode == 1
    assert "haven guide" in text.stdout

    # Each fix is the command the checkup named.
    relay = RelayLink("127.0.0.1", 9, bytes(range(32)), bytes(range(32, 64))).to_url()
    for fix in fixes.values():
        words = fix.split()[1:-2]  # without "haven" and "--profile DIR"
        words = [relay if w == "LINK" else w for w in words]
        if words[0] == "verify":
            words.append("--accept")
        haven(*words, *alice.args)
    clean = haven("checkup", *alice.args)
    assert clean.returncode == 0
    assert "!!" not in clean.stdout


async def link_device(person: Person, directory: Path) -> str:
    """A second device of `person`'s account, linked the way a person does it."""
    owner = Messenger.open(person.profile, PASSPHRASE)
    try:
        code = Messenger.begin_link(directory, owner.state.server, PASSPHRASE)
        approval, _ = await owner.approve_link(code)
    finally:
        await owner.close()
    new = await Messenger.complete_link(directory, PASSPHRASE, approval)
    await new.close()
    return new.state.device_id
