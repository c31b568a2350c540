"""The disk under the SQLite data directory fills up while people send: sends are refused
with a clear 507 `storage_full` (Haven's JSON error, never a 500 or a dropped connection),
nothing stored is damaged (`PRAGMA integrity_check`), and once space returns the same
clients' retries go through and every acknowledged message is delivered.

The data directory is a small tmpfs (tests/services.py) filled to the last byte by a file
of the test's; freeing space is deleting that file.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.e2e.traffic import Ledger, receive_polling, register, sustained_sends
from tests.processes import ServerProcess
from tests.services import SmallFilesystem

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

BEFORE = 200  # messages acknowledged before the disk fills, and again after it is freed
REFUSALS = 50  # sends refused for a full disk before space is given back


async def test_a_full_disk_refuses_clearly_damages_nothing_and_recovers(
    small_filesystem: SmallFilesystem, launch: type[ServerProcess], tmp_path: Path
) -> None:
    database = small_filesystem.path / "haven.sqlite3"
    server = launch(small_filesystem.path, f"sqlite:///{database}")
    server.log = tmp_path / "server.log"  # the server's own output must not fill up too
    server.start()
    ledger = Ledger()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        alice, bob = await register(http), await register(http)
        stop_sending, stop_receiving = asyncio.Event(), asyncio.Event()
        senders = asyncio.create_task(sustained_sends(http, alice, bob, ledger, stop_sending))
        await ledger.until_acknowledged(BEFORE)

        filled = await asyncio.to_thread(small_filesystem.fill)
        await ledger.until(lambda: ledger.answers["507"] >= REFUSALS)
        during = (await http.get("/v1/health")).json()
        queued = await http.get("/v1/messages", params={"limit": 1}, headers=bob.auth)
        assert queued.status_code == 200  # reading still works on a full disk

        small_filesystem.free()
        await ledger.until_acknowledged(BEFORE)
        stop_sending.set()
        await senders
        stop_receiving.set()
        await receive_polling(http, bob, ledger, stop_receiving)
    assert server.proc is not None
    assert server.proc.poll() is None, "the server process died"
    server.stop()
    assert during["status"] == "ok"  # the server is up; it only cannot store
    assert {r["code"] for r in ledger.refusals} == {"storage_full"}
    ledger.check()
    with sqlite3.connect(database) as check:
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert check.execute("SELECT count(*) FROM queue").fetchone() == (0,)
    check.close()
    print(
        f"\nDisk full: {filled} bytes taken; {ledger.answers['507']} sends refused with 507; "
        f"{len(ledger.acknowledged)} acknowledged, all delivered; integrity_check ok; "
        f"answers: {dict(ledger.answers)}"
    )
