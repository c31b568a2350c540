"""Wake-ups for connected devices: "something new is queued for you" and "you were removed".

The queue in the database is the truth; the bus only says when to look. A lost wake-up costs
latency, never a message: every listener also re-checks the queue on a timer. With Redis,
wake-ups cross server processes (pub/sub, one channel per device); without it they stay in
this process, which is all the embedded single-process set-up needs.

Envelopes this process has just queued are also *handed* to its own listeners (`hand`, called
by the queue store after each commit, in queue order), so a connection can push them
without reading them back from the database. A listener trusts its handed envelopes only
while it has heard of nothing else: any plain wake-up (another process, a reconnect, a
handed list that grew too long) sends it back to the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Literal

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from haven.store.interfaces import QueuedEnvelope

log = logging.getLogger(__name__)

_CHANNEL_PREFIX = "haven:dev:"
_BUS_CHANNEL = "haven:bus"
_WAKE = b"w"
_REVOKE = b"r"

READY_WAIT_SECONDS = 2.0
# Handed envelopes one listener keeps between two looks; past that it reads the queue.
MAX_HANDED = 256

BusStatus = Literal["local", "ok", "down"]


class Listener:
    """One connection's interest in one device's queue."""

    def __init__(self, device_id: str) -> None:
        self.device_id = device_id
        self.revoked = False
        self._event = asyncio.Event()
        self._handed: list[QueuedEnvelope] = []
        self._complete = False  # the first look always reads the queue

    def wake(self) -> None:
        """Something may be queued that was not handed: the next look reads the queue."""
        self._complete = False
        self._handed.clear()
        self._event.set()

    def hand(self, envelope: QueuedEnvelope) -> None:
        """`envelope` was just queued for this device by this process."""
        if self._complete and len(self._handed) < MAX_HANDED:
            self._handed.append(envelope)
        else:
            self._complete = False
            self._handed.clear()
        self._event.set()

    def take(self) -> list[QueuedEnvelope] | None:
        """Everything this process queued for the device since the last `take`, in queue
        order (maybe nothing), when nothing else may have been queued meanwhile; None when
        the caller must read the queue. From here on, handed envelopes are collected again."""
        handed = self._handed if self._complete else None
        self._handed = []
        self._complete = True
        return handed

    def forget(self) -> None:
        """The caller could not use everything `take` gave: the next look reads the queue."""
        self._complete = False
        self._handed.clear()

    def revoke(self) -> None:
        self.revoked = True
        self._event.set()

    def clear(self) -> None:
        """Call before looking at the queue, so a wake-up during the look is not lost."""
        self._event.clear()

    async def wait(self, seconds: float) -> None:
        """Until woken, or `seconds` pass (callers then re-check the queue anyway)."""
        if self._event.is_set():
            return
        # asyncio.timeout, not wait_for: every idle stream times out here each poll
        # interval, and wait_for makes (and cancels) a task each time.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._event.wait()


class LocalBus:
    """In-process wake-ups."""

    def __init__(self) -> None:
        self._listeners: defaultdict[str, set[Listener]] = defaultdict(set)
        self._revocation_hooks: list[Callable[[str], None]] = []

    def on_revoke(self, hook: Callable[[str], None]) -> None:
        """Call `hook(device_id)` whenever a device is revoked, in any process."""
        self._revocation_hooks.append(hook)

    @property
    def status(self) -> BusStatus:
        return "local"

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    @contextlib.contextmanager
    def listen(self, device_id: str) -> Iterator[Listener]:
        listener = Listener(device_id)
        self._listeners[device_id].add(listener)
        self._on_first_listener(device_id, len(self._listeners[device_id]) == 1)
        try:
            yield listener
        finally:
            remaining = self._listeners[device_id]
            remaining.discard(listener)
            if not remaining:
                del self._listeners[device_id]
                self._on_last_listener_gone(device_id)

    async def ready(self, device_id: str, within: float = READY_WAIT_SECONDS) -> bool:
        """Wait until wake-ups for a listened-to device arrive from every process (bounded:
        if the bus is down, the caller polls instead). In one process they always do."""
        return True

    def listening(self) -> int:
        return sum(len(s) for s in self._listeners.values())

    def hand(self, queued: Sequence[tuple[str, QueuedEnvelope]]) -> None:
        """Give envelopes this process just queued to its listeners for their devices (the
        queue store's `on_queued` hook). Other processes still need a `wake(handed=True)`."""
        for device_id, envelope in queued:
            for listener in self._listeners.get(device_id, ()):
                listener.hand(envelope)

    async def wake(self, device_ids: Iterable[str], *, handed: bool = False) -> None:
        """Tell listeners of these devices to look at their queues; `handed`: what is new
        was handed to this process's listeners already, so only other processes need it."""
        if not handed:
            self._deliver(device_ids, _WAKE)

    async def revoke(self, device_ids: Iterable[str]) -> None:
        self._deliver(device_ids, _REVOKE)

    def _deliver(self, device_ids: Iterable[str], what: bytes) -> None:
        for device_id in device_ids:
            if what == _REVOKE:
                for hook in self._revocation_hooks:
                    hook(device_id)
            for listener in self._listeners.get(device_id, ()):
                if what == _REVOKE:
                    listener.revoke()
                else:
                    listener.wake()

    def _on_first_listener(self, device_id: str, first: bool) -> None:
        return None

    def _on_last_listener_gone(self, device_id: str) -> None:
        return None


class RedisBus(LocalBus):
    """Wake-ups across server processes through Redis pub/sub."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._redis = aioredis.Redis.from_url(url)
        self._pubsub = self._redis.pubsub()
        self._task: asyncio.Task[None] | None = None
        self._healthy = False
        self._changes: asyncio.Queue[tuple[bool, str]] = asyncio.Queue()
        self._confirmed: dict[str, asyncio.Event] = {}
        self._closing = False
        # Signs this process's wake-ups, so it can skip its own when Redis echoes them back
        # (its listeners were woken, or handed the envelopes, directly).
        self._own_wake = _WAKE + os.urandom(8).hex().encode()

    @property
    def status(self) -> BusStatus:
        """Whether this process is subscribed: wake-ups from other processes reach it."""
        return "ok" if self._healthy else "down"

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="haven-redis-bus")

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(RedisError, OSError):
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._redis.aclose()

    def _check_stop(self) -> None:
        """End the subscriber task if it was cancelled or the bus is closing.

        redis-py can swallow a cancellation that lands while it connects or reads a reply
        (redis/redis-py#2028, #2551); the loops below would then run forever and `close()`
        (server shutdown) would hang. So they also check for a pending cancel themselves."""
        task = asyncio.current_task()
        if self._closing or (task is not None and task.cancelling() > 0):
            raise asyncio.CancelledError

    async def ready(self, device_id: str, within: float = READY_WAIT_SECONDS) -> bool:
        confirmed = self._confirmed.get(device_id)
        if confirmed is None:
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(confirmed.wait(), within)
        return confirmed.is_set()

    async def wake(self, device_ids: Iterable[str], *, handed: bool = False) -> None:
        await self._publish(list(device_ids), _WAKE, local=not handed)

    async def revoke(self, device_ids: Iterable[str]) -> None:
        await self._publish(list(device_ids), _REVOKE)

    async def _publish(self, device_ids: list[str], what: bytes, local: bool = True) -> None:
        # Local listeners first: they must not wait on (or for) Redis.
        if local:
            self._deliver(device_ids, what)
        if not device_ids:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for device_id in device_ids:
                    if what == _REVOKE:
                        # Every process must hear it (cached credentials), not only those
                        # holding a stream for the device: so the shared channel.
                        pipe.publish(_BUS_CHANNEL, _REVOKE + device_id.encode())
                    else:
                        pipe.publish(_CHANNEL_PREFIX + device_id, self._own_wake)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            # The envelope is already stored; remote listeners find it on their next poll.
            # The status is left to the subscriber, which sees a dead Redis for itself and
            # sees it come back: a publish on a stale pooled connection just after Redis
            # returned used to mark the bus down for good while it was working.
            log.warning("redis publish failed, remote devices will poll: %s", exc)

    def _on_first_listener(self, device_id: str, first: bool) -> None:
        if first:
            self._confirmed[device_id] = asyncio.Event()
            self._changes.put_nowait((True, device_id))

    def _on_last_listener_gone(self, device_id: str) -> None:
        self._confirmed.pop(device_id, None)
        self._changes.put_nowait((False, device_id))

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            self._check_stop()
            try:
                await self._serve()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                if self._healthy:
                    backoff = 0.1
                self._healthy = False
                for confirmed in self._confirmed.values():
                    confirmed.clear()
                log.warning("redis bus lost (%s); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.aclose()  # type: ignore[no-untyped-call]
                self._pubsub = self._redis.pubsub()

    async def _serve(self) -> None:
        # (Re)subscribe to everything this process listens for. The bus channel carries
        # revocations to every process (and keeps the connection subscribed when idle).
        await self._pubsub.subscribe(_BUS_CHANNEL, *(_CHANNEL_PREFIX + d for d in self._listeners))
        self._healthy = True
        # Wake-ups may have been missed while disconnected: everyone re-checks their queue.
        self._deliver(list(self._listeners), _WAKE)
        while True:
            self._check_stop()
            while not self._changes.empty():
                add, device_id = self._changes.get_nowait()
                channel = _CHANNEL_PREFIX + device_id
                if add:
                    await self._pubsub.subscribe(channel)
                elif device_id not in self._listeners:
                    await self._pubsub.unsubscribe(channel)
            message = await self._pubsub.get_message(timeout=0.05)
            if message is None:
                continue
            channel_name = bytes(message["channel"]).decode()
            if channel_name == _BUS_CHANNEL and message["type"] == "message":
                data = bytes(message["data"])
                if data.startswith(_REVOKE):
                    self._deliver([data[len(_REVOKE) :].decode()], _REVOKE)
                continue
            if not channel_name.startswith(_CHANNEL_PREFIX):
                continue
            device_id = channel_name.removeprefix(_CHANNEL_PREFIX)
            if message["type"] == "message":
                data = bytes(message["data"])
                if data != self._own_wake:
                    self._deliver([device_id], data)
            elif message["type"] == "subscribe" and device_id in self._confirmed:
                self._confirmed[device_id].set()
