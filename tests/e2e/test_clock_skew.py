"""Two server processes on one database, one clock five minutes ahead and the other five
minutes behind (`HAVEN_CLOCK_OFFSET_MS`), and messages that live one minute: shorter than
the skew. Sent alternately through both, every message is delivered through either, in the
order it was sent (though its server_time jumps back and forth by ten minutes); none is
expired early by the process that runs ahead; acks through one process hold in the other.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from haven.core import b64
from haven.store.stores import Stores
from tests.e2e.traffic import Person, register
from tests.processes import ServerProcess

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.postgres]

SKEW_MS = 5 * 60 * 1000
MESSAGES = 40


async def fetch(http: httpx.AsyncClient, person: Person) -> list[dict[str, str]]:
    response = await http.get("/v1/messages", headers=person.auth)
    assert response.status_code == 200, response.text
    envelopes: list[dict[str, str]] = response.json()["envelopes"]
    return envelopes


async def ack(http: httpx.AsyncClient, person: Person, envelope_ids: list[str]) -> None:
    response = await http.post(
        "/v1/messages/ack", json={"envelope_ids": envelope_ids}, headers=person.auth
    )
    assert response.status_code == 200, response.text


async def test_skewed_processes_keep_order_expiry_and_acks(
    launch: type[ServerProcess], pg_stores: Stores, pg_url: str, tmp_path: Path
) -> None:
    # Messages live a minute, the shortest a server allows: less than the skew.
    ahead = launch(
        tmp_path, pg_url, HAVEN_CLOCK_OFFSET_MS=str(SKEW_MS), HAVEN_MESSAGE_TTL_SECONDS="60"
    ).start()
    behind = launch(
        tmp_path, pg_url, HAVEN_CLOCK_OFFSET_MS=str(-SKEW_MS), HAVEN_MESSAGE_TTL_SECONDS="60"
    ).start()
    async with (
        httpx.AsyncClient(base_url=ahead.url, timeout=30) as via_ahead,
        httpx.AsyncClient(base_url=behind.url, timeout=30) as via_behind,
    ):
        alice, bob = await register(via_ahead), await register(via_behind)
        sent: list[tuple[str, int, str]] = []  # (envelope id, server_time, through)
        for i in range(MESSAGES):
            through, http = ("ahead", via_ahead) if i % 2 else ("behind", via_behind)
            body = {"recipients": [bob.address], "ciphertext": b64.encode(b"%d" % i),
                    "kind": "olm"}  # fmt: skip
            response = await http.post("/v1/messages", json=body, headers=alice.auth)
            assert response.status_code == 201, response.text
            sent.append((response.json()["envelope_id"], response.json()["server_time"], through))

        # The skew is real: every server_time from the process behind is earlier than
        # every one from the process ahead, whatever the order they were sent in.
        times = {where: [t for _, t, w in sent if w == where] for where in ("ahead", "behind")}
        assert max(times["behind"]) + SKEW_MS < min(times["ahead"])

        # Through the process ahead: all of them, in the order sent, none expired early
        # (those sent through the process behind "expired" four minutes ago by its clock).
        delivered = await fetch(via_ahead, bob)
        assert [e["envelope_id"] for e in delivered] == [envelope_id for envelope_id, _, _ in sent]
        assert [b64.decode(e["ciphertext"]) for e in delivered] == [
            b"%d" % i for i in range(MESSAGES)
        ]

        # Acks through the process behind hold in the one ahead, and the other way round.
        first, second = sent[: MESSAGES // 2], sent[MESSAGES // 2 :]
        await ack(via_behind, bob, [envelope_id for envelope_id, _, _ in first])
        rest = await fetch(via_ahead, bob)
        assert [e["envelope_id"] for e in rest] == [envelope_id for envelope_id, _, _ in second]
        await ack(via_ahead, bob, [envelope_id for envelope_id, _, _ in second])
        assert await fetch(via_behind, bob) == []
        assert await fetch(via_ahead, bob) == []
