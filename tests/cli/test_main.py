from __future__ import annotations

import asyncio
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

import haven
from haven.cli.main import app
from haven.core import clock, ids
from haven.store.interfaces import Identity
from haven.store.stores import open_stores
from tests.processes import free_port

runner = CliRunner()


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("up", "server", "admin"):
        assert command in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.output.strip() == f"haven {haven.__version__}"


def test_every_command_has_help() -> None:
    for args in (["up"], ["server"], ["admin"], ["admin", "invite"], ["admin", "invite", "create"]):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, args
        assert "Usage" in result.output


def test_invite_create_prints_a_code_that_registers(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["admin", "invite", "create", "--uses", "2", "--note", "desk", "--data-dir", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    code = result.stdout.strip().splitlines()[0]
    asyncio.run(_register_with(code, tmp_path))
    listed = runner.invoke(app, ["admin", "invite", "list", "--data-dir", str(tmp_path)])
    assert "desk" in listed.output
    assert code not in listed.output  # only the hash is kept


async def _register_with(code: str, data_dir: Path) -> None:
    stores = await open_stores(f"sqlite:///{data_dir / 'haven.sqlite3'}")
    try:
        [invite] = await stores.invites.list(clock.now_ms())
        assert (invite.uses_left, invite.note) == (2, "desk")
        await stores.accounts.create_account(
            ids.new_id(), ids.new_id(), Identity("c", "e"), ids.token_digest("t"),
            clock.now_ms(), ids.token_digest(code),
        )  # fmt: skip
        [after] = await stores.invites.list(clock.now_ms())
        assert after.uses_left == 1
    finally:
        await stores.db.close()


def test_bad_configuration_is_a_clear_error_with_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["up", "--data-dir", str(tmp_path)], env={"HAVEN_PORT": "nope"})
    assert result.exit_code == 2
    assert "HAVEN_PORT" in result.output
    assert "Traceback" not in result.output


def test_invite_uses_out_of_range_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["admin", "invite", "create", "--uses", "0", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 2


def test_up_serves_the_api_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port, relay_port = free_port(), free_port()
    data = str(tmp_path / "data")
    printed: list[str] = []
    proc = subprocess.Popen(
        [sys.executable, "-m", "haven", "up", "--data-dir", data, "--port", str(port),
         "--relay-port", str(relay_port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ},
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                health = httpx.get(url + "/v1/health", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, "haven up exited early"
                time.sleep(0.1)
        else:
            pytest.fail("haven up did not answer")
        assert health.json()["status"] == "ok"
        assert (tmp_path / "data" / "haven.sqlite3").exists()
        # Nobody can sign in to the console yet: a one-time link for the first admin.
        assert proc.stdout is not None
        while not printed or "Stop with Ctrl-C" not in printed[-1]:
            printed.append(proc.stdout.readline().decode())
        assert f"Console      {url}/admin" in "".join(printed)
        [link] = [line.strip() for line in printed if "/admin/first-run?token=" in line]
        assert httpx.get(link, timeout=5).status_code == 200
        # The relay beside it answers TLS with its decoy page to anyone without the secret.
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        for _ in range(300):
            try:
                with (
                    socket.create_connection(("127.0.0.1", relay_port), timeout=2) as raw,
                    context.wrap_socket(raw, server_hostname="localhost") as tls,
                ):
                    tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    decoy = tls.recv(4096)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the relay did not answer")
        assert decoy.startswith(b"HTTP/1.1 200")
        # The relay left its invite link for the console's relays page.
        link_file = tmp_path / "data" / "relay-link.txt"
        assert link_file.read_text().startswith("haven://relay?")
        assert link_file.stat().st_mode & 0o077 == 0
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    # 130 is the conventional status for "stopped by Ctrl-C" after a clean shutdown.
    assert proc.returncode in (0, 130)
    text = "".join(printed) + out.decode()
    assert "Application shutdown complete" in text
    assert f"http://127.0.0.1:{port}/v1" in text
    assert f"haven://relay?host=127.0.0.1&port={relay_port}" in text
    assert "Traceback" not in text
