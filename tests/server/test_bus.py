from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlparse

import psutil
import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from haven.core import ids
from haven.server.bus import _CHANNEL_PREFIX, MAX_HANDED, Listener, LocalBus, RedisBus
from haven.store.interfaces import Address, QueuedEnvelope

pytestmark = pytest.mark.anyio

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


async def woken(listener: Listener, within: float = 0.2) -> bool:
    """Whether the listener is (or becomes, within `within` seconds) woken.

    `Listener.wait` itself returns quietly on timeout, so it is given far longer than `within`:
    only a real wake-up lets it return before the outer bound."""
    try:
        await asyncio.wait_for(listener.wait(3600), within)
    except TimeoutError:
        return False
    return True


async def eventually(check: Callable[[], Awaitable[bool]], attempts: int = 100) -> bool:
    """Retry an async check a bounded number of times (each try is itself bounded)."""
    for _ in range(attempts):
        if await check():
            return True
    return False


# LocalBus


async def test_wake_reaches_every_listener_of_that_device_only() -> None:
    bus = LocalBus()
    target, other = ids.new_id(), ids.new_id()
    with bus.listen(target) as first, bus.listen(target) as second, bus.listen(other) as bystander:
        await bus.wake([target])
        assert await woken(first)
        assert await woken(second)
        assert not await woken(bystander)
        assert not first.revoked


async def test_wake_many_devices_at_once() -> None:
    bus = LocalBus()
    a, b, c = ids.new_id(), ids.new_id(), ids.new_id()
    with bus.listen(a) as la, bus.listen(b) as lb, bus.listen(c) as lc:
        await bus.wake(iter([a, b]))  # any iterable, e.g. a generator of recipients
        assert await woken(la)
        assert await woken(lb)
        assert not await woken(lc)


async def test_revoke_reaches_that_device_only() -> None:
    bus = LocalBus()
    target, other = ids.new_id(), ids.new_id()
    with bus.listen(target) as removed, bus.listen(other) as kept:
        await bus.revoke([target])
        assert removed.revoked
        assert await woken(removed)  # a waiting stream notices at once and closes
        assert not kept.revoked
        assert not await woken(kept)


async def test_revocation_hooks_hear_every_revoke_and_no_wake() -> None:
    bus = LocalBus()
    evicted: list[str] = []
    bus.on_revoke(evicted.append)
    gone, other = ids.new_id(), ids.new_id()
    await bus.wake([other])
    await bus.revoke([gone])  # nobody streams for it: cached credentials must still go
    assert evicted == [gone]


async def test_wake_before_wait_is_not_lost() -> None:
    bus = LocalBus()
    device = ids.new_id()
    with bus.listen(device) as listener:
        listener.clear()  # 1. about to look at the queue
        await bus.wake([device])  # 2. a message arrives while looking
        assert await woken(listener)  # 3. the wait that follows returns at once


async def test_clear_forgets_wake_ups_already_seen() -> None:
    bus = LocalBus()
    device = ids.new_id()
    with bus.listen(device) as listener:
        await bus.wake([device])
        listener.clear()  # the queue is about to be read: that wake-up is covered
        assert not await woken(listener)
        await bus.wake([device])
        assert await woken(listener)


async def test_wait_returns_after_its_timeout_without_a_wake() -> None:
    bus = LocalBus()
    with bus.listen(ids.new_id()) as listener:
        # Returns (no exception) so the caller re-checks the queue on its timer.
        await asyncio.wait_for(listener.wait(0.01), 5)


async def test_listeners_are_removed_when_they_leave() -> None:
    bus = LocalBus()
    device = ids.new_id()
    assert bus.listening() == 0
    with bus.listen(device) as first:
        with bus.listen(device):
            assert bus.listening() == 2
        assert bus.listening() == 1
        await bus.wake([device])
        assert await woken(first)
    assert bus.listening() == 0
    await bus.wake([device])  # nobody listening: a no-op, not an error
    await bus.revoke([device])


async def test_listener_removed_even_when_the_connection_fails() -> None:
    bus = LocalBus()
    device = ids.new_id()
    with pytest.raises(RuntimeError, match="socket gone"), bus.listen(device):
        raise RuntimeError("socket gone")
    assert bus.listening() == 0
    with bus.listen(device) as fresh:
        assert not fresh.revoked
        assert not await woken(fresh)


async def test_local_bus_reports_local_status_and_is_always_ready() -> None:
    bus = LocalBus()
    await bus.start()
    assert bus.status == "local"
    with bus.listen(ids.new_id()) as listener:
        assert await bus.ready(listener.device_id)
    await bus.close()


def queued(seq: int) -> QueuedEnvelope:
    return QueuedEnvelope(seq, ids.new_id(), Address(ids.new_id(), ids.new_id()), "olm", b"ct", 0)


async def test_handed_envelopes_wake_their_device_and_are_taken_in_order() -> None:
    bus = LocalBus()
    target, other = ids.new_id(), ids.new_id()
    with bus.listen(target) as listener, bus.listen(other) as bystander:
        assert listener.take() is None  # a new listener reads its queue first
        first, second = queued(1), queued(2)
        bus.hand([(target, first), (other, queued(3)), (target, second)])
        assert await woken(listener)
        assert listener.take() == [first, second]
        assert listener.take() == []  # nothing new, and nothing unknown either
        assert await woken(bystander)


async def test_a_plain_wake_up_sends_the_listener_back_to_its_queue() -> None:
    bus = LocalBus()
    device = ids.new_id()
    with bus.listen(device) as listener:
        listener.take()
        bus.hand([(device, queued(1))])
        await bus.wake([device])  # e.g. another process queued something
        assert listener.take() is None
        bus.hand([(device, queued(2))])
        assert listener.take() is not None


async def test_wake_for_handed_envelopes_leaves_local_listeners_alone() -> None:
    bus = LocalBus()
    device = ids.new_id()
    with bus.listen(device) as listener:
        listener.take()
        await bus.wake([device], handed=True)
        assert not await woken(listener)
        assert listener.take() == []


async def test_too_many_handed_envelopes_or_a_forget_mean_reading_the_queue() -> None:
    bus = LocalBus()
    device = ids.new_id()
    with bus.listen(device) as listener:
        listener.take()
        bus.hand([(device, queued(i)) for i in range(MAX_HANDED + 1)])
        assert listener.take() is None
        bus.hand([(device, queued(1))])
        listener.forget()
        assert listener.take() is None


# RedisBus against a real Redis


@pytest.fixture
async def two_buses(redis_url: str) -> AsyncIterator[tuple[RedisBus, RedisBus]]:
    """Two buses on one Redis: the wake-up paths of two server processes."""
    a, b = RedisBus(redis_url), RedisBus(redis_url)
    try:
        await a.start()
        await b.start()
        yield a, b
    finally:
        await a.close()
        await b.close()


async def wake_until_delivered(sender: RedisBus, listener: Listener) -> bool:
    """Wake `listener`'s device through `sender` until the receiving bus has subscribed."""

    async def attempt() -> bool:
        await sender.wake([listener.device_id])
        return await woken(listener, within=0.05)

    return await eventually(attempt)


async def test_redis_status_is_ok_after_start(redis_url: str) -> None:
    bus = RedisBus(redis_url)
    try:
        assert bus.status == "down"  # not connected yet
        await bus.start()
        assert await subscribed(bus)
    finally:
        await bus.close()


async def test_wake_published_on_one_bus_reaches_a_listener_on_another(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    a, b = two_buses
    device = ids.new_id()
    with b.listen(device) as remote:
        assert await wake_until_delivered(a, remote)
        assert not remote.revoked
        # Once subscribed, every single wake-up crosses.
        for _ in range(3):
            remote.clear()
            await a.wake([device])
            assert await woken(remote, within=5)
    assert a.status == "ok"
    assert b.status == "ok"


async def test_wake_reaches_local_and_remote_listeners(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    a, b = two_buses
    device = ids.new_id()
    with a.listen(device) as local, b.listen(device) as remote:
        assert await wake_until_delivered(a, remote)
        assert await woken(local)  # delivered in-process before publishing


async def test_handed_wake_reaches_other_processes_but_not_back_to_its_own(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    a, b = two_buses
    device, sentinel = ids.new_id(), ids.new_id()
    with a.listen(device) as local, a.listen(sentinel) as marker, b.listen(device) as remote:
        assert await wake_until_delivered(a, remote)
        assert await wake_until_delivered(b, marker)
        local.take()
        envelope = queued(7)
        a.hand([(device, envelope)])
        remote.clear()
        await a.wake([device], handed=True)
        assert await woken(remote, within=5)
        # Redis delivers to `a` in publish order: once b's later wake-up for the sentinel
        # has arrived, a's own echo has been seen (and must have been skipped).
        marker.clear()
        await b.wake([sentinel])
        assert await woken(marker, within=5)
        assert local.take() == [envelope]


async def test_revoke_crosses_buses(two_buses: tuple[RedisBus, RedisBus]) -> None:
    a, b = two_buses
    device, other = ids.new_id(), ids.new_id()
    with b.listen(device) as removed, b.listen(other) as kept:
        assert await wake_until_delivered(a, removed)
        assert await wake_until_delivered(a, kept)
        removed.clear()
        kept.clear()
        await a.revoke([device])
        assert await woken(removed, within=5)
        assert removed.revoked
        assert not kept.revoked


async def test_revoke_reaches_revocation_hooks_in_every_process(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    a, b = two_buses
    here: list[str] = []
    there: list[str] = []
    a.on_revoke(here.append)
    b.on_revoke(there.append)
    device = ids.new_id()  # nobody listens for it anywhere

    async def heard_there() -> bool:
        await a.revoke([device])
        await asyncio.sleep(0.02)
        return device in there

    assert await eventually(heard_there)
    assert set(here) == {device}  # the revoking process evicts too
    assert set(there) == {device}


async def test_redis_subscription_dropped_when_last_listener_leaves(
    two_buses: tuple[RedisBus, RedisBus], redis_url: str
) -> None:
    a, b = two_buses
    device = ids.new_id()
    channel = _CHANNEL_PREFIX + device
    admin = aioredis.Redis.from_url(redis_url)
    try:

        async def subscribers() -> int:
            [(_, count)] = await admin.pubsub_numsub(channel)
            return int(count)

        with b.listen(device) as remote:
            assert await wake_until_delivered(a, remote)
            assert await subscribers() == 1

        async def unsubscribed() -> bool:
            await asyncio.sleep(0.02)
            return await subscribers() == 0

        assert await eventually(unsubscribed)
    finally:
        await admin.aclose()


async def subscribed(bus: RedisBus) -> bool:
    """Bounded wait for the bus's first subscription (and its start-up wake-all) to be done."""

    async def ok() -> bool:
        await asyncio.sleep(0.02)
        return bus.status == "ok"

    return await eventually(ok)


async def test_ready_means_a_single_wake_crosses(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    a, b = two_buses
    assert await subscribed(a)
    assert await subscribed(b)
    for _ in range(3):  # each device subscribes while the bus is already running
        device = ids.new_id()
        with b.listen(device) as remote:
            assert await b.ready(device, within=5)
            remote.clear()
            await a.wake([device])  # one wake-up, no retrying: nothing may be lost once ready
            assert await woken(remote, within=5)


async def test_ready_is_false_for_a_device_nobody_listens_for(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    _, b = two_buses
    assert not await b.ready(ids.new_id(), within=0.1)
    with b.listen(ids.new_id()) as listener:
        assert await b.ready(listener.device_id, within=5)
    assert not await b.ready(listener.device_id, within=0.1)  # gone with its last listener


async def test_ready_again_after_the_last_listener_left_and_a_new_one_came(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    a, b = two_buses
    device = ids.new_id()
    with b.listen(device):
        assert await b.ready(device, within=5)
    with b.listen(device) as again:
        assert await b.ready(device, within=5)
        again.clear()
        await a.wake([device])
        assert await woken(again, within=5)


async def kill_own_pubsub_connections(redis_url: str) -> int:
    """Drop this process's pub/sub connections at the Redis server, as a Redis restart would."""
    redis_port = urlparse(redis_url).port or 6379
    own_ports = {
        conn.laddr.port
        for conn in psutil.Process().net_connections(kind="tcp")
        if conn.raddr and conn.raddr.port == redis_port
    }
    admin = aioredis.Redis.from_url(redis_url, decode_responses=True)
    killed = 0
    try:
        for client in await admin.client_list():
            port = int(client["addr"].rsplit(":", 1)[1])
            if port in own_ports and int(client.get("sub", 0)) > 0:
                await admin.client_kill_filter(_id=client["id"])
                killed += 1
    finally:
        await admin.aclose()
    return killed


async def test_bus_recovers_after_losing_its_redis_connection(
    two_buses: tuple[RedisBus, RedisBus], redis_url: str
) -> None:
    a, b = two_buses
    device = ids.new_id()
    with b.listen(device) as remote:
        assert await wake_until_delivered(a, remote)
        remote.clear()
        assert await kill_own_pubsub_connections(redis_url) >= 2
        # Wake-ups may have been missed while disconnected: everyone re-checks their queue.
        assert await woken(remote, within=5)
        remote.clear()
        assert await b.ready(device, within=5)  # resubscribed
        await a.wake([device])
        assert await woken(remote, within=5)
    assert b.status == "ok"


# Cancel the subscriber task at each step of its connect/subscribe handshake. redis-py can
# swallow a cancellation there; the bus must still stop, or server shutdown hangs forever.
# A subprocess, because a task that ignores cancellation would also hang this test runner.
_CLOSE_DURING_STARTUP = textwrap.dedent(
    """
    import asyncio, os, sys
    from haven.server.bus import RedisBus

    async def main(url):
        hung = []
        for steps in range(40):
            bus = RedisBus(url)
            await bus.start()
            for _ in range(steps):
                await asyncio.sleep(0)
            try:
                await asyncio.wait_for(asyncio.shield(bus.close()), 5)
            except TimeoutError:
                hung.append(steps)
        print("hung after steps:", hung, flush=True)
        os._exit(1 if hung else 0)  # hung tasks cannot be stopped: leave without them

    asyncio.run(main(sys.argv[1]))
    """
)


def test_close_never_hangs_even_during_the_redis_handshake(redis_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _CLOSE_DURING_STARTUP, redis_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hung after steps: []" in result.stdout


async def test_a_failed_publish_does_not_report_a_working_bus_down(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Just after Redis comes back, a publish can still meet a pooled connection to the
    Redis that died. The subscriber is connected again: the bus must not stay "down"."""
    bus = RedisBus(redis_url)
    try:
        await bus.start()
        assert await subscribed(bus)

        def stale_connection(*args: object, **kwargs: object) -> None:
            raise RedisConnectionError("Connection closed by server.")

        device = ids.new_id()
        with bus.listen(device) as listener:
            monkeypatch.setattr(bus._redis, "pipeline", stale_connection)
            await bus.wake([device])  # must not raise: the envelope is already stored
            assert await woken(listener)
            monkeypatch.undo()
        for _ in range(5):  # and it stays so
            assert bus.status == "ok"
            await asyncio.sleep(0.02)
    finally:
        await bus.close()


async def test_unreachable_redis_still_wakes_local_listeners() -> None:
    bus = RedisBus(UNREACHABLE_REDIS)
    try:
        await bus.start()
        device, other = ids.new_id(), ids.new_id()
        evicted: list[str] = []
        bus.on_revoke(evicted.append)
        with bus.listen(device) as listener, bus.listen(other) as revoked:
            await bus.wake([device])  # must not raise: the envelope is already stored
            assert await woken(listener)
            await bus.revoke([other])
            assert revoked.revoked
            assert await woken(revoked)
            assert evicted == [other]
            assert bus.status == "down"  # /health shows the bus as down
            # Bounded: a stream does not hang on a dead bus, it falls back to polling.
            assert not await bus.ready(device, within=0.1)
    finally:
        await bus.close()
