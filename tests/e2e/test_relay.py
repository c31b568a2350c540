"""People behind a block: one client reaches the server only through a relay, another
falls back to it without being told, and a relay killed mid-stream loses nothing.

The server speaks HTTPS with a self-signed certificate and the clients hold its pin, as in a
deployment: through the relay they speak TLS to the server itself."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from haven.client.messenger import Messenger
from tests.client.conftest import PASSPHRASE
from tests.processes import ServerProcess, free_port

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

_LINK = re.compile(r"haven://relay\?\S+")


class RelayProcess:
    """`haven relay` as an operator runs it, on a fixed port so it can be restarted."""

    def __init__(self, data_dir: Path, upstream_port: int, *options: str) -> None:
        self.data_dir = data_dir
        self.upstream_port = upstream_port
        self.options = options  # more `haven relay` options, e.g. a shorter deadline
        self.port = free_port()
        self.process: subprocess.Popen[str] | None = None
        self.link = ""

    def start(self) -> RelayProcess:
        self.data_dir.mkdir(exist_ok=True)
        output = self.data_dir / "relay.out"
        with output.open("w") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "haven", "relay",
                 "--upstream", f"127.0.0.1:{self.upstream_port}",
                 "--listen", f"127.0.0.1:{self.port}",
                 "--public-host", f"127.0.0.1:{self.port}",
                 "--data-dir", str(self.data_dir), "--show-link", "--stats", "off",
                 *self.options],
                stdout=sink, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
        for _ in range(600):
            found = _LINK.search(output.read_text())
            if found or self.process.poll() is not None:
                break
            time.sleep(0.05)
        assert found, output.read_text()
        self.link = found.group(0)
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture
def server(launch: type[ServerProcess], tmp_path: Path) -> ServerProcess:
    (tmp_path / "server").mkdir()
    db = f"sqlite:///{tmp_path / 'haven.sqlite3'}"
    return launch(tmp_path / "server", db, tls=True).start()


@pytest.fixture
def relay(server: ServerProcess, tmp_path: Path) -> Iterator[RelayProcess]:
    running = RelayProcess(tmp_path / "relay", server.port).start()
    yield running
    running.kill()


def blocked_url() -> str:
    return f"https://127.0.0.1:{free_port()}"  # nothing listens: as good as blocked


async def test_a_person_who_can_only_reach_the_relay_talks_to_one_who_can_not(
    server: ServerProcess, relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await Messenger.create_account(
        tmp_path / "alice", server.url, PASSPHRASE, server_pin=server.pin
    )
    bob = await Messenger.create_account(
        tmp_path / "bob", blocked_url(), PASSPHRASE, relays=[relay.link], server_pin=server.pin
    )
    try:
        assert bob.api.via == f"127.0.0.1:{relay.port}"
        assert alice.api.via is None
        await alice.send_text(bob.state.account_id, "can you read me?")
        assert [m["body"] for m in await bob.receive(wait=5)] == ["can you read me?"]
        await bob.send_text(alice.state.account_id, "yes, through the relay")
        assert [m["body"] for m in await alice.receive(wait=5)] == ["yes, through the relay"]
    finally:
        await alice.close()
        await bob.close()


async def test_a_blocked_server_falls_back_to_a_saved_relay_without_being_asked(
    server: ServerProcess, relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await Messenger.create_account(
        tmp_path / "alice", server.url, PASSPHRASE, server_pin=server.pin
    )
    bob = await Messenger.create_account(
        tmp_path / "bob", server.url, PASSPHRASE, server_pin=server.pin
    )
    assert bob.add_relay(relay.link) == f"127.0.0.1:{relay.port}"
    bob.state.server = blocked_url()  # the censor blocks the server's address
    bob.save()
    await bob.close()
    bob = Messenger.open(tmp_path / "bob", PASSPHRASE)
    try:
        await alice.send_text(bob.state.account_id, "still there?")
        assert [m["body"] for m in await bob.receive(wait=5)] == ["still there?"]
        assert bob.api.via == f"127.0.0.1:{relay.port}"
    finally:
        await alice.close()
        await bob.close()


async def test_killing_the_relay_mid_stream_loses_no_acknowledged_message(
    server: ServerProcess, relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await Messenger.create_account(
        tmp_path / "alice", server.url, PASSPHRASE, server_pin=server.pin
    )
    bob = await Messenger.create_account(
        tmp_path / "bob", blocked_url(), PASSPHRASE, relays=[relay.link], server_pin=server.pin
    )
    received: list[str] = []
    try:
        sent = [f"message {i}" for i in range(30)]
        for text in sent[:15]:
            await alice.send_text(bob.state.account_id, text)
        received += [m["body"] for m in await bob.receive(wait=5)]
        relay.kill()  # mid-stream: bob's tunnel dies under him
        for text in sent[15:]:
            await alice.send_text(bob.state.account_id, text)
        with pytest.raises(Exception, match="cannot reach"):
            await bob.receive(wait=1)
        relay.start()  # the operator restarts it: same secret, same certificate
        for _ in range(20):
            try:
                received += [m["body"] for m in await bob.receive(wait=2)]
            except Exception:
                await asyncio.sleep(0.5)
            if len(received) >= len(sent):
                break
        assert received == sent  # everything, once, in order
    finally:
        await alice.close()
        await bob.close()
