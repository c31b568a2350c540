"""Sustained message traffic for fault tests, and the ledger that proves nothing was lost.

Senders behave like Haven clients: each message is sent until the server acknowledges it
(201), retrying after a refusal that says "try again" (503, 507) or a dropped connection.
A receiver fetches and acks as a client does, de-duplicating by envelope id. The ledger
then checks, whatever faults happened in between:

- every acknowledged envelope was delivered (nothing acknowledged is lost);
- no envelope was delivered again after its ack succeeded (an HTTP ack: one sent on the
  stream has no answer, and one lost with the stream is a repeat de-duplication absorbs);
- after de-duplication by envelope id each message arrived once, and a message that
  arrived under two envelope ids had a send attempt whose outcome the client never learned
  (a connection lost during the commit; clients de-duplicate those by content);
- the server never answered anything but the answers a client can act on.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

from haven.core import b64
from tests.server.conftest import DeviceKeys

RETRYABLE = {503, 507}
BACKOFF_SECONDS = 0.05
WAIT = 60.0  # a deadline for a broken test, never a claim about speed


@dataclass
class Person:
    address: dict[str, str]
    auth: dict[str, str]


async def register(http: httpx.AsyncClient) -> Person:
    response = await retried(
        lambda: http.post("/v1/accounts", json={"identity_keys": DeviceKeys().identity()})
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Person(
        {"account_id": body["account_id"], "device_id": body["device_id"]},
        {"Authorization": f"Bearer {body['token']}"},
    )


async def retried(call: Callable[[], Any], ledger: Ledger | None = None) -> httpx.Response:
    """`call()` until the answer is not "try again" (or the wait runs out)."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        try:
            response: httpx.Response = await call()
        except httpx.TransportError as exc:
            if ledger is not None:
                ledger.answers[type(exc).__name__] += 1
                ledger.changed.set()
        else:
            if ledger is not None:
                ledger.answers[str(response.status_code)] += 1
                ledger.changed.set()
            if response.status_code not in RETRYABLE:
                return response
            if ledger is not None:
                ledger.refusals.append(response.json()["error"])
        assert asyncio.get_running_loop().time() < deadline, "the server never came back"
        await asyncio.sleep(BACKOFF_SECONDS)


@dataclass
class Ledger:
    acknowledged: dict[str, str] = field(default_factory=dict)  # envelope id -> payload
    uncertain: set[str] = field(default_factory=set)  # payloads with an attempt of no answer
    answers: Counter[str] = field(default_factory=Counter)  # status codes and errors seen
    refusals: list[dict[str, str]] = field(default_factory=list)  # 503/507 error bodies
    delivered: list[tuple[str, str]] = field(default_factory=list)  # (envelope id, payload)
    acked: set[str] = field(default_factory=set)
    after_ack: list[str] = field(default_factory=list)  # delivered again after its ack
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def until_acknowledged(self, more: int) -> None:
        """Wait until `more` further messages have been acknowledged."""
        target = len(self.acknowledged) + more
        await self.until(lambda: len(self.acknowledged) >= target)

    async def until_refused(self) -> None:
        """Wait until a client has met the fault: one more 503/507 or a dropped request."""
        seen = self._failures()
        await self.until(lambda: self._failures() > seen)

    def _failures(self) -> int:
        return sum(n for answer, n in self.answers.items() if answer not in {"200", "201"})

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait until `condition()` holds, re-checked whenever the traffic moves on."""
        async with asyncio.timeout(WAIT * 2):  # a deadline for a broken test, not a speed
            while not condition():
                self.changed.clear()
                await self.changed.wait()

    def take(self, envelopes: list[dict[str, Any]]) -> list[str]:
        """Record a delivered batch; the envelope ids to ack."""
        for envelope in envelopes:
            envelope_id = envelope["envelope_id"]
            if envelope_id in self.acked:
                self.after_ack.append(envelope_id)
            self.delivered.append((envelope_id, b64.decode(envelope["ciphertext"]).decode()))
        self.changed.set()
        return [e["envelope_id"] for e in envelopes]

    def check(self) -> None:
        unexpected = {a for a in self.answers if a not in {"200", "201", "503", "507"}}
        # Transport errors are a server that died or dropped the connection: allowed only
        # when the test kills the server, which says so by calling check_allowing_drops.
        assert unexpected == set(), f"answers a client cannot act on: {self.answers}"
        self.check_allowing_drops()

    def check_allowing_drops(self) -> None:
        for refusal in self.refusals:
            assert refusal["code"] in {"unavailable", "storage_full"}, refusal
            assert refusal["message"], refusal
        delivered_ids = {envelope_id for envelope_id, _ in self.delivered}
        lost = set(self.acknowledged) - delivered_ids
        assert not lost, f"{len(lost)} acknowledged messages were lost"
        assert self.after_ack == [], "envelopes delivered again after their ack"
        ids_per_payload: dict[str, set[str]] = {}
        for envelope_id, payload in self.delivered:
            ids_per_payload.setdefault(payload, set()).add(envelope_id)
        twice = {p for p, ids in ids_per_payload.items() if len(ids) > 1}
        assert twice <= self.uncertain, (
            f"stored twice without a lost answer: {twice - self.uncertain}"
        )

    @property
    def stored_twice(self) -> int:
        payloads = Counter(payload for _, payload in dict(self.delivered).items())
        return sum(n - 1 for n in payloads.values())


async def send_until_acknowledged(
    http: httpx.AsyncClient, sender: Person, to: Person, payload: str, ledger: Ledger
) -> None:
    body = {"recipients": [to.address], "ciphertext": b64.encode(payload.encode()), "kind": "olm"}
    attempts = 0

    async def attempt() -> httpx.Response:
        nonlocal attempts
        attempts += 1
        return await http.post("/v1/messages", json=body, headers=sender.auth)

    response = await retried(attempt, ledger)
    assert response.status_code == 201, response.text
    if attempts > 1:
        ledger.uncertain.add(payload)  # an earlier attempt may have been stored
    ledger.acknowledged[response.json()["envelope_id"]] = payload


async def sustained_sends(
    http: httpx.AsyncClient,
    sender: Person,
    to: Person,
    ledger: Ledger,
    stop: asyncio.Event,
    workers: int = 8,
    label: str = "",
) -> None:
    """`workers` senders, each sending one message after another until `stop`."""

    async def worker(w: int) -> None:
        n = 0
        while not stop.is_set():
            await send_until_acknowledged(http, sender, to, f"{label}{w}:{n}", ledger)
            n += 1

    await asyncio.gather(*(worker(w) for w in range(workers)))


async def receive_polling(
    http: httpx.AsyncClient, person: Person, ledger: Ledger, stop: asyncio.Event
) -> None:
    """Fetch (long-poll) and ack until `stop`, then until the queue is empty."""
    while True:
        response = await retried(
            lambda: http.get("/v1/messages", params={"wait": 0.5}, headers=person.auth), ledger
        )
        assert response.status_code == 200, response.text
        envelopes = response.json()["envelopes"]
        if not envelopes and stop.is_set():
            return
        if envelopes:
            await ack(http, person, ledger.take(envelopes), ledger)


async def ack(http: httpx.AsyncClient, person: Person, ids: list[str], ledger: Ledger) -> None:
    response = await retried(
        lambda: http.post("/v1/messages/ack", json={"envelope_ids": ids}, headers=person.auth),
        ledger,
    )
    assert response.status_code == 200, response.text
    ledger.acked.update(ids)


async def receive_streaming(
    ws_url: str, person: Person, ledger: Ledger, stop: asyncio.Event
) -> int:
    """Take pushed envelopes over the WebSocket stream and ack them there, reconnecting
    whenever the stream drops, until `stop` and a quiet second; returns reconnects."""
    reconnects = 0
    while True:
        try:
            async with websockets.connect(ws_url, additional_headers=person.auth) as stream:
                while True:
                    try:
                        raw = await asyncio.wait_for(stream.recv(), 1.0)
                    except TimeoutError:
                        if stop.is_set():
                            return reconnects
                        continue
                    frame = json.loads(raw)
                    if frame["type"] == "envelope":
                        ids = ledger.take([frame["envelope"]])
                        # An ack on the stream has no answer, so it is not recorded as
                        # done: one lost with a dropped stream means a repeat delivery,
                        # which de-duplication by envelope id absorbs.
                        await stream.send(json.dumps({"type": "ack", "envelope_ids": ids}))
        except (websockets.ConnectionClosed, OSError, websockets.InvalidStatus):
            reconnects += 1
            await asyncio.sleep(BACKOFF_SECONDS)
