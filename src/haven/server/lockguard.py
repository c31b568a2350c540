"""Wrong registration locks per client address, in memory and per process.

The per-account count lives in the database (`ProtectionStore.check_lock`); this one stops
one address from guessing across many accounts. Addresses are keys in memory only: never
logged, never stored. A right lock does not clear an address's count (or an attacker could
clear it with an account of their own); it fades once the address stays quiet for the
longest backoff.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from haven.core import clock, limits
from haven.safety.protection import backoff_ms


@dataclass
class _Failures:
    count: int
    blocked_until: float  # clock.monotonic()
    last: float


class AddressBackoff:
    def __init__(self, max_addresses: int = limits.LOCK_ADDRESSES_TRACKED) -> None:
        self._max = max_addresses
        self._entries: OrderedDict[str, _Failures] = OrderedDict()

    def _current(self, address: str, now: float) -> _Failures | None:
        found = self._entries.get(address)
        if found is not None and now - found.last > limits.LOCK_BACKOFF_MAX_SECONDS:
            del self._entries[address]
            return None
        return found

    def blocked(self, address: str) -> bool:
        now = clock.monotonic()
        found = self._current(address, now)
        return found is not None and found.blocked_until > now

    def charge(self, address: str) -> bool:
        """Count an attempt before it is checked: False (and nothing counted) while the
        address must wait. Counting first means simultaneous guesses cannot all pass through
        one free attempt while the database checks the first; a right one is refunded."""
        if self.blocked(address):
            return False
        self.failed(address)
        return True

    def refund(self, address: str) -> None:
        """Take back the charge of an attempt that proved right (only its own: a right lock
        does not clear the wrong ones)."""
        found = self._entries.get(address)
        if found is None:
            return
        found.count -= 1
        if found.count <= 0:
            del self._entries[address]
            return
        found.blocked_until = min(found.blocked_until, found.last + backoff_ms(found.count) / 1000)

    def failed(self, address: str) -> None:
        now = clock.monotonic()
        found = self._current(address, now)
        count = 1 if found is None else found.count + 1
        self._entries[address] = _Failures(count, now + backoff_ms(count) / 1000, now)
        self._entries.move_to_end(address)
        if len(self._entries) > self._max:
            self._entries.popitem(last=False)
