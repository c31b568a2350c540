"""`haven account protect | join | requests | devices | passphrase`, `haven guide`: run as a
person types them, against a real server process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from haven.cli.main import app
from tests.e2e.test_protection import Person, haven, write
from tests.processes import ServerProcess

pytestmark = pytest.mark.anyio

LOCK = "quiet-orchard-5521"


def test_guide_lists_topics_shows_them_in_both_languages_and_refuses_others() -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["guide"])
    assert listed.exit_code == 0
    for topic in ("spyware", "notices", "compromised", "helplines"):
        assert topic in listed.stdout
    french = runner.invoke(app, ["guide", "helplines", "--lang", "fr"])
    assert french.exit_code == 0
    assert "Cherchez vous-même leurs coordonnées" in french.stdout
    unknown = runner.invoke(app, ["guide", "rumours"])
    assert unknown.exit_code == 1
    assert "there are: spyware" in unknown.stderr


@pytest.mark.slow
async def test_protect_join_approve_and_change_passphrase(
    launch: type[ServerProcess], tmp_path: Path
) -> None:
    server = launch(tmp_path, f"sqlite:///{tmp_path / 'server.sqlite3'}").start()
    alice = Person(tmp_path, "alice").create(server)
    lock = write(tmp_path / "lock.txt", LOCK)
    weak = haven("account", "protect", "on", "--lock-file", write(tmp_path / "w.txt", "123"),
                 *alice.args, check=False)  # fmt: skip
    assert weak.returncode == 1
    assert "at least 6 characters" in weak.stderr
    on = haven("account", "protect", "on", "--lock-file", lock, "--lang", "fr", *alice.args)
    assert "account protection: on" in on.stdout

    # A new phone asks to join with the lock; it is not in until Alice's device says so.
    phone = Person(tmp_path, "phone")
    start = ["--server", server.url, "--account", alice.account_id, "--lock-file", lock]
    asked = haven("account", "join", *start, "--wait", "0", *phone.args, "--json", check=False)
    assert asked.returncode == 2, asked.stderr
    request = json.loads(asked.stdout.splitlines()[0])
    assert "not approved yet" in asked.stderr
    [waiting] = [
        json.loads(line)
        for line in haven("account", "requests", "list", *alice.args, "--json").stdout.splitlines()
    ]
    assert (waiting["request_id"], waiting["check"]) == (request["request_id"], request["check"])
    haven("account", "requests", "approve", request["request_id"], *alice.args)
    joined = haven("account", "join", "--wait", "30", *phone.args, "--json")
    assert json.loads(joined.stdout)["device_id"] == request["device_id"]
    first = json.loads(haven("account", "show", *alice.args, "--json").stdout)["device_id"]
    listed = [json.loads(line) for line in
              haven("account", "devices", *phone.args, "--json").stdout.splitlines()]  # fmt: skip
    assert [(d["device_id"], d["this_device"]) for d in listed] == [
        (first, False), (request["device_id"], True),
    ]  # fmt: skip

    # Off needs the lock and waits; any device can cancel; the lock can be changed.
    off = haven("account", "protect", "off", "--lock-file", lock, *phone.args)
    assert "turning off" in off.stdout
    kept = haven("account", "protect", "cancel", *alice.args)
    assert "account protection: on" in kept.stdout
    new_lock = write(tmp_path / "new-lock.txt", "another-long-lock")
    haven("account", "protect", "change-lock", "--lock-file", lock, "--new-lock-file", new_lock,
          *alice.args)  # fmt: skip
    stale = haven("account", "protect", "off", "--lock-file", lock, *alice.args, check=False)
    assert stale.returncode == 1
    assert "registration lock was not accepted" in stale.stderr

    # A new profile passphrase: the old one stops opening it.
    new_pass = write(tmp_path / "new-pass.txt", "a different and longer passphrase")
    haven("account", "passphrase", *alice.args, "--new-passphrase-file", new_pass)
    old = haven("account", "show", *alice.args, check=False)
    assert old.returncode == 1
    shown = haven("account", "show", "--profile", str(alice.profile), "--passphrase-file",
                  new_pass, "--json")  # fmt: skip
    assert json.loads(shown.stdout)["account_id"] == alice.account_id
    too_weak = write(tmp_path / "weak-pass.txt", "hunter2")
    refused = haven("account", "passphrase", "--profile", str(alice.profile),
                    "--passphrase-file", new_pass, "--new-passphrase-file", too_weak,
                    check=False)  # fmt: skip
    assert refused.returncode == 1
    assert "weak" in refused.stderr
