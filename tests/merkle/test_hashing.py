from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.merkle.hashing import (
    EMPTY_ROOT,
    leaf_hash,
    leaf_hashes_of,
    node_hash,
    parent_level,
    root_of,
)
from tests.merkle import LEAVES, ROOTS


def reference_mth(hashes: list[bytes]) -> bytes:
    """MTH of RFC 9162 §2.1.1, written as the RFC's recursion, to check the iterative one."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node_hash(reference_mth(hashes[:k]), reference_mth(hashes[k:]))


# transparency-dev/merkle rfc6962/rfc6962_test.go (TestRFC6962Hasher), each reproducible with
# `echo -n HEX | xxd -r -p | sha256sum`.
def test_empty_tree_hash_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_of([]) == EMPTY_ROOT


def test_empty_leaf_is_not_the_empty_tree() -> None:
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert leaf_hash(b"") != EMPTY_ROOT


def test_leaf_hash_known_answer() -> None:
    assert leaf_hash(b"L123456").hex() == (
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )


def test_node_hash_known_answer() -> None:
    assert node_hash(b"N123", b"N456").hex() == (
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


@pytest.mark.parametrize("size", range(1, len(LEAVES) + 1))
def test_roots_of_the_eight_leaf_vectors(size: int) -> None:
    assert root_of(leaf_hashes_of(LEAVES[:size])) == ROOTS[size - 1]


def test_a_node_cannot_pass_for_a_leaf() -> None:
    # Without the 0x00/0x01 prefixes, the leaf "left || right" would hash like their parent.
    left, right = leaf_hash(b"Hello"), leaf_hash(b"World")
    assert node_hash(left, right) != leaf_hash(left + right)
    assert node_hash(left, right) != node_hash(right, left)


def test_parent_level_leaves_an_odd_node_out() -> None:
    a, b, c = (leaf_hash(bytes([i])) for i in range(3))
    assert parent_level([a, b, c]) == [node_hash(a, b)]
    assert parent_level([a]) == []


@given(st.lists(st.binary(max_size=8), max_size=70))
def test_root_of_matches_the_rfc_recursion(entries: list[bytes]) -> None:
    hashes = leaf_hashes_of(entries)
    assert hashes == [leaf_hash(e) for e in entries]
    assert root_of(hashes) == reference_mth(hashes)
