from __future__ import annotations

import asyncio

import pytest

from haven.core import ids
from haven.server.credentials import CredentialCache
from haven.store.interfaces import DeviceRecord, Identity

pytestmark = pytest.mark.anyio


class CountingAccounts:
    """Just enough of AccountStore for the cache: counts reads, can hold a read open."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[DeviceRecord, bytes]] = {}
        self.reads = 0
        self.gate: asyncio.Event | None = None

    def add(self) -> str:
        device_id = ids.new_id()
        record = DeviceRecord(ids.new_id(), device_id, Identity("c", "e"), 0)
        self.rows[device_id] = (record, b"digest")
        return device_id

    async def credentials(self, device_id: str) -> tuple[DeviceRecord, bytes] | None:
        self.reads += 1
        found = self.rows.get(device_id)
        if self.gate is not None:
            await self.gate.wait()
        return found


async def test_repeated_lookups_read_the_store_once() -> None:
    store = CountingAccounts()
    device = store.add()
    cache = CredentialCache(store)  # type: ignore[arg-type]
    for _ in range(5):
        found = await cache.get(device)
        assert found is not None
        assert found[0].device_id == device
    assert store.reads == 1


async def test_eviction_forces_a_fresh_read() -> None:
    store = CountingAccounts()
    device = store.add()
    cache = CredentialCache(store)  # type: ignore[arg-type]
    await cache.get(device)
    del store.rows[device]
    cache.evict(device)
    assert await cache.get(device) is None


async def test_expired_entries_are_read_again() -> None:
    store = CountingAccounts()
    device = store.add()
    cache = CredentialCache(store, seconds=0.0)  # type: ignore[arg-type]
    await cache.get(device)
    await cache.get(device)
    assert store.reads == 2


async def test_a_read_racing_a_removal_is_not_kept() -> None:
    store = CountingAccounts()
    device = store.add()
    cache = CredentialCache(store)  # type: ignore[arg-type]
    store.gate = asyncio.Event()
    reading = asyncio.create_task(cache.get(device))
    await asyncio.sleep(0)
    del store.rows[device]
    cache.evict(device)  # the device was removed while the read was in flight
    store.gate.set()
    assert await reading is not None  # that request began before the removal
    store.gate = None
    assert await cache.get(device) is None  # but the stale row was not cached


async def test_cache_is_bounded() -> None:
    store = CountingAccounts()
    devices = [store.add() for _ in range(5)]
    cache = CredentialCache(store, max_devices=3)  # type: ignore[arg-type]
    for device in devices:
        await cache.get(device)
    store.reads = 0
    await cache.get(devices[0])
    assert store.reads == 1  # the oldest was dropped
