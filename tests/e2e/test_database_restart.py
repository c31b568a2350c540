"""PostgreSQL crashes and comes back while people send and receive: the server keeps
running, refuses with 503 `unavailable` while the database is gone (never a 500, never a
dropped connection), reconnects by itself, and nothing acknowledged is lost.

The database is a private PostgreSQL (tests/services.py), crashed with `pg_ctl stop -m
immediate`: every connection drops, no checkpoint, recovery from the write-ahead log.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.e2e.traffic import (
    Ledger,
    receive_polling,
    receive_streaming,
    register,
    sustained_sends,
)
from tests.processes import ServerProcess
from tests.services import PrivatePostgres

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CRASHES = 3
BETWEEN_CRASHES = 200  # messages acknowledged before each crash, so each lands mid-load
OUTAGE_SECONDS = 2.0  # twice the streams' re-check interval (HAVEN_POLL_SECONDS below)


async def test_postgresql_crashed_under_load_loses_nothing_acknowledged(
    private_postgres: PrivatePostgres, launch: type[ServerProcess], tmp_path: Path
) -> None:
    server = launch(tmp_path, private_postgres.url, HAVEN_POLL_SECONDS="1").start()
    ledger, streamed = Ledger(), Ledger()
    ws_url = server.url.replace("http://", "ws://") + "/v1/stream"
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        alice, bob, carol = await register(http), await register(http), await register(http)
        stop_sending, stop_receiving = asyncio.Event(), asyncio.Event()
        senders = asyncio.gather(
            sustained_sends(http, alice, bob, ledger, stop_sending, 6),
            sustained_sends(http, alice, carol, streamed, stop_sending, 2),
        )
        receiver = asyncio.gather(
            receive_polling(http, bob, ledger, stop_receiving),
            receive_streaming(ws_url, carol, streamed, stop_receiving),
        )
        for _ in range(CRASHES):
            await ledger.until_acknowledged(BETWEEN_CRASHES)
            await asyncio.to_thread(private_postgres.crash)
            await ledger.until_refused()  # down until the clients have met it,
            await asyncio.sleep(OUTAGE_SECONDS)  # and a while more (streams re-check), then back
            await asyncio.to_thread(private_postgres.start)
        await ledger.until_acknowledged(BETWEEN_CRASHES)
        stop_sending.set()
        await senders
        stop_receiving.set()
        _, reconnects = await receiver
        health = (await http.get("/v1/health")).json()
    assert server.proc is not None
    assert server.proc.poll() is None, "the server process died"
    assert health["database"] == "ok"
    ledger.check()
    streamed.check()
    assert private_postgres.starts == CRASHES + 1
    assert ledger.refusals, "no request ever met the outage: the test proved nothing"
    print(
        f"\nPostgreSQL crashes survived: {CRASHES}; messages acknowledged: "
        f"{len(ledger.acknowledged)}; delivered: {len(ledger.delivered)}; 503 answers: "
        f"{len(ledger.refusals)}; stored twice after a lost answer: {ledger.stored_twice}; "
        f"answers: {dict(ledger.answers)}; streamed to carol: {len(streamed.acknowledged)} "
        f"acknowledged, {len(streamed.delivered)} delivered, stream reconnects {reconnects}"
    )
