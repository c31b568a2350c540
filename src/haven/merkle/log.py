"""An append-only Merkle log over a pluggable store of leaf hashes and subtree hashes.

Nodes are addressed as (level, index): the node at level L, index i is the hash of the complete
subtree over leaves [i * 2^L, (i + 1) * 2^L); level 0 holds the leaf hashes themselves. Only
complete subtrees are ever stored, and those never change once the last of their leaves is
appended, which is what makes the cache safe in an append-only log. MTH of any prefix, and
every hash a proof needs, is a combination of O(log n) such nodes.

`MerkleLog` is synchronous and keeps no state of its own: everything lives in the store, so a
database-backed store can serve several processes (with one writer at a time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from haven.merkle.hashing import (
    EMPTY_ROOT,
    HASH_SIZE,
    leaf_hashes_of,
    node_hash,
    parent_level,
    root_of,
)
from haven.merkle.proofs import consistency_path, inclusion_path


class LeafStore(Protocol):
    """Where a `MerkleLog` keeps its leaf hashes and its cache of complete-subtree hashes.

    Contract, which `MerkleLog` relies on and a persistent implementation must keep:
    - leaf hashes are only ever appended, never changed or removed;
    - `put_nodes` is called after `append_leaf_hashes`, only for complete subtrees over leaves
      already stored, and may repeat a node with the same value (it must then be a no-op);
    - `get_node` may return None for any node (a cache miss): the log then recomputes it from
      the leaf hashes, slower but still correct. A store that caches nothing is valid.
    A database store should run one `MerkleLog.append` (leaves, then nodes) in one transaction.
    """

    def count(self) -> int:
        """The number of leaves stored."""
        ...

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """The leaf hashes of leaves [start, end), 0 <= start <= end <= count()."""
        ...

    def append_leaf_hashes(self, hashes: Sequence[bytes]) -> None:
        """Append leaf hashes (32 bytes each) after the last stored one."""
        ...

    def get_node(self, level: int, index: int) -> bytes | None:
        """The cached hash of node (level, index), level >= 1, or None if not cached."""
        ...

    def put_nodes(self, level: int, start: int, hashes: Sequence[bytes]) -> None:
        """Cache the hashes of nodes (level, start), (level, start + 1), ..., level >= 1."""
        ...


class MemoryLeafStore:
    """A `LeafStore` in memory: one bytearray of packed 32-byte hashes per level, so a million
    leaves take 32 MB for the leaves and about as much for all the cached nodes above them."""

    def __init__(self) -> None:
        self._levels: list[bytearray] = [bytearray()]

    def count(self) -> int:
        return len(self._levels[0]) // HASH_SIZE

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        if not 0 <= start <= end <= self.count():
            raise ValueError(f"leaves [{start}, {end}) are not in a log of {self.count()}")
        packed = bytes(self._levels[0][start * HASH_SIZE : end * HASH_SIZE])
        return [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)]

    def append_leaf_hashes(self, hashes: Sequence[bytes]) -> None:
        packed = b"".join(hashes)
        if len(packed) != HASH_SIZE * len(hashes):
            raise ValueError(f"leaf hashes must be {HASH_SIZE} bytes each")
        self._levels[0] += packed

    def get_node(self, level: int, index: int) -> bytes | None:
        if level < 1 or level >= len(self._levels) or index < 0:
            return None
        at = index * HASH_SIZE
        found = self._levels[level][at : at + HASH_SIZE]
        return bytes(found) if len(found) == HASH_SIZE else None

    def put_nodes(self, level: int, start: int, hashes: Sequence[bytes]) -> None:
        if level < 1 or start < 0:
            raise ValueError(f"no node level {level} / index {start} to cache")
        while len(self._levels) <= level:
            self._levels.append(bytearray())
        packed = b"".join(hashes)
        if len(packed) != HASH_SIZE * len(hashes):
            raise ValueError(f"node hashes must be {HASH_SIZE} bytes each")
        row = self._levels[level]
        at = start * HASH_SIZE
        if at > len(row):
            # A gap could only come from nodes put out of order; packed storage cannot hold it.
            raise ValueError(
                f"level {level} holds {len(row) // HASH_SIZE} nodes; {start} leaves a gap"
            )
        row[at : at + len(packed)] = packed


class MerkleLog:
    """RFC 9162 Merkle log: append entries, get roots of any past size, and inclusion and
    consistency proofs between any sizes the log has had."""

    def __init__(self, store: LeafStore) -> None:
        self.store = store

    @property
    def size(self) -> int:
        return self.store.count()

    def append(self, entries: Sequence[bytes]) -> int:
        """Append entries (their leaf hashes, SHA-256(0x00 || entry)); returns the new size."""
        return self.append_hashes(leaf_hashes_of(entries))

    def append_hashes(self, hashes: Sequence[bytes]) -> int:
        """Append already computed leaf hashes; returns the new size.

        Costs O(m + log n) hashes for m new leaves on a log of n: each new complete subtree
        is hashed once from its two children, at most one of which (the left one, on each
        level) comes from the store.
        """
        hashes = list(hashes)
        if any(not isinstance(h, bytes) or len(h) != HASH_SIZE for h in hashes):
            raise ValueError(f"leaf hashes must be {HASH_SIZE}-byte bytes")
        store = self.store
        first = store.count()
        new_size = first + len(hashes)
        if not hashes:
            return new_size
        store.append_leaf_hashes(hashes)
        level, nodes = 0, hashes  # the new complete nodes of `level`, from index `first` on
        while True:
            if first & 1:
                # The first new node is a right child: its left sibling is already stored.
                nodes = [self._node(level, first - 1), *nodes]
                first -= 1
            parents = parent_level(nodes)
            if not parents:
                break
            level += 1
            first >>= 1
            store.put_nodes(level, first, parents)
            nodes = parents
        return new_size

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (default: all of them)."""
        size = self._size_arg(size)
        return self._subtree(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The inclusion path of leaf `index` in the tree of the first `size` leaves."""
        size = self._size_arg(size)
        return inclusion_path(index, size, self._subtree)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The consistency proof between the trees of the first `old_size` and `new_size`
        leaves (default: all of them)."""
        new_size = self._size_arg(new_size)
        return consistency_path(old_size, new_size, self._subtree)

    def leaf_hash(self, index: int) -> bytes:
        """The stored leaf hash of leaf `index`."""
        if not 0 <= index < self.size:
            raise ValueError(f"leaf index {index} is not in a log of size {self.size}")
        return self.store.leaf_hashes(index, index + 1)[0]

    # --- internals ---------------------------------------------------------------------

    def _size_arg(self, size: int | None) -> int:
        current = self.store.count()
        if size is None:
            return current
        if not 0 <= size <= current:
            raise ValueError(f"the log has had sizes 0..{current}, not {size}")
        return size

    def _node(self, level: int, index: int) -> bytes:
        """Node (level, index) of a complete subtree, from the cache or, on a miss, rehashed
        from its leaves."""
        if level == 0:
            return self.store.leaf_hashes(index, index + 1)[0]
        cached = self.store.get_node(level, index)
        if cached is not None:
            return cached
        return root_of(self.store.leaf_hashes(index << level, (index + 1) << level))

    def _subtree(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]), split at k as RFC 9162 §2.1.1 does. The ranges its proofs ask for
        start at a multiple of a power of two at least as large as the range, so each is a
        cached complete subtree or splits into one and a smaller such range: O(log n) node
        lookups. Other ranges are still hashed correctly, only with more lookups."""
        width = hi - lo
        if width & (width - 1) == 0:
            level = width.bit_length() - 1
            if lo & (width - 1) == 0:
                return self._node(level, lo >> level)
        k = 1 << ((width - 1).bit_length() - 1)
        # The left part [lo, lo + k) is complete and aligned; fold the right part's nodes.
        return node_hash(self._subtree(lo, lo + k), self._subtree(lo + k, hi))
