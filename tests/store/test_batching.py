from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from haven.core import ids
from haven.core.errors import ErrorCode, HavenError
from haven.store.batching import Batcher
from haven.store.stores import Stores
from tests.store.test_queues import device, envelope

pytestmark = pytest.mark.anyio


async def test_concurrent_calls_share_a_flush_and_each_gets_its_own_outcome() -> None:
    batches: list[list[int]] = []

    async def flush(items: Sequence[int]) -> list[int | BaseException]:
        batches.append(list(items))
        await asyncio.sleep(0)
        return [ValueError(i) if i == 3 else i * 10 for i in items]

    batcher: Batcher[int, int] = Batcher(flush)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(6)), return_exceptions=True)
    assert results[:3] == [0, 10, 20]
    assert isinstance(results[3], ValueError)
    assert results[4:] == [40, 50]
    assert sum(len(b) for b in batches) == 6
    assert len(batches) < 6  # calls waiting together were written together


async def test_a_failing_flush_fails_every_caller_in_it() -> None:
    async def flush(items: Sequence[int]) -> list[int | BaseException]:
        raise OSError("disk full")

    batcher: Batcher[int, int] = Batcher(flush)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(3)), return_exceptions=True)
    assert all(isinstance(r, OSError) for r in results)
    with pytest.raises(OSError, match="disk full"):
        await batcher.submit(9)  # and the batcher keeps working for later calls


async def test_batched_sends_fail_alone_and_keep_order(stores: Stores) -> None:
    alice, bob = await device(stores), await device(stores)
    from haven.store.interfaces import Address

    ghost = Address(ids.new_id(), ids.new_id())
    sends = [envelope(alice, bytes([i])) for i in range(20)]
    outcomes = await asyncio.gather(
        *(stores.queues.enqueue(e, [ghost] if i == 7 else [bob]) for i, e in enumerate(sends)),
        return_exceptions=True,
    )
    assert isinstance(outcomes[7], HavenError)
    assert outcomes[7].code is ErrorCode.UNKNOWN_RECIPIENT
    assert all(o is None for i, o in enumerate(outcomes) if i != 7)
    from haven.core import clock

    pending = await stores.queues.pending(bob.device_id, 100, clock.now_ms())
    assert [p.envelope_id for p in pending] == [
        e.envelope_id for i, e in enumerate(sends) if i != 7
    ]


async def test_batched_acks_fail_alone(stores: Stores) -> None:
    from haven.core import clock

    alice = await device(stores)
    readers = [await device(stores) for _ in range(5)]
    sent = envelope(alice)
    await stores.queues.enqueue(sent, readers)
    stranger = envelope(alice)
    await stores.queues.enqueue(stranger, [readers[0]])
    outcomes = await asyncio.gather(
        *(stores.queues.ack(r.device_id, [sent.envelope_id]) for r in readers[:4]),
        stores.queues.ack(readers[4].device_id, [sent.envelope_id, stranger.envelope_id]),
        return_exceptions=True,
    )
    assert outcomes[:4] == [1, 1, 1, 1]
    assert isinstance(outcomes[4], HavenError)
    assert outcomes[4].details == {"unknown": [stranger.envelope_id]}
    now = clock.now_ms()
    assert [e.envelope_id for e in await stores.queues.pending(readers[4].device_id, 9, now)] == [
        sent.envelope_id
    ]
    assert [e.envelope_id for e in await stores.queues.pending(readers[0].device_id, 9, now)] == [
        stranger.envelope_id
    ]
