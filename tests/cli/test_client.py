"""The scriptable client commands, run as a person or a script would: real processes
against a real server process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import ServerProcess

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def haven(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "haven", *args], capture_output=True, text=True, timeout=120
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


async def test_two_people_talk_through_the_cli(launch: type[ServerProcess], tmp_path: Path) -> None:
    server = launch(tmp_path, f"sqlite:///{tmp_path / 'server.sqlite3'}").start()
    secret = tmp_path / "pass.txt"
    secret.write_text("a long passphrase for tests\n")
    ids = {}
    for name in ("alice", "bob"):
        created = haven(
            "account", "create", "--server", server.url, "--profile", str(tmp_path / name),
            "--passphrase-file", str(secret), "--json",
        )  # fmt: skip
        ids[name] = json.loads(created.stdout)["account_id"]
    common = ["--passphrase-file", str(secret)]
    haven(
        "contacts",
        "add",
        ids["bob"],
        "--name",
        "bob",
        "--profile",
        str(tmp_path / "alice"),
        *common,
    )
    note = tmp_path / "note.txt"
    note.write_text("attached words")
    sent = haven(
        "send", "hello from the command line", "--to", "bob", "--attach", str(note),
        "--profile", str(tmp_path / "alice"), *common, "--json",
    )  # fmt: skip
    message_id = json.loads(sent.stdout)["message_id"]
    received = haven(
        "receive", "--profile", str(tmp_path / "bob"), *common, "--json", "--wait", "5"
    )
    [message] = [json.loads(line) for line in received.stdout.splitlines()]
    assert message["message_id"] == message_id
    assert message["body"] == "hello from the command line"
    assert message["from"] == ids["alice"]
    assert Path(message["attachments"][0]["path"]).read_text() == "attached words"
    again = haven("receive", "--profile", str(tmp_path / "bob"), *common, "--json")
    assert again.stdout == ""
    shown = haven("account", "show", "--profile", str(tmp_path / "bob"), *common, "--json")
    assert json.loads(shown.stdout)["account_id"] == ids["bob"]

    alice_profile = ["--profile", str(tmp_path / "alice"), *common]
    group = haven("group", "create", "desk", "--members", "bob", *alice_profile, "--json")
    group_id = json.loads(group.stdout)["group_id"]
    haven("group", "send", "desk", "to the desk", *alice_profile)
    received = haven("receive", "--profile", str(tmp_path / "bob"), *common, "--json")
    [message] = [json.loads(line) for line in received.stdout.splitlines()]
    assert (message["body"], message["conversation"]) == ("to the desk", group_id)


def test_wrong_passphrase_and_missing_profile_are_clear_errors(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("nope")
    missing = haven(
        "receive", "--profile", str(tmp_path / "none"), "--passphrase-file", str(wrong), check=False
    )
    assert missing.returncode == 1
    assert "no profile" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    secret = tmp_path / "pass.txt"
    secret.write_text("pw")
    result = haven(
        "account", "create", "--server", "http://127.0.0.1:9", "--profile", str(tmp_path / "p"),
        "--passphrase-file", str(secret), check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "cannot reach" in result.stderr
    assert "Traceback" not in result.stderr


async def test_linking_a_second_device_through_the_cli(
    launch: type[ServerProcess], tmp_path: Path
) -> None:
    server = launch(tmp_path, f"sqlite:///{tmp_path / 'server.sqlite3'}").start()
    secret = tmp_path / "pass.txt"
    secret.write_text("another long passphrase\n")
    common = ["--passphrase-file", str(secret), "--json"]
    phone = json.loads(
        haven(
            "account",
            "create",
            "--server",
            server.url,
            "--profile",
            str(tmp_path / "phone"),
            *common,
        ).stdout
    )
    started = json.loads(
        haven(
            "account",
            "link",
            "--server",
            server.url,
            "--profile",
            str(tmp_path / "laptop"),
            "--qr",
            str(tmp_path / "link.png"),
            *common,
        ).stdout
    )
    assert (tmp_path / "link.png").read_bytes().startswith(b"\x89PNG")
    approved = json.loads(
        haven(
            "account",
            "approve",
            started["link_code"],
            "--profile",
            str(tmp_path / "phone"),
            *common,
        ).stdout
    )
    assert approved["check"] == started["check"]
    laptop = json.loads(
        haven(
            "account",
            "link",
            "--approval",
            approved["approval"],
            "--profile",
            str(tmp_path / "laptop"),
            *common,
        ).stdout
    )
    assert laptop["account_id"] == phone["account_id"]
    assert laptop["device_id"] != phone["device_id"]


async def test_a_self_signed_server_is_joined_with_the_pin_it_prints(
    launch: type[ServerProcess], tmp_path: Path
) -> None:
    server = launch(tmp_path, f"sqlite:///{tmp_path / 'server.sqlite3'}", tls=True).start()
    printed = re.search(r"Server pin\s+(\S+)", server.log.read_text())
    assert printed is not None
    assert printed.group(1) == server.pin
    secret = tmp_path / "pass.txt"
    secret.write_text("a long passphrase for tests\n")

    def create(name: str, pin: str) -> subprocess.CompletedProcess[str]:
        return haven(
            "account", "create", "--server", server.url, "--profile", str(tmp_path / name),
            "--passphrase-file", str(secret), "--server-pin", pin, "--json", check=False,
        )  # fmt: skip

    joined = create("alice", printed.group(1))
    assert joined.returncode == 0, joined.stderr
    assert json.loads(joined.stdout)["server"] == server.url
    impostor_pin = "A" * 43
    refused = create("mallory", impostor_pin)
    assert refused.returncode != 0
    assert "different certificate" in refused.stderr
    assert "Traceback" not in refused.stderr
    malformed = create("typo", "not-a-pin")
    assert malformed.returncode != 0
    assert "43-character" in malformed.stderr
    assert not (tmp_path / "typo").exists()


def test_a_certificate_without_its_key_is_a_clear_start_up_error(tmp_path: Path) -> None:
    result = haven(
        "server", "--data-dir", str(tmp_path), "--tls-cert", str(tmp_path / "c.pem"), check=False
    )
    assert result.returncode == 2
    assert "tls_cert and tls_key go together" in " ".join(result.stderr.split())
