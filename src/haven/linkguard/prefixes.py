"""Expression hashes and the client's in-memory set of 4-byte hash prefixes.

Safe Browsing lists hold SHA-256 prefixes of 4 to 32 bytes; longer prefixes only appear
where two entries share their first four bytes. Haven keeps every entry at exactly
`PREFIX_BYTES` (4): entries that collide there collapse into one, and telling them apart is
left to the server's full-hash lookup, which a client makes on any prefix hit anyway.

A prefix is handled as the unsigned 32-bit integer it spells in big-endian order, so numeric
order is the byte order, and `prefix_checksum` (SHA-256 of the concatenated big-endian
prefixes in ascending order) matches Safe Browsing's checksum of a sorted prefix list.
"""

from __future__ import annotations

import hashlib
import struct
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from typing import Final

from haven.linkguard.canonical import url_expressions

PREFIX_BYTES: Final = 4
MAX_PREFIX: Final = 0xFFFF_FFFF

# array's "I" is 32 bits on every platform CPython supports, but C only promises 16.
_TYPECODE: Final = "I" if array("I").itemsize == 4 else "L"
_BUCKET_SHIFT: Final = 16  # the top 16 bits of a prefix pick a bucket of the sorted array
_BUCKETS: Final = 1 << (32 - _BUCKET_SHIFT)
_BIG_ENDIAN_U32: Final = struct.Struct(">I")
_read_prefix: Final = _BIG_ENDIAN_U32.unpack_from


def expression_hash(expression: str) -> bytes:
    """SHA-256 of the UTF-8 bytes of a suffix/prefix expression (32 bytes)."""
    return hashlib.sha256(expression.encode("utf-8", "surrogatepass")).digest()


def url_hashes(url: str) -> list[bytes]:
    """Full hashes of every expression of `url`, in `url_expressions` order."""
    return [expression_hash(expression) for expression in url_expressions(url)]


def prefix_checksum(values: Iterable[int]) -> bytes:
    """SHA-256 of `values` as concatenated big-endian 4-byte prefixes, in the given order
    (pass them sorted to get the list checksum)."""
    packed = array(_TYPECODE, values)
    if sys.byteorder == "little":
        packed.byteswap()
    return hashlib.sha256(packed.tobytes()).digest()


def prefix_value(prefix: bytes) -> int:
    """The first four bytes of a prefix or full hash as a big-endian integer."""
    if len(prefix) < PREFIX_BYTES:
        raise ValueError(f"a hash prefix has at least {PREFIX_BYTES} bytes, got {len(prefix)}")
    value: int = _read_prefix(prefix)[0]
    return value


class PrefixSet:
    """An immutable sorted set of 4-byte hash prefixes, 4 bytes per entry.

    Entries live in one ``array`` of 32-bit integers; a 256 KiB bucket index over their top
    16 bits narrows each lookup to a few entries before the binary search. ``prefix in s``
    takes a prefix or full hash (``bytes``, its first four bytes count) or an ``int``.
    """

    __slots__ = ("_index", "_values")

    def __init__(self, prefixes: Iterable[bytes] = ()) -> None:
        self._values = array(_TYPECODE, sorted({prefix_value(p) for p in prefixes}))
        self._index = _bucket_index(self._values)

    @classmethod
    def from_values(cls, values: Iterable[int]) -> PrefixSet:
        """Build from prefixes already read as integers (any order, duplicates allowed)."""
        unique = sorted(set(values))
        if unique and (unique[0] < 0 or unique[-1] > MAX_PREFIX):
            raise ValueError("a 4-byte prefix is an integer in [0, 2**32)")
        built = cls.__new__(cls)
        built._values = array(_TYPECODE, unique)
        built._index = _bucket_index(built._values)
        return built

    def __contains__(self, item: object) -> bool:
        if type(item) is bytes and len(item) >= PREFIX_BYTES:  # the hot case: a full hash
            value: int = _read_prefix(item)[0]
        elif isinstance(item, bytes | bytearray | memoryview):
            if len(item) < PREFIX_BYTES:
                return False
            value = _read_prefix(item)[0]
        elif isinstance(item, int) and 0 <= item <= MAX_PREFIX:
            value = item
        else:
            return False
        index = self._index
        bucket = value >> _BUCKET_SHIFT
        high = index[bucket + 1]
        position = bisect_left(self._values, value, index[bucket], high)
        return position < high and self._values[position] == value

    def matches(self, url: str) -> list[bytes]:
        """Full hashes of `url`'s expressions whose prefix is in the set: what to resolve
        with the server (empty for the common case of a clean link)."""
        return [full for full in url_hashes(url) if full in self]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[bytes]:
        """Prefixes as 4-byte strings, in ascending order."""
        pack = _BIG_ENDIAN_U32.pack
        return (pack(value) for value in self._values)

    def values(self) -> array[int]:
        """A copy of the sorted prefixes as integers (for Rice coding and diffs)."""
        return array(_TYPECODE, self._values)

    def sha256(self) -> bytes:
        """`prefix_checksum` of the whole sorted list."""
        return prefix_checksum(self._values)

    @property
    def nbytes(self) -> int:
        """Bytes held by the entries and the bucket index."""
        return (len(self._values) + len(self._index)) * self._values.itemsize

    def __sizeof__(self) -> int:
        return object.__sizeof__(self) + self._values.__sizeof__() + self._index.__sizeof__()

    def __repr__(self) -> str:
        return f"PrefixSet({len(self)} prefixes)"


def _bucket_index(values: array[int]) -> array[int]:
    """index[b] is the position of the first value whose top bits are >= b, for b in
    [0, _BUCKETS]; bucket b spans values[index[b]:index[b + 1]]."""
    return array(
        _TYPECODE,
        (bisect_left(values, bucket << _BUCKET_SHIFT) for bucket in range(_BUCKETS + 1)),
    )
