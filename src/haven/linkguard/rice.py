"""Rice-Golomb coded sorted integer lists and prefix-list diffs, Safe Browsing v4 style
(https://developers.google.com/safe-browsing/v4/compression).

A sorted list of distinct 32-bit integers is sent as its first value in the clear and the
gaps to each following value. Each gap ``d`` is split with the Rice parameter ``k`` into a
quotient ``d >> k``, written in unary (that many 1 bits, then a 0), and the ``k`` low bits
of ``d``. Bits are packed least-significant first into bytes (the same stream as Safe
Browsing's little-endian 32-bit words); the last byte is padded with 0 bits.
``entry_count`` counts the coded gaps, so a one-value list has ``entry_count == 0``, as in
``RiceDeltaEncoding.num_entries``. An empty list has ``first_value is None``.

A list update (`diff`/`apply`) removes entries by their *indices* in the old sorted list and
adds new values, both Rice coded, then checks the SHA-256 checksum of the result.

Decoding checks everything it reads: the parameter range, ``entry_count`` against a cap and
against the bits actually present (before anything is allocated), truncation, zero gaps,
values past 2**32 - 1, and unused trailing bytes or non-zero padding; each raises
`RiceError` (a ``ValueError``). Work is linear in the size of the encoded data.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Final

from haven.linkguard.prefixes import prefix_checksum

MAX_VALUE: Final = 0xFFFF_FFFF
MAX_ENTRIES: Final = 1 << 24
"""Most gaps one encoding may carry (16.7 M, far beyond any prefix list Haven ships)."""
MAX_ENCODED_BYTES: Final = 32 * 1024 * 1024
MIN_RICE_PARAMETER: Final = 1
MAX_RICE_PARAMETER: Final = 31
_MAX_CHOSEN_PARAMETER: Final = 28  # the largest Safe Browsing servers send
_FLUSH_BITS: Final = 512  # keeps the encoder's accumulator a small integer
_WINDOW_BYTES: Final = 8


class RiceError(ValueError):
    """Rice-coded data (or a diff built from it) is corrupt, truncated or out of range."""


class ChecksumMismatch(RiceError):
    """A list rebuilt from a diff does not have the checksum the diff promised."""


@dataclass(frozen=True, slots=True)
class RiceDeltas:
    """A Rice-coded sorted list: Safe Browsing's ``RiceDeltaEncoding``."""

    first_value: int | None
    rice_parameter: int
    entry_count: int
    encoded_data: bytes


@dataclass(frozen=True, slots=True)
class PrefixDiff:
    """How to turn one sorted prefix list into another."""

    additions: RiceDeltas
    """The values to add."""
    removals: RiceDeltas
    """Indices, in the old sorted list, of the entries to remove."""
    checksum: bytes
    """`prefix_checksum` of the new sorted list."""


def encode(values: Sequence[int], rice_parameter: int | None = None) -> RiceDeltas:
    """Rice-code a strictly increasing list of integers in [0, 2**32).

    The parameter is chosen from the mean gap unless given (1..31).
    """
    if not values:
        return RiceDeltas(None, MIN_RICE_PARAMETER, 0, b"")
    first = values[0]
    if not 0 <= first <= MAX_VALUE or values[-1] > MAX_VALUE:
        raise RiceError("values must lie in [0, 2**32)")
    gaps = [later - earlier for earlier, later in pairwise(values)]
    if gaps and min(gaps) <= 0:
        raise RiceError("values must be strictly increasing")
    if len(gaps) > MAX_ENTRIES:
        raise RiceError(f"at most {MAX_ENTRIES + 1} values per encoding")
    if rice_parameter is None:
        rice_parameter = _choose_parameter(gaps)
    elif not MIN_RICE_PARAMETER <= rice_parameter <= MAX_RICE_PARAMETER:
        raise RiceError(f"rice_parameter must be in [{MIN_RICE_PARAMETER}, {MAX_RICE_PARAMETER}]")
    if _coded_bits(gaps, rice_parameter) > 8 * MAX_ENCODED_BYTES:
        raise RiceError(f"encoding would exceed {MAX_ENCODED_BYTES} bytes; use a larger parameter")
    return RiceDeltas(first, rice_parameter, len(gaps), _pack(gaps, rice_parameter))


def decode(deltas: RiceDeltas) -> list[int]:
    """The sorted list `deltas` encodes; raises `RiceError` on anything malformed."""
    first, k, count, data = (
        deltas.first_value,
        deltas.rice_parameter,
        deltas.entry_count,
        deltas.encoded_data,
    )
    if first is None:
        if count or data:
            raise RiceError("an empty list has no entries and no data")
        return []
    if not 0 <= first <= MAX_VALUE:
        raise RiceError("first_value must lie in [0, 2**32)")
    if not MIN_RICE_PARAMETER <= k <= MAX_RICE_PARAMETER:
        raise RiceError(f"rice_parameter must be in [{MIN_RICE_PARAMETER}, {MAX_RICE_PARAMETER}]")
    if not 0 <= count <= MAX_ENTRIES:
        raise RiceError(f"entry_count must be in [0, {MAX_ENTRIES}]")
    if len(data) > MAX_ENCODED_BYTES:
        raise RiceError(f"encoded_data is over {MAX_ENCODED_BYTES} bytes")
    if count * (k + 1) > 8 * len(data):
        raise RiceError("encoded_data is too short for entry_count")
    return _unpack(first, k, count, data)


def diff(old: Sequence[int], new: Sequence[int]) -> PrefixDiff:
    """The update from sorted list `old` to sorted list `new`."""
    _require_sorted(old, "old")
    _require_sorted(new, "new")
    kept = set(new)
    removed = [index for index, value in enumerate(old) if value not in kept]
    previous = set(old)
    added = [value for value in new if value not in previous]
    return PrefixDiff(encode(added), encode(removed), prefix_checksum(new))


def apply(
    old: Sequence[int],
    additions: RiceDeltas,
    removals: RiceDeltas,
    expected_checksum: bytes | None = None,
) -> list[int]:
    """Remove the entries at the indices `removals` decodes to from sorted list `old`, add
    the values in `additions`, and return the new sorted list.

    Raises `RiceError` for an index past the end or an addition already present, and
    `ChecksumMismatch` when `expected_checksum` is given and the result does not match.
    """
    indices = decode(removals)
    if indices and indices[-1] >= len(old):
        raise RiceError(f"removal index {indices[-1]} is past the end of a {len(old)}-entry list")
    kept: list[int] = []
    start = 0
    for index in indices:
        kept += old[start:index]
        start = index + 1
    kept += old[start:]
    added = decode(additions)
    for value in added:
        position = bisect_left(kept, value)
        if position < len(kept) and kept[position] == value:
            raise RiceError(f"addition {value:#010x} is already in the list")
    new = sorted(kept + added)
    if expected_checksum is not None and prefix_checksum(new) != expected_checksum:
        raise ChecksumMismatch("the updated list does not match the expected checksum")
    return new


def _require_sorted(values: Sequence[int], name: str) -> None:
    if any(earlier >= later for earlier, later in pairwise(values)):
        raise RiceError(f"{name} must be strictly increasing")


def _choose_parameter(gaps: Sequence[int]) -> int:
    """The cheapest k around log2(mean gap * ln 2), the Golomb optimum for geometric gaps."""
    if not gaps:
        return MIN_RICE_PARAMETER
    mean = sum(gaps) / len(gaps)
    guess = int(math.log2(max(mean * math.log(2), 1.0)))
    candidates = {
        min(max(k, MIN_RICE_PARAMETER), _MAX_CHOSEN_PARAMETER)
        for k in (guess - 1, guess, guess + 1)
    }
    return min(sorted(candidates), key=lambda k: _coded_bits(gaps, k))


def _coded_bits(gaps: Sequence[int], k: int) -> int:
    return len(gaps) * (k + 1) + sum(gap >> k for gap in gaps)


def _pack(gaps: Sequence[int], k: int) -> bytes:
    out = bytearray()
    mask = (1 << k) - 1
    accumulator = 0
    bits = 0
    for gap in gaps:
        quotient = gap >> k
        # quotient 1-bits, a 0-bit, then the k low bits, least significant first
        accumulator |= (((1 << quotient) - 1) | ((gap & mask) << (quotient + 1))) << bits
        bits += quotient + 1 + k
        if bits >= _FLUSH_BITS:
            whole = bits >> 3
            out += (accumulator & ((1 << (whole << 3)) - 1)).to_bytes(whole, "little")
            accumulator >>= whole << 3
            bits &= 7
    out += accumulator.to_bytes((bits + 7) >> 3, "little")
    return bytes(out)


def _unpack(first: int, k: int, count: int, data: bytes) -> list[int]:
    mask = (1 << k) - 1
    size = len(data)
    position = 0  # next byte of data to load into the window
    window = 0  # loaded, unread bits, least significant first
    bits = 0  # how many bits the window holds
    value = first
    values = [first]
    for _ in range(count):
        quotient = 0
        while True:
            if bits < 64 and position < size:
                chunk = data[position : position + _WINDOW_BYTES]
                window |= int.from_bytes(chunk, "little") << bits
                bits += 8 * len(chunk)
                position += len(chunk)
            ones = (window ^ (window + 1)).bit_length() - 1  # run of 1-bits at the bottom
            if ones < bits:
                break
            if position >= size:
                raise RiceError("encoded_data ends inside a quotient")
            quotient += bits
            window = 0
            bits = 0
        quotient += ones
        window >>= ones + 1
        bits -= ones + 1
        if bits < k and position < size:
            chunk = data[position : position + _WINDOW_BYTES]
            window |= int.from_bytes(chunk, "little") << bits
            bits += 8 * len(chunk)
            position += len(chunk)
        if bits < k:
            raise RiceError("encoded_data ends inside a remainder")
        gap = (quotient << k) | (window & mask)
        window >>= k
        bits -= k
        if gap == 0:
            raise RiceError("a zero gap: values must be strictly increasing")
        value += gap
        if value > MAX_VALUE:
            raise RiceError("a decoded value is past 2**32 - 1")
        values.append(value)
    if position < size or bits >= 8:
        raise RiceError("encoded_data has unused bytes after the last entry")
    if window:
        raise RiceError("encoded_data has non-zero padding bits")
    return values
