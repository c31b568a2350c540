from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haven.merkle.hashing import EMPTY_ROOT, leaf_hash, leaf_hashes_of, root_of
from haven.merkle.proofs import (
    ProofError,
    consistency_path,
    inclusion_path,
    subtrees_of,
    verify_consistency,
    verify_inclusion,
)
from tests.merkle import CONSISTENCY, INCLUSION, LEAVES, ROOTS

HASHES = leaf_hashes_of(LEAVES)
SUBTREES = subtrees_of(HASHES)
# The arbitrary hash transparency-dev's tests use as "some other value".
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def proves_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    try:
        verify_inclusion(leaf, index, size, path, root)
    except ProofError:
        return False
    return True


def proves_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, path: list[bytes]
) -> bool:
    try:
        verify_consistency(old, new, old_root, new_root, path)
    except ProofError:
        return False
    return True


def flip(value: bytes, position: int, mask: int) -> bytes:
    changed = bytearray(value)
    changed[position] ^= mask
    return bytes(changed)


# --- known answers -------------------------------------------------------------------------


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_paths_match_the_vectors(index: int, size: int, path: list[bytes]) -> None:
    assert inclusion_path(index, size, SUBTREES) == path


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_consistency_paths_match_the_vectors(old: int, new: int, path: list[bytes]) -> None:
    assert consistency_path(old, new, SUBTREES) == path


def inclusion_probes(
    index: int, size: int, path: list[bytes], root: bytes, leaf: bytes
) -> dict[str, tuple[bytes, int, int, list[bytes], bytes]]:
    """transparency-dev's corruptInclusionProof: every probe must be refused."""
    probes = {
        "index - 1": (leaf, index - 1, size, path, root),
        "index + 1": (leaf, index + 1, size, path, root),
        "index ^ 2": (leaf, index ^ 2, size, path, root),
        "size * 2": (leaf, index, size * 2, path, root),
        "size / 2": (leaf, index, size // 2, path, root),
        "wrong leaf": (leaf_hash(b"WrongLeaf"), index, size, path, root),
        "empty root": (leaf, index, size, path, EMPTY_ROOT),
        "random root": (leaf, index, size, path, SOME_HASH),
        "trailing root": (leaf, index, size, [*path, root], root),
        "preceding root": (leaf, index, size, [root, *path], root),
    }
    for i in range(len(path)):
        wrong = list(path)
        wrong[i] = flip(wrong[i], 0, 8)
        probes[f"proof[{i}] bit 3"] = (leaf, index, size, wrong, root)
    if path:
        probes["removed component"] = (leaf, index, size, path[:-1], root)
    if len(path) > 1:
        probes["inserted component"] = (leaf, index, size, [path[0], SOME_HASH, *path[1:]], root)
    return {name: p for name, p in probes.items() if p[1] >= 0}


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_vectors_verify_and_corruptions_do_not(
    index: int, size: int, path: list[bytes]
) -> None:
    root, leaf = ROOTS[size - 1], HASHES[index]
    verify_inclusion(leaf, index, size, path, root)
    accepted = [
        name
        for name, probe in inclusion_probes(index, size, path, root, leaf).items()
        if proves_inclusion(*probe)
    ]
    assert accepted == []


def consistency_probes(
    old: int, new: int, root1: bytes, root2: bytes, path: list[bytes]
) -> dict[str, tuple[int, int, bytes, bytes, list[bytes]]]:
    """transparency-dev's corruptConsistencyProof: every probe must be refused."""
    probes = {
        "old - 1": (old - 1, new, root1, root2, path),
        "old + 1": (old + 1, new, root1, root2, path),
        "old ^ 2": (old ^ 2, new, root1, root2, path),
        "new * 2": (old, new * 2, root1, root2, path),
        "new / 2": (old, new // 2, root1, root2, path),
        "wrong old root": (old, new, SOME_HASH, root2, path),
        "wrong new root": (old, new, root1, SOME_HASH, path),
        "swapped roots": (old, new, root2, root1, path),
        "empty proof": (old, new, root1, root2, []),
        "trailing old root": (old, new, root1, root2, [*path, root1]),
        "trailing new root": (old, new, root1, root2, [*path, root2]),
        "preceding old root": (old, new, root1, root2, [root1, *path]),
        "preceding new root": (old, new, root1, root2, [root2, *path]),
        "preceding proof[0]": (old, new, root1, root2, [path[0], *path]),
        "truncated": (old, new, root1, root2, path[:-1]),
    }
    for i in range(len(path)):
        wrong = list(path)
        wrong[i] = flip(wrong[i], 0, 16)
        probes[f"proof[{i}] bit 4"] = (old, new, root1, root2, wrong)
    return {name: p for name, p in probes.items() if p[0] >= 0}


@pytest.mark.parametrize(("old", "new", "path"), [c for c in CONSISTENCY if c[2]])
def test_consistency_vectors_verify_and_corruptions_do_not(
    old: int, new: int, path: list[bytes]
) -> None:
    root1, root2 = ROOTS[old - 1], ROOTS[new - 1]
    verify_consistency(old, new, root1, root2, path)
    accepted = [
        name
        for name, probe in consistency_probes(old, new, root1, root2, path).items()
        if proves_consistency(*probe)
    ]
    assert accepted == []


# transparency-dev proof/proof_test.go (TestInclusion, TestConsistency) lists which tree nodes
# each proof holds, as (level, index) node IDs; here each node is the leaf range it covers, and
# a run of nodes the Go code rehashes into one right-border node is that node's range.
NODE_INCLUSION = [
    (7, 0, [(1, 2), (2, 4), (4, 7)]),  # b h l
    (7, 3, [(2, 3), (0, 2), (4, 7)]),  # c g l
    (7, 4, [(5, 6), (6, 7), (0, 4)]),  # f j k
    (7, 6, [(4, 6), (0, 4)]),  # i k
    (5, 3, [(2, 3), (0, 2), (4, 5)]),  # c g e
    (6, 4, [(5, 6), (0, 4)]),  # f k
    (15, 10, [(11, 12), (8, 10), (12, 15), (0, 8)]),
    (95, 81, [(80, 81), (82, 84), (84, 88), (88, 95), (64, 80), (0, 64)]),
]
NODE_CONSISTENCY = [
    (1, 2, [(1, 2)]),
    (1, 4, [(1, 2), (2, 4)]),
    (1, 6, [(1, 2), (2, 4), (4, 6)]),
    (2, 3, [(2, 3)]),
    (2, 8, [(2, 4), (4, 8)]),
    (3, 7, [(2, 3), (3, 4), (0, 2), (4, 7)]),
    (4, 7, [(4, 7)]),
    (5, 7, [(4, 5), (5, 6), (6, 7), (0, 4)]),
    (6, 7, [(4, 6), (6, 7), (0, 4)]),
    (7, 8, [(6, 7), (7, 8), (4, 6), (0, 4)]),
    (3, 5, [(2, 3), (3, 4), (0, 2), (4, 5)]),
    (10, 15, [(8, 10), (10, 12), (12, 15), (0, 8)]),
    (24, 31, [(16, 24), (24, 31), (0, 16)]),
    (81, 95, [(80, 81), (81, 82), (82, 84), (84, 88), (88, 95), (64, 80), (0, 64)]),
]


def range_labels() -> Callable[[int, int], bytes]:
    return lambda lo, hi: f"{lo}:{hi}".encode()


def labels(ranges: list[tuple[int, int]]) -> list[bytes]:
    return [f"{lo}:{hi}".encode() for lo, hi in ranges]


@pytest.mark.parametrize(("size", "index", "ranges"), NODE_INCLUSION)
def test_inclusion_path_nodes(size: int, index: int, ranges: list[tuple[int, int]]) -> None:
    assert inclusion_path(index, size, range_labels()) == labels(ranges)


@pytest.mark.parametrize(("old", "new", "ranges"), NODE_CONSISTENCY)
def test_consistency_path_nodes(old: int, new: int, ranges: list[tuple[int, int]]) -> None:
    assert consistency_path(old, new, range_labels()) == labels(ranges)


# --- edge cases ----------------------------------------------------------------------------


def test_single_leaf_tree() -> None:
    # transparency-dev TestVerifyInclusionSingleEntry: the root of one leaf is its hash.
    leaf = leaf_hash(b"data")
    verify_inclusion(leaf, 0, 1, [], leaf)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, 0, 1, [], SOME_HASH)
    with pytest.raises(ProofError, match="32-byte"):
        verify_inclusion(b"", 0, 1, [], leaf)
    with pytest.raises(ProofError, match="32-byte"):
        verify_inclusion(leaf, 0, 1, [], b"")


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (2, 1), (1, 1)])
def test_index_outside_the_tree_is_refused(index: int, size: int) -> None:
    with pytest.raises(ProofError, match="not in a tree"):
        verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_path(index, size, SUBTREES)


@pytest.mark.parametrize("bad", [-1, True, 2**64, 1.0])
def test_sizes_must_be_uint64_integers(bad: object) -> None:
    with pytest.raises(ProofError, match="tree size"):
        verify_inclusion(SOME_HASH, 0, bad, [], SOME_HASH)  # type: ignore[arg-type]
    with pytest.raises(ProofError, match="tree size"):
        verify_consistency(1, bad, SOME_HASH, SOME_HASH, [SOME_HASH])  # type: ignore[arg-type]


def test_overlong_paths_are_refused_before_hashing() -> None:
    with pytest.raises(ProofError, match="no tree needs"):
        verify_inclusion(SOME_HASH, 0, 2**63, [SOME_HASH] * 66, SOME_HASH)


def test_path_hashes_must_be_32_bytes() -> None:
    index, size, path = INCLUSION[1]
    with pytest.raises(ProofError, match="proof hash 1"):
        verify_inclusion(HASHES[index], index, size, [path[0], path[1][:31], path[2]], ROOTS[7])


def test_consistency_trivial_cases() -> None:
    # transparency-dev TestVerifyConsistency, with Haven's stricter empty tree: its root must
    # be SHA-256 of nothing, not any value.
    root = ROOTS[2]
    verify_consistency(3, 3, root, root, [])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 5, EMPTY_ROOT, ROOTS[4], [])
    refused = [
        (3, 3, root, ROOTS[3], []),  # two roots for one size
        (3, 3, root, root, [root]),  # proof where none is needed
        (0, 1, SOME_HASH, ROOTS[0], []),  # "empty" tree with a non-empty root
        (0, 1, EMPTY_ROOT, ROOTS[0], [EMPTY_ROOT]),
        (1, 0, ROOTS[0], EMPTY_ROOT, []),  # time travel
        (2, 1, ROOTS[1], ROOTS[0], []),
        (1, 2, ROOTS[0], ROOTS[1], []),  # a real step with no proof
    ]
    assert [case for case in refused if proves_consistency(*case)] == []
    assert consistency_path(0, 5, SUBTREES) == []
    assert consistency_path(5, 5, SUBTREES) == []
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_path(6, 5, SUBTREES)


# --- properties over random trees ----------------------------------------------------------

sizes = st.integers(min_value=1, max_value=260)


@settings(max_examples=60, deadline=None)
@given(size=sizes, data=st.data())
def test_every_inclusion_proof_verifies_and_any_change_breaks_it(
    size: int, data: st.DataObject
) -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    subtrees = subtrees_of(hashes)
    root = root_of(hashes)
    index = data.draw(st.integers(0, size - 1), label="index")
    path = inclusion_path(index, size, subtrees)
    verify_inclusion(hashes[index], index, size, path, root)

    other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index), label="other")
    if size > 1:
        # Another index with this leaf's proof, and another leaf at this index.
        assert not proves_inclusion(hashes[index], other, size, path, root)
        assert not proves_inclusion(hashes[other], index, size, path, root)
        part = data.draw(st.integers(0, len(path) - 1), label="part")
        byte = data.draw(st.integers(0, 31), label="byte")
        wrong = list(path)
        wrong[part] = flip(path[part], byte, 1 << data.draw(st.integers(0, 7), label="bit"))
        assert not proves_inclusion(hashes[index], index, size, wrong, root)
        assert not proves_inclusion(hashes[index], index, size, path[:-1], root)
    assert not proves_inclusion(hashes[index], index, size, [*path, root], root)
    assert not proves_inclusion(flip(hashes[index], 31, 0x80), index, size, path, root)
    assert not proves_inclusion(hashes[index], index, size, path, flip(root, 0, 1))


@settings(max_examples=60, deadline=None)
@given(new=sizes, data=st.data())
def test_every_consistency_proof_verifies_and_any_change_breaks_it(
    new: int, data: st.DataObject
) -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(new)]
    subtrees = subtrees_of(hashes)
    old = data.draw(st.integers(1, new), label="old")
    old_root, new_root = root_of(hashes[:old]), root_of(hashes)
    path = consistency_path(old, new, subtrees)
    verify_consistency(old, new, old_root, new_root, path)
    if old == new:
        assert path == []
        return

    other = data.draw(st.integers(1, new).filter(lambda s: s != old), label="other old size")
    assert not proves_consistency(other, new, old_root, new_root, path)
    assert not proves_consistency(old, new, new_root, old_root, path)
    part = data.draw(st.integers(0, len(path) - 1), label="part")
    byte = data.draw(st.integers(0, 31), label="byte")
    wrong = list(path)
    wrong[part] = flip(path[part], byte, 1 << data.draw(st.integers(0, 7), label="bit"))
    assert not proves_consistency(old, new, old_root, new_root, wrong)
    assert not proves_consistency(old, new, old_root, new_root, path[:-1])
    assert not proves_consistency(old, new, old_root, new_root, [*path, new_root])
    assert not proves_consistency(old, new, flip(old_root, 5, 2), new_root, path)
    assert not proves_consistency(old, new, old_root, flip(new_root, 5, 2), path)
    # A different tree of the same new size: the old tree is not a prefix of it.
    forked = [*hashes[: old - 1], leaf_hash(b"forged"), *hashes[old:]]
    assert not proves_consistency(old, new, old_root, root_of(forked), path)
