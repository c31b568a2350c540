"""`haven relay` as an operator runs it: a real process, real sockets."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from haven.cli.main import app
from haven.core.relaylink import RelayLink, b64url_encode, make_proof, parse
from haven.relay import certs
from tests.processes import free_port
from tests.relay.conftest import Upstream, read_response, tls_connect

pytestmark = pytest.mark.slow
runner = CliRunner()
LINK = re.compile(r"haven://relay\?\S+")


def test_help_explains() -> None:
    result = runner.invoke(app, ["relay", "--help"])
    assert result.exit_code == 0
    for words in ("--upstream", "--listen", "--data-dir", "--qr", "--websocket", "decoy"):
        assert words in result.output


def test_upstream_is_required() -> None:
    result = runner.invoke(app, ["relay", "--listen", "127.0.0.1:1"])
    assert result.exit_code == 2
    assert "--upstream" in result.output


def test_replay_slots_must_be_a_power_of_two(tmp_path: Path) -> None:
    result = runner.invoke(app, ["relay", "--upstream", "127.0.0.1:1", "--listen",
                                 "127.0.0.1:1", "--data-dir", str(tmp_path / "r"),
                                 "--replay-slots", "1000"])  # fmt: skip
    assert result.exit_code == 2
    assert "--replay-slots must be a power of two of at least 64" in result.output
    assert not (tmp_path / "r").exists()  # refused before anything was made


def test_stats_must_stay_on_loopback(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["relay", "--upstream", "127.0.0.1:1", "--listen", "127.0.0.1:1",
         "--data-dir", str(tmp_path), "--stats", "0.0.0.0:9000"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "loopback" in result.output


class Relay:
    def __init__(self, data_dir: Path, upstream: int, *extra: str) -> None:
        self.port = free_port()
        args = [
            sys.executable, "-m", "haven", "relay", "--upstream", f"127.0.0.1:{upstream}",
            "--listen", f"127.0.0.1:{self.port}", "--data-dir", str(data_dir),
            "--stats", f"127.0.0.1:{free_port()}", "--drain-timeout", "2", *extra,
        ]  # fmt: skip
        env = {**os.environ, "COLUMNS": "300"}
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
        )
        self.output = ""
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.output += raw.decode()
            if "Relay listening" in self.output:
                break
        assert "Relay listening" in self.output, self.output
        self._wait_listening()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                tls_connect(self.port).close()
                return
            except OSError:
                assert self.proc.poll() is None, self.output
                time.sleep(0.05)
        raise AssertionError("relay is not accepting")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rest, _ = self.proc.communicate(timeout=30)
        self.output += rest.decode()
        return self.proc.returncode

    @property
    def link(self) -> RelayLink:
        found = LINK.search(self.output)
        assert found is not None, self.output
        return parse(found[0])


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.stop()


def spliced(port: int, link: RelayLink) -> bytes:
    with tls_connect(port, link.server_name) as sock:
        sock.sendall(f"GET /{make_proof(link.secret)} HTTP/1.1\r\nHost: x\r\n\r\nhi".encode())
        head, rest = read_response(sock)
        while len(rest) < 2:
            rest += sock.recv(10)
    assert head.startswith(b"HTTP/1.1 101 ")
    return rest


def test_first_start_creates_the_identity_and_restart_reuses_it(
    tmp_path: Path, upstream: Upstream
) -> None:
    data, png = tmp_path / "relay", tmp_path / "invite.png"
    relay = Relay(data, upstream.port, "--qr", str(png))
    try:
        link = relay.link
        assert (link.host, link.port, link.sni) == ("127.0.0.1", relay.port, "localhost")
        assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert "▀" in relay.output or "█" in relay.output  # the terminal QR code
        for name in (certs.SECRET_FILE, certs.CERT_FILE, certs.KEY_FILE):
            assert (data / name).stat().st_mode & 0o777 == 0o600
        assert spliced(relay.port, link) == b"hi"
    finally:
        assert relay.stop() == 0
    secret = (data / certs.SECRET_FILE).read_bytes()
    again = Relay(data, upstream.port)
    try:
        assert LINK.search(again.output) is None
        assert b64url_encode(secret) not in again.output
        assert spliced(again.port, link.__class__(**{**link.__dict__, "port": again.port})) == b"hi"
    finally:
        assert again.stop() == 0
    assert (data / certs.SECRET_FILE).read_bytes() == secret
    shown = Relay(data, upstream.port, "--show-link", "--websocket")
    try:
        assert shown.link.secret == link.secret
        assert shown.link.pin == link.pin
        assert shown.link.websocket
    finally:
        shown.stop()


def test_workers_share_the_port_and_drain_on_sigterm(tmp_path: Path, upstream: Upstream) -> None:
    relay = Relay(tmp_path / "relay", upstream.port, "--workers", "2")
    try:
        for _ in range(4):
            assert spliced(relay.port, relay.link) == b"hi"
        with tls_connect(relay.port) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(sock)[0].startswith(b"HTTP/1.1 200 OK\r\nServer: nginx")
    finally:
        assert relay.stop() == 0
    assert "Traceback" not in relay.output
    # Nothing logged while serving names a client address.
    assert "127.0.0.1" not in relay.output.split("Stop with Ctrl-C or SIGTERM.", 1)[1]
