"""Rice-Golomb coding of sorted prefix lists, and list diffs."""

from __future__ import annotations

import random
from itertools import accumulate, pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.linkguard import (
    ChecksumMismatch,
    RiceDeltas,
    RiceError,
    apply,
    decode,
    diff,
    encode,
    prefix_checksum,
)
from haven.linkguard.rice import MAX_ENTRIES

# Chromium's V4RiceTest vectors (components/safe_browsing/.../v4_rice_unittest.cc), which
# it says match the values Google's Safe Browsing service tests with.
CHROMIUM_SMALL = RiceDeltas(5, 2, 2, b"\xf7\x02")  # gaps 15 and 9
CHROMIUM_GAPS = [62763050, 1046523781, 192522171, 1800511020, 4442775, 582142548]
CHROMIUM_DATA = (
    b"\x54\x60\x7b\xe7\x0a\x5f\xc1\xdc\xee\x69\xde\xfe\x58\x3c\xa3\xd6\xa5\xf2\x10\x8c\x4a\x59"
    b"\x56\x00"
)

uint32 = st.integers(min_value=0, max_value=2**32 - 1)
sorted_lists = st.sets(uint32).map(sorted)


def test_decodes_chromiums_vectors() -> None:
    assert decode(CHROMIUM_SMALL) == [5, 20, 29]
    values = [0, *accumulate(CHROMIUM_GAPS)]
    assert decode(RiceDeltas(0, 28, len(CHROMIUM_GAPS), CHROMIUM_DATA)) == values


def test_encodes_chromiums_vectors_bit_for_bit() -> None:
    assert encode([5, 20, 29], rice_parameter=2) == CHROMIUM_SMALL
    values = [0, *accumulate(CHROMIUM_GAPS)]
    assert encode(values, rice_parameter=28).encoded_data == CHROMIUM_DATA


def test_empty_and_single_value_lists() -> None:
    assert encode([]) == RiceDeltas(None, 1, 0, b"")
    assert decode(encode([])) == []
    assert encode([7]) == RiceDeltas(7, 1, 0, b"")
    assert decode(RiceDeltas(3, 2, 0, b"")) == [3]


def test_the_parameter_follows_the_mean_gap() -> None:
    dense = encode(list(range(0, 4000, 4)))
    sparse = encode(sorted(random.Random(1).sample(range(2**32), 1000)))
    assert dense.rice_parameter <= 2
    assert 20 <= sparse.rice_parameter <= 23  # mean gap ~2**22


@given(sorted_lists)
def test_round_trip(values: list[int]) -> None:
    assert decode(encode(values)) == values


@given(st.integers(min_value=1, max_value=31), st.sets(st.integers(0, 2**16)).map(sorted))
def test_round_trip_with_any_parameter(k: int, values: list[int]) -> None:
    assert decode(encode(values, rice_parameter=k)) == values


@pytest.mark.parametrize(
    "values",
    [[2, 1], [1, 1], [-1, 3], [0, 2**32], [2**32]],
    ids=["descending", "duplicate", "negative", "too-big", "too-big-alone"],
)
def test_encode_refuses_lists_that_are_not_sorted_uint32(values: list[int]) -> None:
    with pytest.raises(RiceError):
        encode(values)


@pytest.mark.parametrize(
    ("deltas", "message"),
    [
        (RiceDeltas(5, 2, 2, b"\xf7"), "ends inside"),  # truncated
        (RiceDeltas(5, 2, 3, b"\xf7\x02"), "zero gap"),  # one too many: padding is no gap
        (RiceDeltas(5, 2, 2, b"\xf7\xff"), "ends inside a quotient"),
        (RiceDeltas(5, 5, 1, b"\x7f"), "ends inside a remainder"),
        (RiceDeltas(5, 2, 1, b"\xf7\x02"), "unused bytes"),  # one entry too few
        (RiceDeltas(5, 2, 2, b"\xf7\x02\x00"), "unused bytes"),
        (RiceDeltas(5, 2, 2, b"\xf7\x82"), "padding"),
        (RiceDeltas(5, 2, 1, b"\x00"), "zero gap"),
        (RiceDeltas(2**32 - 2, 2, 2, b"\xf7\x02"), "past 2\\*\\*32"),
        (RiceDeltas(5, 28, 3, b"\xbf\xa8\x3f\xfb\xfc\xfb\x5e\x27\xe6\xc3\x1d\xc6\x38"), "past"),
        (RiceDeltas(5, 0, 2, b"\xf7\x02"), "rice_parameter"),
        (RiceDeltas(5, 32, 2, b"\xf7\x02"), "rice_parameter"),
        (RiceDeltas(-1, 2, 2, b"\xf7\x02"), "first_value"),
        (RiceDeltas(5, 2, -1, b"\xf7\x02"), "entry_count"),
        (RiceDeltas(5, 2, MAX_ENTRIES + 1, b"\xff" * 16), "entry_count"),
        (RiceDeltas(5, 2, 10**12, b"\xf7\x02"), "entry_count"),
        (RiceDeltas(5, 2, 1000, b"\xf7\x02"), "too short"),
        (RiceDeltas(None, 2, 1, b""), "empty list"),
        (RiceDeltas(None, 2, 0, b"\x00"), "empty list"),
        (RiceDeltas(0, 1, 1, b"\xff" * 100_000), "ends inside a quotient"),
    ],
)
def test_corrupt_data_raises_a_rice_error(deltas: RiceDeltas, message: str) -> None:
    with pytest.raises(RiceError, match=message):
        decode(deltas)


@given(
    st.one_of(st.none(), st.integers(min_value=-1, max_value=2**32)),
    st.integers(min_value=-1, max_value=33),
    st.integers(min_value=-1, max_value=64),
    st.binary(max_size=24),
)
def test_arbitrary_input_decodes_to_a_valid_list_or_raises_rice_error(
    first: int | None, k: int, count: int, data: bytes
) -> None:
    try:
        values = decode(RiceDeltas(first, k, count, data))
    except RiceError:
        return
    assert len(values) == (0 if first is None else count + 1)
    assert all(0 <= v < 2**32 for v in values)
    assert all(a < b for a, b in pairwise(values))


@given(sorted_lists, sorted_lists)
def test_a_diff_turns_the_old_list_into_the_new_one(old: list[int], new: list[int]) -> None:
    update = diff(old, new)
    assert update.checksum == prefix_checksum(new)
    assert apply(old, update.additions, update.removals, update.checksum) == new


def test_removals_are_indices_into_the_old_list() -> None:
    update = diff([10, 20, 30, 40], [20, 40, 50])
    assert decode(update.removals) == [0, 2]
    assert decode(update.additions) == [50]


def test_a_wrong_checksum_is_refused() -> None:
    update = diff([1, 2, 3], [2, 3, 4])
    with pytest.raises(ChecksumMismatch):
        apply([1, 2, 3], update.additions, update.removals, prefix_checksum([2, 3]))
    # the same diff against a list the client does not actually hold
    with pytest.raises(ChecksumMismatch):
        apply([1, 2, 5], update.additions, update.removals, update.checksum)


def test_a_removal_past_the_end_is_refused() -> None:
    with pytest.raises(RiceError, match="past the end"):
        apply([1, 2], encode([]), encode([2]))


def test_an_addition_already_present_is_refused() -> None:
    with pytest.raises(RiceError, match="already in the list"):
        apply([1, 2], encode([2]), encode([]))


def test_a_diff_replacing_one_percent_of_a_list_is_small() -> None:
    rng = random.Random(3)
    old = sorted(rng.sample(range(2**32), 100_000))
    gone = set(rng.sample(range(len(old)), 1_000))
    fresh = set(rng.sample(range(2**32), 1_000)) - set(old)
    new = sorted([v for i, v in enumerate(old) if i not in gone] + list(fresh))
    update = diff(old, new)
    size = len(update.additions.encoded_data) + len(update.removals.encoded_data)
    # about 21 bits an addition and 9 bits a removal index; a full list is ~17 bits an entry
    assert size < 5 * 1024
    assert apply(old, update.additions, update.removals, update.checksum) == new
