"""`haven admin account protect-invite` and `haven admin campaigns`, as an operator types
them, against a real server process."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_protection import Person, haven, report_body
from tests.processes import ServerProcess
from tests.server.conftest import DeviceKeys

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def file_reports(server: ServerProcess, target: dict[str, str], count: int) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        for _ in range(count):
            made = await http.post("/v1/accounts", json={"identity_keys": DeviceKeys().identity()})
            auth = {"Authorization": f"Bearer {made.json()['token']}"}
            filed = await http.post("/v1/reports", json=report_body(target), headers=auth)
            assert filed.status_code == 201, filed.text


async def test_invite_then_review_confirm_and_dismiss_campaigns(
    launch: type[ServerProcess], tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    server = launch(tmp_path, db).start()
    data = ["--data-dir", str(tmp_path), "--db", db]
    staff = {"HAVEN_OPERATOR_TOKEN": haven("admin", "create-admin", "ana", *data).stdout.strip()}
    at = ["--server", server.url]
    journalist = Person(tmp_path, "journalist").create(server)
    haven("admin", "account", "protect-invite", journalist.account_id, "--lang", "fr", *at,
          env=staff)  # fmt: skip
    status = json.loads(haven("account", "protect", "status", *journalist.args, "--json").stdout)
    assert (status["status"], status["invited"]) == ("invited", True)
    shown = [json.loads(line) for line in
             haven("notices", *journalist.args, "--json").stdout.splitlines()]  # fmt: skip
    assert [n["template"] for n in shown] == ["protection_invite"]
    assert "protection du compte" in shown[0]["title"]
    again = haven("admin", "account", "protect-invite", "0" * 32, *at, env=staff, check=False)
    assert again.returncode == 1
    assert "no such account" in again.stderr

    target = {"account_id": journalist.account_id, "device_id": "0" * 32}
    await file_reports(server, target, 6)
    table = haven("admin", "campaigns", *at, env=staff)
    assert journalist.account_id[:8] in table.stdout
    listed = haven("admin", "campaigns", *at, "--json", env=staff).stdout
    [flag] = [json.loads(line) for line in listed.splitlines()]
    flag_id = str(flag["flag_id"])
    detail = haven("admin", "campaigns", "show", flag_id, *at, env=staff)
    assert "6 reports from 6 accounts" in detail.stdout
    assert flag["reporter_accounts"][0] in detail.stdout
    haven("admin", "campaigns", "confirm", flag_id, "--note", "a known network", *at, env=staff)
    assert haven("admin", "campaigns", *at, "--json", env=staff).stdout == ""
    confirmed = haven("admin", "campaigns", "--status", "confirmed", *at, "--json", env=staff)
    assert json.loads(confirmed.stdout)["decision_note"] == "a known network"
    twice = haven("admin", "campaigns", "dismiss", flag_id, *at, env=staff, check=False)
    assert twice.returncode == 1
    assert "already confirmed" in twice.stderr
    missing = haven("admin", "campaigns", "show", "999", *at, env=staff, check=False)
    assert missing.returncode == 1
    # Not protected (only invited): the flag is raised all the same; its owner is not told.
    told = [json.loads(line)["template"] for line in
            haven("notices", *journalist.args, "--json").stdout.splitlines()]  # fmt: skip
    assert told == ["protection_invite"]

    await file_reports(server, target, 5)
    listed = haven("admin", "campaigns", *at, "--json", env=staff).stdout
    [second] = [json.loads(line) for line in listed.splitlines()]
    haven("admin", "campaigns", "dismiss", str(second["flag_id"]), *at, env=staff)
    dismissed = haven("admin", "campaigns", "--status", "dismissed", *at, "--json", env=staff)
    assert json.loads(dismissed.stdout)["flag_id"] == second["flag_id"]
