"""Secrets stay out of logs and out of other users' reach: a whole session (a `haven server`
process logging at debug, invite-only registration, two people who register, exchange
messages with an attachment, one over the WebSocket stream and one over HTTP) and then a
look at everything it wrote.

- No log line, the server's (its whole output at debug level) or the clients' (every
  record at debug level), holds a device token or its secret half, a passphrase, the invite
  code, the message text, or private key material (the server's signing keys, the clients'
  pickle keys and sealed account pickles) in any of the spellings a log would use.
- Everything the server and the clients create in their data and profile directories is
  readable by its owner only: files 0600, directories 0700, under the usual umask 022.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from haven.client.messenger import Messenger
from haven.client.stream import EnvelopeStream
from tests.client.conftest import PASSPHRASE
from tests.processes import ServerProcess

pytestmark = pytest.mark.slow

TEXT_TO_BOB = "the source meets us at nine, agenda at https://example.org/agenda"
TEXT_TO_ALICE = "understood, bringing the documents from https://example.net/d"
ATTACHMENT = b"scanned page one"
# uvicorn's "<address>:<port> - ..." connection lines; the server's own URL is not one.
_CLIENT_ADDRESS = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}:\d+ - ")


class _Records(logging.Handler):
    """Every client-side record, at every level, as it would be written (message and
    arguments merged), plus its traceback if any."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.levelname} {record.getMessage()}")
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))


@dataclass
class Session:
    server_dir: Path
    profiles: list[Path]
    server_log: str
    client_log: str
    # name -> the secret as it would be written (each spelling is checked)
    secrets: dict[str, str] = field(default_factory=dict)
    test_made: set[Path] = field(default_factory=set)  # files the test wrote, not Haven


def _spellings(raw: bytes) -> list[str]:
    """How bytes end up in a log: hex, base64 (standard and URL-safe, padded or not)."""
    encoded = [base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()]
    return [raw.hex(), *encoded, *(e.rstrip("=") for e in encoded)]


def _server_key_material(server_dir: Path) -> dict[str, bytes]:
    """The server's private signing keys: the files its key loaders keep at 0600."""
    found = {}
    for path in sorted(server_dir.rglob("*")):
        name = path.name.lower()
        if path.is_file() and "key" in name and not name.endswith((".pub", "-public")):
            found[f"server key file {path.name}"] = path.read_bytes()
    return found


async def _converse(url: str, alice_dir: Path, bob_dir: Path, invite: str, tmp: Path) -> None:
    alice = await Messenger.create_account(alice_dir, url, PASSPHRASE, invite=invite)
    bob = await Messenger.create_account(bob_dir, url, PASSPHRASE, invite=invite)
    try:
        alice.add_contact(bob.state.account_id, "bob")
        bob.add_contact(alice.state.account_id, "alice")
        page = tmp / "page-1.txt"
        page.write_bytes(ATTACHMENT)
        await alice.send_text("bob", TEXT_TO_BOB, attach=[page])
        async with EnvelopeStream(bob.api.base_url, bob.state.token) as stream:
            received = await bob.receive_from(stream, wait=10)
        assert [m["body"] for m in received] == [TEXT_TO_BOB]
        [saved] = received[0]["attachments"]
        assert Path(saved["path"]).read_bytes() == ATTACHMENT
        await bob.send_text("alice", TEXT_TO_ALICE)
        assert [m["body"] for m in await alice.receive(wait=10)] == [TEXT_TO_ALICE]
    finally:
        await alice.close()
        await bob.close()


def _secrets_of(profile: Path) -> dict[str, str]:
    opened = Messenger.open(profile, PASSPHRASE)
    state = opened.state
    found = {
        f"device token of {profile.name}": state.token,
        f"token secret of {profile.name}": state.token.partition(".")[2],
    }
    for i, spelling in enumerate(_spellings(state.pickle_key)):
        found[f"pickle key of {profile.name} ({i})"] = spelling
    found[f"sealed account pickle of {profile.name}"] = state.identity.pickle(state.pickle_key)
    return found


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    tmp = tmp_path_factory.mktemp("hygiene")
    server_dir, alice_dir, bob_dir = tmp / "server", tmp / "alice", tmp / "bob"
    db = f"sqlite:///{server_dir / 'haven.sqlite3'}"
    # The usual default: what the code does about permissions must not depend on a strict
    # umask happening to be set where it runs.
    previous_umask = os.umask(0o022)
    records = _Records()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    server: ServerProcess | None = None
    try:
        created = subprocess.run(
            [sys.executable, "-m", "haven", "admin", "invite", "create", "--uses", "2",
             "--data-dir", str(server_dir), "--db", db],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        invite = created.stdout.strip()
        server = ServerProcess(
            server_dir, db, HAVEN_LOG_LEVEL="debug", HAVEN_REGISTRATION="invite"
        ).start()
        asyncio.run(_converse(server.url, alice_dir, bob_dir, invite, tmp))
        server.stop()
        secrets = {"passphrase": PASSPHRASE, "invite code": invite}
        for profile in (alice_dir, bob_dir):
            secrets.update(_secrets_of(profile))
        for name, raw in _server_key_material(server_dir).items():
            for i, spelling in enumerate(_spellings(raw)):
                secrets[f"{name} ({i})"] = spelling
            with contextlib.suppress(UnicodeDecodeError):
                secrets[f"{name} (text)"] = raw.decode().strip()
        secrets["message text to bob"] = TEXT_TO_BOB
        secrets["message text to alice"] = TEXT_TO_ALICE
        yield Session(
            server_dir=server_dir,
            profiles=[alice_dir, bob_dir],
            server_log=server.log.read_text(errors="replace"),
            client_log="\n".join(records.lines),
            secrets=secrets,
            test_made={server.log},
        )
    finally:
        if server is not None:
            server.stop()
        root.removeHandler(records)
        root.setLevel(old_level)
        os.umask(previous_umask)


def _leaks(log: str, secrets: dict[str, str]) -> list[str]:
    return sorted(name for name, value in secrets.items() if len(value) >= 8 and value in log)


def _tokens(secrets: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in secrets.items() if k.startswith(("device token", "token secret"))}


def _all_but_tokens(secrets: dict[str, str]) -> dict[str, str]:
    tokens = _tokens(secrets)
    return {k: v for k, v in secrets.items() if k not in tokens}


def test_the_session_really_ran_and_logged(session: Session) -> None:
    # Guards the tests below against passing on empty logs or an empty list of secrets.
    assert "DEBUG:" in session.server_log
    assert "websockets.client DEBUG" in session.client_log
    assert "httpx INFO" in session.client_log
    assert len(_tokens(session.secrets)) == 4
    assert sum(name.startswith("server key file") for name in session.secrets) >= 4


def test_no_other_secret_reaches_the_server_log(session: Session) -> None:
    assert _leaks(session.server_log, _all_but_tokens(session.secrets)) == []


def test_no_device_token_reaches_the_server_log(session: Session) -> None:
    assert _leaks(session.server_log, _tokens(session.secrets)) == []


def test_the_server_log_holds_no_client_address(session: Session) -> None:
    assert _CLIENT_ADDRESS.findall(session.server_log) == []


def test_no_other_secret_reaches_the_client_logs(session: Session) -> None:
    assert _leaks(session.client_log, _all_but_tokens(session.secrets)) == []


def test_no_device_token_reaches_the_client_logs(session: Session) -> None:
    assert _leaks(session.client_log, _tokens(session.secrets)) == []


def _modes(paths: list[Path], skip: set[Path]) -> dict[str, int]:
    """Every directory and file under `paths` (themselves included) -> its permission bits."""
    found = {}
    for top in paths:
        for path in sorted([top, *top.rglob("*")]):
            if path not in skip and not path.is_symlink():
                found[str(path.relative_to(top.parent))] = stat.S_IMODE(path.stat().st_mode)
    return found


def _too_open(modes: dict[str, int], root: Path) -> list[str]:
    return [
        f"{name} {mode:04o}"
        for name, mode in modes.items()
        if mode != (0o700 if (root / name).is_dir() else 0o600)
    ]


def test_server_signing_keys_are_for_its_owner_only(session: Session) -> None:
    modes = _modes([session.server_dir], session.test_made)
    keys = {name: mode for name, mode in modes.items() if name.endswith(".key")}
    assert len(keys) >= 4
    assert {name: f"{mode:04o}" for name, mode in keys.items()} == dict.fromkeys(keys, "0600")


def test_server_files_are_for_its_owner_only(session: Session) -> None:
    modes = _modes([session.server_dir], session.test_made)
    assert _too_open(modes, session.server_dir.parent) == []


def test_client_profile_state_is_for_its_owner_only(session: Session) -> None:
    for profile in session.profiles:
        modes = _modes([profile], set())
        assert f"{modes[profile.name]:04o}" == "0700"
        for state in ("state.haven", "linkguard.list"):
            assert f"{modes[f'{profile.name}/{state}']:04o}" == "0600"


def test_client_files_are_for_their_owner_only(session: Session) -> None:
    modes = _modes(session.profiles, set())
    assert _too_open(modes, session.profiles[0].parent) == []


def test_the_server_refuses_to_start_with_a_key_file_others_can_read(tmp_path: Path) -> None:
    """Every signing or MAC key the server keeps: opened up to the group or to everyone,
    the server does not start, and says which file and what to do; put back, it starts."""
    data = tmp_path / "server"
    data.mkdir()
    db = f"sqlite:///{data / 'haven.sqlite3'}"
    ServerProcess(data, db).start().stop()
    keys = sorted(data.glob("*.key"))
    assert len(keys) >= 4
    for key, mode in zip(keys, [0o644, 0o640, 0o604, 0o660] * len(keys), strict=False):
        key.chmod(mode)
        with pytest.raises(RuntimeError, match="server exited") as refused:
            ServerProcess(data, db).start()
        assert f"{key} is readable by other users: chmod 600 it and restart" in str(refused.value)
        assert "Traceback" not in str(refused.value)  # one clear line, before it listens
        key.chmod(0o600)
    ServerProcess(data, db).start().stop()
