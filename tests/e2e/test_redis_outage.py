"""Redis dies while three server processes share it, and comes back: sends keep being
accepted, streams stay open and keep delivering by re-checking their queues (the fallback
polling), and once Redis is back, wake-ups cross processes again. Nothing acknowledged is
lost.

Servers A and B re-check their streams' queues every second; C only hourly, so what C's
stream gets after Redis returns came by a wake-up through Redis, not by its own polling.
Redis is a private one (tests/services.py), killed with SIGKILL; the database is a private
PostgreSQL too.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.e2e.traffic import Ledger, Person, receive_streaming, register, sustained_sends
from tests.processes import ServerProcess
from tests.services import PrivatePostgres, PrivateRedis

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

BATCH = 100  # messages per phase


async def bus_states(*urls: str) -> list[str]:
    async with httpx.AsyncClient(timeout=30) as http:
        return [(await http.get(f"{url}/v1/health")).json()["bus"] for url in urls]


async def until_bus(state: str, *urls: str) -> None:
    async with asyncio.timeout(120):  # a deadline for a broken test, not a speed claim
        while await bus_states(*urls) != [state] * len(urls):  # noqa: ASYNC110 (a remote state)
            await asyncio.sleep(0.1)


async def test_redis_down_falls_back_to_polling_and_pushes_resume_when_it_returns(
    private_postgres: PrivatePostgres,
    private_redis: PrivateRedis,
    launch: type[ServerProcess],
    tmp_path: Path,
) -> None:
    db, bus = private_postgres.url, private_redis.url
    a = launch(tmp_path, db, redis=bus, HAVEN_POLL_SECONDS="1").start()
    b = launch(tmp_path, db, redis=bus, HAVEN_POLL_SECONDS="1").start()
    c = launch(tmp_path, db, redis=bus, HAVEN_POLL_SECONDS="3600").start()
    to_bob, to_carol = Ledger(), Ledger()
    async with httpx.AsyncClient(base_url=a.url, timeout=30) as via_a:
        alice: Person = await register(via_a)
        bob, carol = await register(via_a), await register(via_a)
        stop_sending, stop_receiving = asyncio.Event(), asyncio.Event()
        receivers = [
            asyncio.create_task(receive_streaming(ws(b), bob, to_bob, stop_receiving)),
            asyncio.create_task(receive_streaming(ws(c), carol, to_carol, stop_receiving)),
        ]
        senders = [
            asyncio.create_task(sustained_sends(via_a, alice, bob, to_bob, stop_sending, 4)),
            asyncio.create_task(sustained_sends(via_a, alice, carol, to_carol, stop_sending, 4)),
        ]
        await to_bob.until_acknowledged(BATCH)
        await to_carol.until(lambda: len(to_carol.delivered) >= BATCH // 2)  # pushed through C

        private_redis.kill()
        await until_bus("down", a.url, b.url, c.url)
        # Still accepted, and B's stream still delivers: by polling, as nothing else could.
        delivered_at_kill = len(to_bob.delivered)
        await to_bob.until_acknowledged(BATCH)
        await to_bob.until(lambda: len(to_bob.delivered) >= delivered_at_kill + BATCH)

        private_redis.start()
        await until_bus("ok", a.url, b.url, c.url)
        # C re-checks its queue on reconnecting, and from then on is woken through Redis.
        await until_delivered(to_carol)
        await to_carol.until_acknowledged(BATCH)
        stop_sending.set()
        await asyncio.gather(*senders)
        await until_delivered(to_carol)
        await until_delivered(to_bob)
        stop_receiving.set()
        reconnects = await asyncio.gather(*receivers)
    assert reconnects == [0, 0], "a stream dropped while Redis was away"
    for ledger in (to_bob, to_carol):
        ledger.check()
    assert private_redis.starts == 2
    print(
        f"\nRedis outage survived with 3 server processes: {len(to_bob.acknowledged)} "
        f"messages to B's stream ({len(to_bob.delivered) - delivered_at_kill} after the kill "
        f"counted there), {len(to_carol.acknowledged)} to C's; delivered "
        f"{len(to_bob.delivered)} and {len(to_carol.delivered)}"
    )


def ws(server: ServerProcess) -> str:
    return server.url.replace("http://", "ws://") + "/v1/stream"


async def until_delivered(ledger: Ledger) -> None:
    """Until everything acknowledged so far has been delivered."""
    sent = set(ledger.acknowledged)
    await ledger.until(lambda: sent <= {envelope_id for envelope_id, _ in ledger.delivered})
