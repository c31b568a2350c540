"""Per-address connection counts, kept in memory only and never written anywhere.

Keys are Python's per-process salted hash of the address (an IPv6 address is reduced to its
/64 first, as one subscriber usually holds a whole /64), so the table does not hold the
addresses themselves."""

from __future__ import annotations

import ipaddress


def address_key(peer: object) -> int:
    host = peer[0] if isinstance(peer, tuple) and peer and isinstance(peer[0], str) else ""
    if ":" in host:
        try:
            ip = ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return hash(host)
        mapped = ip.ipv4_mapped
        return hash(str(mapped)) if mapped is not None else hash(ip.packed[:8])
    return hash(host)


class AddressCaps:
    def __init__(self, per_address: int) -> None:
        self._limit = per_address
        self._counts: dict[int, int] = {}

    def acquire(self, key: int) -> bool:
        count = self._counts.get(key, 0)
        if count >= self._limit:
            return False
        self._counts[key] = count + 1
        return True

    def release(self, key: int) -> None:
        count = self._counts.get(key, 0) - 1
        if count <= 0:
            self._counts.pop(key, None)
        else:
            self._counts[key] = count

    def __len__(self) -> int:
        return len(self._counts)
