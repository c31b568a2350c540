"""Moderation as an operator and the affected person run it: real processes against a
real server process, then `haven audit verify` on the log it left."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from haven.cli.main import app
from haven.server.console import credentials
from haven.store.stores import stores_at
from tests.processes import ServerProcess

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def haven(
    *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "haven", *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    if check:
        assert result.returncode == 0, result.stderr
    return result


async def test_suspend_appeal_reverse_and_audit(
    launch: type[ServerProcess], tmp_path: Path
) -> None:
    db_file = tmp_path / "server.sqlite3"
    server = launch(tmp_path, f"sqlite:///{db_file}").start()
    data = ["--data-dir", str(tmp_path), "--db", f"sqlite:///{db_file}"]
    token = haven("admin", "create-admin", "Ana (trust & safety)", *data).stdout.strip()
    assert token.startswith("op_")
    staff = {"HAVEN_OPERATOR_TOKEN": token}
    secret = tmp_path / "pass.txt"
    secret.write_text("a long passphrase for tests\n")
    user = ["--profile", str(tmp_path / "alice"), "--passphrase-file", str(secret)]
    created = haven("account", "create", "--server", server.url, *user, "--json")
    account = json.loads(created.stdout)["account_id"]

    note = "internal: 300 invites in an hour"
    haven("admin", "account", "action", account, "--action", "suspend", "--reason", "spam",
          "--note", note, "--server", server.url, env=staff)  # fmt: skip
    blocked = haven("check-link", "https://example.org/", *user, check=False)
    assert blocked.returncode != 0
    assert "suspended" in blocked.stderr
    standing = json.loads(haven("account", "standing", *user, "--json").stdout)
    assert standing["standing"] == "suspended"
    assert "300 invites" not in json.dumps(standing)  # the internal note stays internal
    action_id = str(standing["actions"][0]["action_id"])
    haven("account", "appeal", action_id, "I was inviting my newsroom", *user)

    waiting = haven("admin", "account", "appeals", "--server", server.url, "--json", env=staff)
    [appeal] = [json.loads(line) for line in waiting.stdout.splitlines()]
    assert appeal["appeal"]["text"] == "I was inviting my newsroom"
    haven("admin", "account", "decide", str(appeal["appeal"]["appeal_id"]), "--reverse",
          "--note", "checked", "--server", server.url, env=staff)  # fmt: skip
    assert json.loads(haven("account", "standing", *user, "--json").stdout)["standing"] == "active"
    refused = haven("admin", "account", "show", account, "--server", server.url, check=False,
                    env={"HAVEN_OPERATOR_TOKEN": "op_" + "0" * 32 + ".nope"})  # fmt: skip
    assert refused.returncode != 0

    verified = haven("audit", "verify", *data)
    assert "verified: 3 entries, 3 signed heads" in verified.stdout
    shown = haven("audit", "show", *data, "--json")
    kinds = [json.loads(line)["entry"]["kind"] for line in shown.stdout.splitlines()]
    assert kinds == ["account_action", "appeal", "appeal_decision"]

    # Someone with database access rewrites history: verify fails and names the entry.
    with contextlib.closing(sqlite3.connect(db_file)) as conn, conn:
        conn.execute(
            "UPDATE audit_entries SET data = replace(data, 'spam', 'threats') WHERE seq = 1"
        )
    tampered = haven("audit", "verify", *data, check=False)
    assert tampered.returncode == 1
    assert "entry 1" in tampered.stdout


def test_legal_requests_are_recorded_in_the_audit_log(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path), "--db", f"sqlite:///{tmp_path / 'h.sqlite3'}"]
    recorded = haven(
        "admin", "legal-request", "--authority", "District court", "--request",
        "subscriber data for one account", "--response", "refused", "--accounts", "1", *data,
    )  # fmt: skip
    assert "recorded as audit entry 1" in recorded.stderr
    [line] = haven("audit", "show", *data, "--json").stdout.splitlines()
    entry = json.loads(line)["entry"]
    assert (entry["kind"], entry["response"], entry["accounts"]) == ("legal_request", "refused", 1)
    assert "verified: 1 entries, 1 signed heads" in haven("audit", "verify", *data).stdout
    bad = haven("admin", "legal-request", "--authority", "x", "--request", "y",
                "--response", "maybe", *data, check=False)  # fmt: skip
    assert bad.returncode == 2


def test_create_admin_sets_a_console_password_and_totp(tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path)]
    secret = tmp_path / "console-password"
    secret.write_text("a long console password\n")
    made = runner.invoke(app, ["admin", "create-admin", "--name", "Ana", "--role", "admin",
                               "--password-file", str(secret), "--totp", *data])  # fmt: skip
    assert made.exit_code == 0, made.output
    assert made.stdout.strip().startswith("op_")
    assert "otpauth://totp/Haven:Ana?" in made.stderr

    async def stored() -> tuple[str, bytes | None]:
        async with stores_at(f"sqlite:///{tmp_path / 'haven.sqlite3'}") as stores:
            found = await stores.console.credential("Ana")
        assert found is not None
        return found.password_hash, found.totp_secret

    password_hash, totp_secret = asyncio.run(stored())
    assert credentials.password_matches("a long console password", password_hash)
    assert totp_secret is not None

    scripted = runner.invoke(app, ["admin", "create-admin", "Bo", *data])  # no terminal, no file
    assert scripted.exit_code == 0
    assert "no console password set" in scripted.stderr
    secret.write_text("short\n")
    for args in (["--name", "Cy", "--password-file", str(secret)], ["--name", "Di", "--totp"],
                 ["Ed", "--name", "Ed"], []):  # fmt: skip
        refused = runner.invoke(app, ["admin", "create-admin", *args, *data])
        assert refused.exit_code == 2, (args, refused.output)
