from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haven.merkle import (
    EMPTY_ROOT,
    MemoryLeafStore,
    MerkleLog,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from haven.merkle.hashing import leaf_hashes_of
from haven.merkle.proofs import consistency_path, inclusion_path, subtrees_of
from tests.merkle import CONSISTENCY, INCLUSION, LEAVES, ROOTS


class CountingStore(MemoryLeafStore):
    """Counts how many leaf hashes and cached nodes the log reads."""

    def __init__(self) -> None:
        super().__init__()
        self.leaves_read = 0
        self.nodes_read = 0

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        self.leaves_read += end - start
        return super().leaf_hashes(start, end)

    def get_node(self, level: int, index: int) -> bytes | None:
        self.nodes_read += 1
        return super().get_node(level, index)


class NoCacheStore(MemoryLeafStore):
    """A valid store that caches nothing: every node is a miss."""

    def get_node(self, level: int, index: int) -> bytes | None:
        return None

    def put_nodes(self, level: int, start: int, hashes: Sequence[bytes]) -> None:
        return None


def entries(count: int, start: int = 0) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(start, start + count)]


def test_empty_log() -> None:
    log = MerkleLog(MemoryLeafStore())
    assert log.size == 0
    assert log.root() == EMPTY_ROOT
    assert log.append([]) == 0
    assert log.consistency_proof(0) == []


def test_eight_leaf_vectors() -> None:
    log = MerkleLog(MemoryLeafStore())
    assert log.append(LEAVES) == 8
    assert [log.root(size) for size in range(1, 9)] == ROOTS
    for index, size, path in INCLUSION:
        assert log.inclusion_proof(index, size) == path
    for old, new, path in CONSISTENCY:
        assert log.consistency_proof(old, new) == path


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=12), st.data())
def test_batched_appends_match_the_reference(batches: list[int], data: st.DataObject) -> None:
    log = MerkleLog(MemoryLeafStore())
    added: list[bytes] = []
    for count in batches:
        batch = entries(count, len(added))
        added += batch
        assert log.append(batch) == len(added)
    hashes = leaf_hashes_of(added)
    assert log.root() == root_of(hashes)
    if not added:
        return
    size = data.draw(st.integers(1, len(added)), label="past size")
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(0, size), label="old size")
    reference = subtrees_of(hashes)
    assert log.root(size) == root_of(hashes[:size])
    assert log.inclusion_proof(index, size) == inclusion_path(index, size, reference)
    assert log.consistency_proof(old, size) == consistency_path(old, size, reference)
    assert log.leaf_hash(index) == hashes[index]


def test_proofs_for_past_sizes_verify_against_past_roots() -> None:
    log = MerkleLog(MemoryLeafStore())
    heads = []
    for batch in (1, 2, 5, 13, 64, 100):
        log.append(entries(batch, log.size))
        heads.append((log.size, log.root()))
    for old_size, old_root in heads:
        for new_size, new_root in heads:
            if old_size <= new_size:
                proof = log.consistency_proof(old_size, new_size)
                verify_consistency(old_size, new_size, old_root, new_root, proof)
        for index in (0, old_size // 2, old_size - 1):
            proof = log.inclusion_proof(index, old_size)
            verify_inclusion(leaf_hash(f"entry {index}".encode()), index, old_size, proof, old_root)


def test_a_store_without_cache_gives_the_same_answers() -> None:
    cached, uncached = MerkleLog(MemoryLeafStore()), MerkleLog(NoCacheStore())
    for batch in (3, 1, 60, 7):
        items = entries(batch, cached.size)
        cached.append(items)
        uncached.append(items)
    size = cached.size
    assert uncached.root() == cached.root()
    assert uncached.root(50) == cached.root(50)
    assert uncached.inclusion_proof(17, 64) == cached.inclusion_proof(17, 64)
    assert uncached.consistency_proof(33, size) == cached.consistency_proof(33, size)


def test_appends_and_proofs_read_logarithmically_many_hashes() -> None:
    store = CountingStore()
    log = MerkleLog(store)
    for start in range(0, 4096, 512):
        log.append(entries(512, start))
    store.leaves_read = store.nodes_read = 0
    log.append(entries(1, 4096))  # size 4097: one new leaf, no new node
    log.append(entries(1, 4097))  # completes a pair: reads its left sibling
    assert store.leaves_read <= 1
    store.leaves_read = store.nodes_read = 0
    log.root()
    log.inclusion_proof(1234, 4098)
    log.consistency_proof(1000, 4098)
    # Each is a few dozen lookups at most (4098 = 2^12 + 2); rehashing would read thousands.
    assert store.leaves_read + store.nodes_read <= 60


def test_past_sizes_and_indexes_are_bounded() -> None:
    log = MerkleLog(MemoryLeafStore())
    log.append(entries(10))
    with pytest.raises(ValueError, match=r"sizes 0\.\.10"):
        log.root(11)
    with pytest.raises(ValueError, match=r"sizes 0\.\.10"):
        log.inclusion_proof(0, 11)
    with pytest.raises(ValueError, match="not in a tree"):
        log.inclusion_proof(10)
    with pytest.raises(ValueError, match="no consistency proof"):
        log.consistency_proof(7, 6)
    with pytest.raises(ValueError, match="not in a log"):
        log.leaf_hash(10)


def test_append_hashes_refuses_what_is_not_a_hash() -> None:
    log = MerkleLog(MemoryLeafStore())
    with pytest.raises(ValueError, match="32-byte"):
        log.append_hashes([leaf_hash(b"a"), b"short"])
    assert log.size == 0
    assert log.append_hashes([leaf_hash(b"a")]) == 1
    assert log.root() == leaf_hash(b"a")


def test_memory_store_contract() -> None:
    store = MemoryLeafStore()
    store.append_leaf_hashes([leaf_hash(b"a"), leaf_hash(b"b")])
    assert store.count() == 2
    assert store.leaf_hashes(1, 2) == [leaf_hash(b"b")]
    with pytest.raises(ValueError, match="not in a log"):
        store.leaf_hashes(1, 3)
    assert store.get_node(1, 0) is None
    parent = bytes(32)
    store.put_nodes(1, 0, [parent])
    store.put_nodes(1, 0, [parent])  # repeating a node is a no-op
    assert store.get_node(1, 0) == parent
    assert store.get_node(1, 1) is None
    with pytest.raises(ValueError, match="gap"):
        store.put_nodes(1, 5, [parent])
    with pytest.raises(ValueError, match="32 bytes"):
        store.append_leaf_hashes([b"x"])
