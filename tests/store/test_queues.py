from __future__ import annotations

import pytest

from haven.core import clock, ids
from haven.core.errors import ErrorCode, HavenError
from haven.store.interfaces import Address, NewEnvelope, QueuedEnvelope
from haven.store.stores import Stores
from tests.store.test_accounts import register

pytestmark = pytest.mark.anyio


def envelope(sender: Address, body: bytes = b"ct", ttl_ms: int = 60_000) -> NewEnvelope:
    now = clock.now_ms()
    return NewEnvelope(ids.new_id(), sender, "olm", body, now, now + ttl_ms)


async def device(stores: Stores) -> Address:
    account, device_id, _ = await register(stores)
    return Address(account, device_id)


async def test_group_message_stored_once_queued_per_device(stores: Stores) -> None:
    alice, bob, carol = await device(stores), await device(stores), await device(stores)
    sent = envelope(alice, b"hello group")
    await stores.queues.enqueue(sent, [bob, carol, bob])
    now = clock.now_ms()
    for who in (bob, carol):
        [got] = await stores.queues.pending(who.device_id, 10, now)
        assert (got.envelope_id, got.ciphertext, got.sender) == (
            sent.envelope_id,
            b"hello group",
            alice,
        )
    assert await stores.queues.pending(alice.device_id, 10, now) == []


async def test_one_unknown_recipient_refuses_the_whole_send(stores: Stores) -> None:
    alice, bob = await device(stores), await device(stores)
    ghost = Address(ids.new_id(), ids.new_id())
    wrong_owner = Address(alice.account_id, bob.device_id)
    for bad in (ghost, wrong_owner):
        with pytest.raises(HavenError) as raised:
            await stores.queues.enqueue(envelope(alice), [bob, bad])
        assert raised.value.code is ErrorCode.UNKNOWN_RECIPIENT
        assert raised.value.details["unknown"] == [
            {"account_id": bad.account_id, "device_id": bad.device_id}
        ]
    assert await stores.queues.pending(bob.device_id, 10, clock.now_ms()) == []


async def test_pending_keeps_send_order_until_acked(stores: Stores) -> None:
    alice, bob = await device(stores), await device(stores)
    sent = [envelope(alice, bytes([i])) for i in range(5)]
    for e in sent:
        await stores.queues.enqueue(e, [bob])
    now = clock.now_ms()
    first = await stores.queues.pending(bob.device_id, 3, now)
    assert [e.envelope_id for e in first] == [e.envelope_id for e in sent[:3]]
    skipping = await stores.queues.pending(
        bob.device_id, 10, now, exclude=frozenset(e.envelope_id for e in first)
    )
    assert [e.envelope_id for e in skipping] == [e.envelope_id for e in sent[3:]]
    assert await stores.queues.ack(bob.device_id, [sent[0].envelope_id, sent[1].envelope_id]) == 2
    rest = await stores.queues.pending(bob.device_id, 10, now)
    assert [e.envelope_id for e in rest] == [e.envelope_id for e in sent[2:]]


async def test_ack_of_someone_elses_envelope_changes_nothing(stores: Stores) -> None:
    alice, bob, mallory = await device(stores), await device(stores), await device(stores)
    mine, theirs = envelope(alice), envelope(alice)
    await stores.queues.enqueue(mine, [mallory])
    await stores.queues.enqueue(theirs, [bob])
    with pytest.raises(HavenError) as raised:
        await stores.queues.ack(mallory.device_id, [mine.envelope_id, theirs.envelope_id])
    assert raised.value.code is ErrorCode.UNKNOWN_ENVELOPE
    assert raised.value.details == {"unknown": [theirs.envelope_id]}
    now = clock.now_ms()
    assert len(await stores.queues.pending(mallory.device_id, 10, now)) == 1
    assert len(await stores.queues.pending(bob.device_id, 10, now)) == 1


async def test_ciphertext_is_dropped_once_every_recipient_acked(stores: Stores) -> None:
    alice, bob, carol = await device(stores), await device(stores), await device(stores)
    sent = envelope(alice)
    await stores.queues.enqueue(sent, [bob, carol])
    await stores.queues.ack(bob.device_id, [sent.envelope_id])
    [still] = await stores.queues.pending(carol.device_id, 10, clock.now_ms())
    assert still.envelope_id == sent.envelope_id
    await stores.queues.ack(carol.device_id, [sent.envelope_id])
    from sqlalchemy import func, select

    from haven.store.tables import envelopes

    left = await stores.db.run(
        lambda conn: conn.scalar(select(func.count()).select_from(envelopes))
    )
    assert left == 0


async def test_expired_envelopes_are_not_delivered_and_are_purged(stores: Stores) -> None:
    alice, bob = await device(stores), await device(stores)
    old = envelope(alice, ttl_ms=-1)
    fresh = envelope(alice)
    await stores.queues.enqueue(old, [bob])
    await stores.queues.enqueue(fresh, [bob])
    now = clock.now_ms()
    assert [e.envelope_id for e in await stores.queues.pending(bob.device_id, 10, now)] == [
        fresh.envelope_id
    ]
    assert await stores.queues.purge_expired(now) == 1


async def test_removing_a_device_drops_its_queue(stores: Stores) -> None:
    alice, bob = await device(stores), await device(stores)
    await stores.queues.enqueue(envelope(alice), [bob])
    assert await stores.accounts.delete_device(bob.account_id, bob.device_id)
    assert await stores.queues.pending(bob.device_id, 10, clock.now_ms()) == []


async def test_pending_after_a_position_skips_what_came_before(stores: Stores) -> None:
    alice, bob = await device(stores), await device(stores)
    sent = [envelope(alice, bytes([i])) for i in range(4)]
    for e in sent:
        await stores.queues.enqueue(e, [bob])
    now = clock.now_ms()
    first_two = await stores.queues.pending(bob.device_id, 2, now)
    later = await stores.queues.pending(bob.device_id, 10, now, after_seq=first_two[-1].seq)
    assert [e.envelope_id for e in later] == [e.envelope_id for e in sent[2:]]


async def test_what_was_queued_is_announced_after_commit_in_queue_order(stores: Stores) -> None:
    alice, bob, carol = await device(stores), await device(stores), await device(stores)
    heard: list[list[tuple[str, int, str, bytes]]] = []

    def hook(queued: list[tuple[str, QueuedEnvelope]]) -> None:
        heard.append([(d, e.seq, e.envelope_id, e.ciphertext) for d, e in queued])

    stores.queues.on_queued(hook)
    first, second = envelope(alice, b"one"), envelope(alice, b"two")
    await stores.queues.enqueue(first, [bob, carol])
    await stores.queues.enqueue(second, [bob])
    with pytest.raises(HavenError):
        await stores.queues.enqueue(envelope(alice), [Address(ids.new_id(), ids.new_id())])
    announced = [item for batch in heard for item in batch]
    # Exactly what a reader of each queue finds, with the same positions; a refused send
    # is never announced.
    now = clock.now_ms()
    for who in (bob, carol):
        read = [
            (who.device_id, e.seq, e.envelope_id, e.ciphertext)
            for e in await stores.queues.pending(who.device_id, 10, now)
        ]
        assert [a for a in announced if a[0] == who.device_id] == read
    assert [a[1] for a in announced] == sorted(a[1] for a in announced)
    assert len(announced) == 3


async def test_a_device_removed_after_a_send_to_it_is_refused_by_name(stores: Stores) -> None:
    alice, bob, carol = await device(stores), await device(stores), await device(stores)
    await stores.queues.enqueue(envelope(alice), [bob, carol])
    assert await stores.accounts.delete_device(bob.account_id, bob.device_id)
    late = envelope(alice)
    with pytest.raises(HavenError) as raised:
        await stores.queues.enqueue(late, [bob, carol])
    assert raised.value.code is ErrorCode.UNKNOWN_RECIPIENT
    assert raised.value.details["unknown"] == [
        {"account_id": bob.account_id, "device_id": bob.device_id}
    ]
    waiting = await stores.queues.pending(carol.device_id, 10, clock.now_ms())
    assert late.envelope_id not in {e.envelope_id for e in waiting}
    # Sends to the devices that remain still go through.
    await stores.queues.enqueue(late, [carol])
