"""The queue store as a state machine: Hypothesis drives sends, fetches, acks, reconnects
and restarts against the real `SqlQueueStore` and checks it against a plain model.

The promise under test is the one the durability design rests on: an envelope the store
accepted is handed to each of its recipient devices on every fetch until that device acks
it, never after, whatever the order of operations and however often the database is closed
and reopened in between; and nothing is ever handed out that was not sent to that device.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from haven.core import clock, ids
from haven.core.errors import ErrorCode, HavenError
from haven.store.interfaces import Address, NewEnvelope, QueuedEnvelope
from haven.store.stores import Stores, open_stores
from tests.conftest import fresh_stores
from tests.store.test_accounts import register

T = TypeVar("T")

DEVICES = 4
EVERYTHING = 10_000  # a fetch limit no queue here reaches: "the whole queue"
TTL_MS = 24 * 3600 * 1000  # nothing expires while a machine runs

# Modest on purpose: every step is a real transaction and `make test` runs this on both
# backends. Raise max_examples locally for a longer soak.
SQLITE_SETTINGS = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
POSTGRES_SETTINGS = settings(SQLITE_SETTINGS, max_examples=15)


@dataclass
class DeviceModel:
    """What one recipient device's queue must look like, and what its client has seen."""

    address: Address
    log: list[str] = field(default_factory=list)  # every envelope queued for it, send order
    acked: set[str] = field(default_factory=set)
    delivered: list[str] = field(default_factory=list)  # since the last (re)connect
    cursor_seq: int = 0  # queue position of the last envelope delivered on this connection
    cursor_index: int = -1  # the same position, as an index into `log`

    def unacked(self) -> list[str]:
        return [e for e in self.log if e not in self.acked]

    def in_flight(self) -> list[str]:
        """Delivered on this connection and not acknowledged yet."""
        return [e for e in dict.fromkeys(self.delivered) if e not in self.acked]

    def reconnect(self) -> None:
        self.delivered = []
        self.cursor_seq = 0
        self.cursor_index = -1


class QueueMachine(RuleBasedStateMachine):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.runner = asyncio.Runner()
        self.stores: Stores = self.run(fresh_stores(url))
        self.devices = [DeviceModel(self.run(self._register())) for _ in range(DEVICES)]
        self.bodies: dict[str, tuple[bytes, Address]] = {}  # envelope -> (ciphertext, sender)
        self.ghost = Address(ids.new_id(), ids.new_id())  # registered nowhere
        self.restarts = 0

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(work)

    async def _register(self) -> Address:
        account_id, device_id, _ = await register(self.stores)
        return Address(account_id, device_id)

    def teardown(self) -> None:
        try:
            self.run(self.stores.db.close())
        finally:
            self.runner.close()

    # -- sends ----------------------------------------------------------------------------

    def _envelope(self, sender: Address, body: bytes) -> NewEnvelope:
        now = clock.now_ms()
        return NewEnvelope(ids.new_id(), sender, "olm", body, now, now + TTL_MS)

    def _accepted(self, envelope: NewEnvelope, recipients: list[int]) -> None:
        self.bodies[envelope.envelope_id] = (envelope.ciphertext, envelope.sender)
        for index in dict.fromkeys(recipients):
            self.devices[index].log.append(envelope.envelope_id)

    @rule(
        sender=st.integers(0, DEVICES - 1),
        recipients=st.lists(st.integers(0, DEVICES - 1), min_size=1, max_size=6),
        body=st.binary(min_size=1, max_size=64),
    )
    def send(self, sender: int, recipients: list[int], body: bytes) -> None:
        """One ciphertext to one or several devices (repeats allowed: stored once each)."""
        envelope = self._envelope(self.devices[sender].address, body)
        self.run(
            self.stores.queues.enqueue(envelope, [self.devices[i].address for i in recipients])
        )
        self._accepted(envelope, recipients)

    @rule(
        sender=st.integers(0, DEVICES - 1),
        recipients=st.lists(st.integers(0, DEVICES - 1), max_size=3),
        stranger=st.sampled_from(["ghost", "wrong-owner"]),
    )
    def send_to_someone_unknown(self, sender: int, recipients: list[int], stranger: str) -> None:
        """A send naming any device that is not the named account's is refused whole."""
        others = [self.devices[i].address for i in recipients]
        if stranger == "ghost":
            bad = self.ghost
        else:  # a real device, under another account's id
            bad = Address(self.devices[0].address.account_id, self.devices[1].address.device_id)
        envelope = self._envelope(self.devices[sender].address, b"never")
        with pytest.raises(HavenError) as refused:
            self.run(self.stores.queues.enqueue(envelope, [*others, bad]))
        assert refused.value.code is ErrorCode.UNKNOWN_RECIPIENT

    @rule(
        sends=st.lists(
            st.tuples(
                st.integers(0, DEVICES - 1),
                st.lists(st.integers(0, DEVICES - 1), min_size=1, max_size=4),
                st.booleans(),  # with a stranger among the recipients: this one fails alone
            ),
            min_size=2,
            max_size=6,
        )
    )
    def send_concurrently(self, sends: list[tuple[int, list[int], bool]]) -> None:
        """Several sends in flight at once share a transaction (group commit); each still
        succeeds or fails on its own, as if it had been made alone, in submission order."""
        envelopes = [self._envelope(self.devices[s].address, b"together") for s, _, _ in sends]

        async def all_at_once() -> list[BaseException | None]:
            results = await asyncio.gather(
                *(
                    self.stores.queues.enqueue(
                        envelope,
                        [self.devices[i].address for i in recipients]
                        + ([self.ghost] if with_stranger else []),
                    )
                    for envelope, (_, recipients, with_stranger) in zip(
                        envelopes, sends, strict=True
                    )
                ),
                return_exceptions=True,
            )
            return list(results)

        outcomes = self.run(all_at_once())
        for envelope, (_, recipients, with_stranger), outcome in zip(
            envelopes, sends, outcomes, strict=True
        ):
            if with_stranger:
                assert isinstance(outcome, HavenError), outcome
                assert outcome.code is ErrorCode.UNKNOWN_RECIPIENT
            else:
                assert outcome is None, outcome
                self._accepted(envelope, recipients)

    # -- fetches --------------------------------------------------------------------------

    def _check_batch(self, got: list[QueuedEnvelope], expected: list[str]) -> None:
        assert [q.envelope_id for q in got] == expected
        for queued in got:
            assert (queued.ciphertext, queued.sender) == self.bodies[queued.envelope_id]

    @staticmethod
    def _delivered(model: DeviceModel, got: list[QueuedEnvelope]) -> None:
        for queued in got:
            model.delivered.append(queued.envelope_id)
            # As the stream does: the cursor only moves forward, whichever read found it.
            if queued.seq > model.cursor_seq:
                model.cursor_seq = queued.seq
                model.cursor_index = model.log.index(queued.envelope_id)

    @rule(device=st.integers(0, DEVICES - 1), limit=st.integers(1, 5))
    def fetch(self, device: int, limit: int) -> None:
        """What a push loop does: the next envelopes after the last one it delivered."""
        model = self.devices[device]
        got = self.run(
            self.stores.queues.pending(
                model.address.device_id, limit, clock.now_ms(), after_seq=model.cursor_seq
            )
        )
        later = model.log[model.cursor_index + 1 :]
        expected = [e for e in later if e not in model.acked][:limit]
        self._check_batch(got, expected)
        self._delivered(model, got)

    @rule(device=st.integers(0, DEVICES - 1), limit=st.integers(1, 5))
    def rescan(self, device: int, limit: int) -> None:
        """What a push loop does now and then: the queue from its head, minus in flight."""
        model = self.devices[device]
        in_flight = frozenset(model.in_flight())
        got = self.run(
            self.stores.queues.pending(
                model.address.device_id, limit, clock.now_ms(), exclude=in_flight
            )
        )
        expected = [e for e in model.unacked() if e not in in_flight][:limit]
        self._check_batch(got, expected)
        self._delivered(model, got)

    @rule(device=st.integers(0, DEVICES - 1))
    def reconnect(self, device: int) -> None:
        """The connection drops: the client starts again from the head of its queue."""
        self.devices[device].reconnect()

    # -- acks -----------------------------------------------------------------------------

    @precondition(lambda self: any(d.in_flight() for d in self.devices))
    @rule(data=st.data())
    def ack(self, data: st.DataObject) -> None:
        """Acknowledge some or all of what was delivered and not yet acknowledged."""
        candidates = [d for d in self.devices if d.in_flight()]
        model = data.draw(st.sampled_from(candidates))
        in_flight = model.in_flight()
        chosen = data.draw(
            st.one_of(
                st.just(in_flight),
                st.lists(st.sampled_from(in_flight), min_size=1, max_size=len(in_flight)),
            )
        )
        acked = self.run(self.stores.queues.ack(model.address.device_id, chosen))
        assert acked == len(set(chosen))
        model.acked.update(chosen)

    @precondition(lambda self: any(d.log for d in self.devices))
    @rule(data=st.data())
    def ack_what_is_not_waiting(self, data: st.DataObject) -> None:
        """An ack naming anything not waiting for this device (acked already, another
        device's, never sent) is refused and changes nothing."""
        device = data.draw(st.sampled_from(self.devices))
        everything_sent = sorted(self.bodies)
        not_waiting = [e for e in everything_sent if e not in device.unacked()]
        bad = data.draw(st.sampled_from([*not_waiting, ids.new_id()]))
        good = (
            data.draw(st.lists(st.sampled_from(device.unacked()), max_size=2))
            if (device.unacked())
            else []
        )
        with pytest.raises(HavenError) as refused:
            self.run(self.stores.queues.ack(device.address.device_id, [*good, bad]))
        assert refused.value.code is ErrorCode.UNKNOWN_ENVELOPE
        assert refused.value.details == {"unknown": [bad]}

    @precondition(lambda self: any(len(d.in_flight()) >= 2 for d in self.devices))
    @rule(data=st.data())
    def ack_concurrently(self, data: st.DataObject) -> None:
        """Two acks in flight at once, possibly naming the same envelope: the first one
        submitted takes it; the second then names something no longer waiting and changes
        nothing."""
        model = data.draw(st.sampled_from([d for d in self.devices if len(d.in_flight()) >= 2]))
        in_flight = model.in_flight()
        first = data.draw(st.lists(st.sampled_from(in_flight), min_size=1, max_size=3))
        second = data.draw(st.lists(st.sampled_from(in_flight), min_size=1, max_size=3))
        device_id = model.address.device_id

        async def both() -> list[int | BaseException]:
            return list(
                await asyncio.gather(
                    self.stores.queues.ack(device_id, first),
                    self.stores.queues.ack(device_id, second),
                    return_exceptions=True,
                )
            )

        one, two = self.run(both())
        assert one == len(set(first))
        model.acked.update(first)
        if set(second) & set(first):
            assert isinstance(two, HavenError), two
            assert two.code is ErrorCode.UNKNOWN_ENVELOPE
        else:
            assert two == len(set(second))
            model.acked.update(second)

    # -- restarts -------------------------------------------------------------------------

    @rule()
    def restart(self) -> None:
        """The server process goes away and comes back: a fresh event loop, the database
        closed and reopened from the same file (or PostgreSQL database). Every client
        reconnects."""
        self.run(self.stores.db.close())
        self.runner.close()
        self.runner = asyncio.Runner()
        self.stores = self.run(open_stores(self.url))
        self.restarts += 1
        for device in self.devices:
            device.reconnect()

    # -- the promise ----------------------------------------------------------------------

    @invariant()
    def every_unacked_envelope_is_delivered_and_nothing_else(self) -> None:
        now = clock.now_ms()
        for model in self.devices:
            got = self.run(self.stores.queues.pending(model.address.device_id, EVERYTHING, now))
            self._check_batch(got, model.unacked())


def _bound(next_url: Callable[[], str]) -> type[QueueMachine]:
    """The machine class Hypothesis instantiates once per example, on a database of its own."""

    class Bound(QueueMachine):
        def __init__(self) -> None:
            super().__init__(next_url())

    return Bound


def test_queue_store_keeps_its_promise_on_sqlite(tmp_path: Path) -> None:
    numbers = itertools.count()
    # A new database file for every example: the machine starts from nothing each time.
    machine = _bound(lambda: f"sqlite:///{tmp_path / f'queues-{next(numbers)}.sqlite3'}")
    run_state_machine_as_test(machine, settings=SQLITE_SETTINGS)


@pytest.mark.postgres
def test_queue_store_keeps_its_promise_on_postgresql(pg_url: str) -> None:
    # One database for the session; fresh_stores empties its tables for every example.
    run_state_machine_as_test(_bound(lambda: pg_url), settings=POSTGRES_SETTINGS)
