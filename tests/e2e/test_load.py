"""10,000 authenticated WebSocket streams held open on one `haven server` process (SQLite,
the embedded default) on this 2-core machine, messages still delivered to a sample of them
while they are all held, and the server's memory per connection.

The accounts are made straight in the database before the server starts (registering ten
thousand over HTTP would test registration, not holding streams). Both this process and
the server get a raised open-file limit: each stream is a socket on both sides.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.protocol import State

from haven.core import b64, clock, ids
from haven.store.interfaces import Identity
from haven.store.stores import stores_at
from tests.conftest import IN_CI
from tests.processes import ServerProcess

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.load]

STREAMS = 10_000
SAMPLE = 200  # streams that get a message while all are held
HANDSHAKES_AT_ONCE = 100
WAIT = 120.0  # a deadline for a broken test, never a claim about speed


@pytest.fixture
def many_files() -> Iterator[None]:
    """Enough open files for STREAMS sockets here and in the server (which inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = STREAMS + 1_000
    if hard != resource.RLIM_INFINITY and hard < needed:
        message = f"the open-file limit is {hard}; {needed} are needed"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def make_devices(db_url: str, count: int) -> list[tuple[dict[str, str], str]]:
    """`count` accounts of one device each: (address, token)."""
    made = []
    now = clock.now_ms()
    async with stores_at(db_url) as stores:
        for _ in range(count):
            account_id, device_id = ids.new_id(), ids.new_id()
            token = ids.device_token(device_id)
            keys = Identity(b64.encode(os.urandom(32)), b64.encode(os.urandom(32)))
            await stores.accounts.create_account(
                account_id, device_id, keys, ids.token_digest(token), now, None
            )
            made.append(({"account_id": account_id, "device_id": device_id}, token))
    return made


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def test_ten_thousand_streams_are_held_and_still_delivered_to(
    many_files: None, launch: type[ServerProcess], tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'haven.sqlite3'}"
    devices = await make_devices(db_url, STREAMS + 1)
    _, sender_token = devices.pop()
    server = launch(tmp_path, db_url).start()
    assert server.proc is not None
    idle_rss = rss_bytes(server.proc.pid)
    ws_url = server.url.replace("http://", "ws://") + "/v1/stream"
    streams: list[ClientConnection] = []
    gate = asyncio.Semaphore(HANDSHAKES_AT_ONCE)

    async def open_stream(token: str) -> ClientConnection:
        async with gate:
            return await websockets.connect(
                ws_url,
                additional_headers={"Authorization": f"Bearer {token}"},
                ping_interval=None,  # the server pings; ten thousand client pings add nothing
                open_timeout=WAIT,
            )

    try:
        async with asyncio.timeout(WAIT * 3):
            opened = await asyncio.gather(
                *(open_stream(token) for _, token in devices), return_exceptions=True
            )
        streams = [s for s in opened if isinstance(s, ClientConnection)]
        failures = [repr(f) for f in opened if not isinstance(f, ClientConnection)]
        assert failures == [], f"{len(failures)} streams refused: {failures[:3]}"
        held_rss = rss_bytes(server.proc.pid)

        # While all are held: one message to each of a sample, pushed on its stream.
        sample = random.Random(1).sample(range(STREAMS), SAMPLE)
        async with httpx.AsyncClient(base_url=server.url, timeout=WAIT) as http:
            sent = {}
            for n in sample:
                address, _ = devices[n]
                body = {"recipients": [address], "ciphertext": b64.encode(b"%d" % n),
                        "kind": "olm"}  # fmt: skip
                response = await http.post(
                    "/v1/messages", json=body, headers={"Authorization": f"Bearer {sender_token}"}
                )
                assert response.status_code == 201, response.text
                sent[n] = response.json()["envelope_id"]

        async def receive(n: int) -> str:
            frame = json.loads(await asyncio.wait_for(streams[n].recv(), WAIT))
            await streams[n].send(json.dumps({"type": "ack", "envelope_ids": [
                frame["envelope"]["envelope_id"]]}))  # fmt: skip
            return str(frame["envelope"]["envelope_id"])

        received = await asyncio.gather(*(receive(n) for n in sample))
        assert received == [sent[n] for n in sample]
        still_open = sum(s.state is State.OPEN for s in streams)
        assert still_open == STREAMS
        assert server.proc.poll() is None
    finally:
        async with asyncio.timeout(WAIT):
            await asyncio.gather(*(s.close() for s in streams), return_exceptions=True)
    per_connection = (held_rss - idle_rss) / STREAMS
    print(
        f"\n{STREAMS} streams held; {SAMPLE} of them each received a message while all were "
        f"held; server RSS {idle_rss / 2**20:.0f} MiB idle, {held_rss / 2**20:.0f} MiB "
        f"holding them: {per_connection / 1024:.1f} KiB per connection"
    )
