"""When each device was last seen: written at most once per resolution period per device
(and rounded down to it), so a busy device costs no extra database write per request and
the server keeps no finer trace of when people are online than the security checkup needs.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from haven.core import clock, limits
from haven.store.interfaces import DeviceActivityStore, DeviceRecord

log = logging.getLogger(__name__)
MAX_DEVICES_TRACKED = 100_000


class LastSeen:
    def __init__(self, resolution_seconds: int = limits.LAST_SEEN_RESOLUTION_SECONDS) -> None:
        self._resolution = resolution_seconds
        self._written: OrderedDict[str, int] = OrderedDict()  # device -> period written

    async def touch(self, store: DeviceActivityStore, device: DeviceRecord) -> None:
        resolution_ms = self._resolution * 1000
        period = clock.now_ms() // resolution_ms
        if self._written.get(device.device_id) == period:
            return
        self._written[device.device_id] = period
        self._written.move_to_end(device.device_id)
        if len(self._written) > MAX_DEVICES_TRACKED:
            self._written.popitem(last=False)
        try:
            await store.touch(device.device_id, device.account_id, period * resolution_ms)
        except Exception:  # best effort: a missed "last seen" must never refuse a request
            log.warning("could not record when a device was last seen", exc_info=True)
            self._written.pop(device.device_id, None)
