"""A short-lived in-memory cache of device credentials, so a busy device's every request
does not cost a database read.

Removal of a device evicts it at once in every process (the bus carries the revocation);
the time bound only matters if a revocation is missed while the bus is down.
"""

from __future__ import annotations

from collections import OrderedDict

from haven.core import clock
from haven.store.interfaces import AccountStore, DeviceRecord

CACHE_SECONDS = 30.0
CACHE_MAX_DEVICES = 50_000


class CredentialCache:
    def __init__(
        self,
        accounts: AccountStore,
        seconds: float = CACHE_SECONDS,
        max_devices: int = CACHE_MAX_DEVICES,
    ) -> None:
        self._accounts = accounts
        self._seconds = seconds
        self._max = max_devices
        self._entries: OrderedDict[str, tuple[float, DeviceRecord, bytes]] = OrderedDict()
        self._evictions = 0

    async def get(self, device_id: str) -> tuple[DeviceRecord, bytes] | None:
        now = clock.monotonic()
        entry = self._entries.get(device_id)
        if entry is not None and entry[0] > now:
            self._entries.move_to_end(device_id)
            return entry[1], entry[2]
        evictions = self._evictions
        found = await self._accounts.credentials(device_id)
        if found is None:
            self._entries.pop(device_id, None)
            return None
        if evictions != self._evictions:
            # A removal landed while we read: what we read may predate it; do not keep it.
            return found
        self._entries[device_id] = (now + self._seconds, found[0], found[1])
        self._entries.move_to_end(device_id)
        if len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return found

    def evict(self, device_id: str) -> None:
        self._evictions += 1
        self._entries.pop(device_id, None)
