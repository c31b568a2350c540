"""Server side of list updates: from the version a client holds to the current one, as
Rice-coded additions and removal indices plus the checksum of the result; a full reset
when the client holds nothing, something unknown, or so old a reset is smaller."""

from __future__ import annotations

import asyncio
from array import array
from collections import OrderedDict

from haven.core import b64, limits, wire
from haven.linkguard import rice
from haven.linkguard.building import ensure_current
from haven.linkguard.prefixes import prefix_checksum
from haven.store.stores import Stores


def rice_wire(deltas: rice.RiceDeltas) -> wire.RiceList:
    return wire.RiceList(
        first_value=deltas.first_value,
        rice_parameter=deltas.rice_parameter,
        entry_count=deltas.entry_count,
        encoded_data=b64.encode(deltas.encoded_data),
    )


def _size(update: wire.LinkListUpdate) -> int:
    return len(update.additions.encoded_data) + len(update.removals.encoded_data)


class ListUpdates:
    """Keeps the sorted prefix lists of the last few versions (4 bytes an entry) so that a
    burst of clients updating from the same versions costs one database read each."""

    def __init__(self, stores: Stores) -> None:
        self._stores = stores
        self._lists: OrderedDict[int, array[int]] = OrderedDict()
        self._building = asyncio.Lock()

    async def update_for(self, held: int) -> wire.LinkListUpdate:
        async with self._building:  # one rebuild at a time in this process
            current = await ensure_current(self._stores)
        new = await self._prefixes(current.version)
        checksum = b64.encode(prefix_checksum(new))
        reset = wire.LinkListUpdate(
            version=current.version,
            reset=True,
            additions=rice_wire(rice.encode(new)),
            removals=rice_wire(rice.encode([])),
            checksum=checksum,
            entries=len(new),
        )
        if held == current.version:
            return reset.model_copy(
                update={"reset": False, "additions": reset.removals, "removals": reset.removals}
            )
        if not 0 < held < current.version:
            return reset  # nothing held, or a version this server never made
        change = rice.diff(await self._prefixes(held), new)
        update = wire.LinkListUpdate(
            version=current.version,
            reset=False,
            additions=rice_wire(change.additions),
            removals=rice_wire(change.removals),
            checksum=checksum,
            entries=len(new),
        )
        return update if _size(update) < _size(reset) else reset

    async def _prefixes(self, version: int) -> array[int]:
        cached = self._lists.get(version)
        if cached is not None:
            self._lists.move_to_end(version)
            return cached
        found = array("I", await self._stores.linkguard.prefixes_at(version))
        self._lists[version] = found
        while len(self._lists) > limits.LINK_LIST_CACHED_VERSIONS:
            self._lists.popitem(last=False)
        return found
