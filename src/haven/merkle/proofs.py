"""Inclusion and consistency proofs of RFC 9162 §2.1.3 and §2.1.4.

Generation follows the RFC's recursive definitions (PATH, SUBPROOF) walked top-down without
recursion; it asks a `SubtreeHash` callback for MTH(D[lo:hi]), so a log with cached subtree
hashes answers in O(log n) lookups and a plain list of leaf hashes (`subtrees_of`) works too.

Verification is the RFC's algorithm step by step (§2.1.3.2, §2.1.4.2), plus input checks the
RFC leaves to the caller (hash lengths, sizes) and the two trivial consistency cases it
excludes by precondition. Every failure raises `ProofError` with the reason; a verifier
function that returns normally has proven what it was asked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from haven.merkle.hashing import EMPTY_ROOT, HASH_SIZE, node_hash, root_of

# MTH(D[lo:hi]) of the log being proven, for 0 <= lo < hi <= size.
SubtreeHash = Callable[[int, int], bytes]

# RFC 9162 sizes are uint64, so a tree is at most 64 levels high; an inclusion path holds at
# most one hash per level and a consistency path at most one more.
MAX_PATH_LENGTH = 65
MAX_TREE_SIZE = 2**64 - 1


class ProofError(ValueError):
    """A proof does not prove what it was checked against (or its inputs are malformed)."""


def _split(width: int) -> int:
    """k of RFC 9162 §2.1.1: the largest power of two smaller than `width` (width >= 2)."""
    return 1 << ((width - 1).bit_length() - 1)


def subtrees_of(leaf_hashes: Sequence[bytes]) -> SubtreeHash:
    """A `SubtreeHash` over an in-memory list of leaf hashes: O(hi - lo) per call, so meant
    for tests and small trees; `MerkleLog` answers from its node cache instead."""

    def subtree(lo: int, hi: int) -> bytes:
        return root_of(leaf_hashes[lo:hi])

    return subtree


# --- generation --------------------------------------------------------------------------


def inclusion_path(index: int, size: int, subtree: SubtreeHash) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1: the audit path of leaf `index` in the tree of the
    first `size` leaves, ordered from the leaf's sibling up to the root's other child."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    path: list[bytes] = []
    lo, hi = 0, size
    # Each step descends into the subtree holding the leaf and records the other one; PATH
    # appends that sibling after the deeper path, hence the final reversal.
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            path.append(subtree(lo, lo + k))
            lo += k
    path.reverse()
    return path


def consistency_path(old_size: int, new_size: int, subtree: SubtreeHash) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 §2.1.4.1.

    The RFC defines it for 0 < m < n; for m == n it yields the empty proof, and so does m == 0
    here (the empty tree is a prefix of every tree, there is nothing to prove).
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    path: list[bytes] = []
    lo, hi = 0, new_size
    whole = True  # the `b` flag: is D[lo:hi] still a prefix the verifier knows the hash of?
    while old_size != hi:
        k = _split(hi - lo)
        if old_size <= lo + k:
            path.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            path.append(subtree(lo, lo + k))
            lo += k
            whole = False
    if not whole:
        path.append(subtree(lo, hi))
    path.reverse()
    return path


# --- verification ------------------------------------------------------------------------


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ProofError(f"{what} is not a {HASH_SIZE}-byte SHA-256 hash")


def _check_path(path: Sequence[bytes]) -> None:
    if len(path) > MAX_PATH_LENGTH:
        raise ProofError(f"the proof has {len(path)} hashes; no tree needs more than 65")
    for position, value in enumerate(path):
        _check_hash(value, f"proof hash {position}")


def _check_size(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TREE_SIZE:
        raise ProofError(f"{what} {value!r} is not a tree size (an integer in 0..2^64-1)")


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> None:
    """Prove that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root is
    `root` (RFC 9162 §2.1.3.2). Raises `ProofError` otherwise."""
    _check_hash(leaf_hash, "the leaf hash")
    _check_hash(root, "the root hash")
    _check_size(size, "tree size")
    _check_size(index, "leaf index")
    _check_path(path)
    # 1. leaf_index >= tree_size fails.
    if index >= size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    # 2. fn = leaf_index, sn = tree_size - 1.  3. r = hash.
    fn, sn = index, size - 1
    r = leaf_hash
    # 4. For each value p in the inclusion_path array:
    for p in path:
        # a. If sn is 0, stop and fail.
        if sn == 0:
            raise ProofError("the proof is longer than the path from the leaf to the root")
        # b. If LSB(fn) is set, or fn == sn:
        if fn & 1 or fn == sn:
            # i. r = HASH(0x01 || p || r)
            r = node_hash(p, r)
            # ii. If LSB(fn) is not set, right-shift fn and sn until LSB(fn) is set or fn is 0.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            # Otherwise: i. r = HASH(0x01 || r || p)
            r = node_hash(r, p)
        # c. Right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 5. Succeed only if sn == 0 and r == root_hash.
    if sn != 0:
        raise ProofError("the proof is shorter than the path from the leaf to the root")
    if r != root:
        raise ProofError(f"the proof leads to a different root: leaf {index} is not in this tree")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> None:
    """Prove that the tree of `old_size` leaves with root `old_root` is a prefix of the tree of
    `new_size` leaves with root `new_root` (RFC 9162 §2.1.4.2). Raises `ProofError` otherwise.

    The RFC's algorithm assumes 0 < first < second. The two cases outside it are decided here:
    a tree is consistent with itself (equal sizes: equal roots and an empty proof), and the
    empty tree, whose root must be SHA-256 of nothing, with every tree (an empty proof)."""
    _check_hash(old_root, "the old root hash")
    _check_hash(new_root, "the new root hash")
    _check_size(old_size, "old tree size")
    _check_size(new_size, "new tree size")
    _check_path(path)
    if old_size > new_size:
        raise ProofError(f"the old size {old_size} is larger than the new size {new_size}")
    if old_size == new_size:
        if path:
            raise ProofError("trees of the same size need an empty consistency proof")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same tree size {old_size}")
        return
    if old_size == 0:
        if path:
            raise ProofError("consistency with the empty tree needs an empty proof")
        if old_root != EMPTY_ROOT:
            raise ProofError("the root of the empty tree must be SHA-256 of the empty string")
        return

    # 1. An empty consistency_path fails.
    if not path:
        raise ProofError("the consistency proof is empty")
    # 2. If first is an exact power of 2, prepend first_hash to the path.
    nodes = [old_root, *path] if old_size & (old_size - 1) == 0 else list(path)
    # 3. fn = first - 1, sn = second - 1.
    fn, sn = old_size - 1, new_size - 1
    # 4. If LSB(fn) is set, right-shift fn and sn equally until LSB(fn) is not set.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. fr = sr = the first value of the path.
    fr = sr = nodes[0]
    # 6. For each subsequent value c in the path:
    for c in nodes[1:]:
        # a. If sn is 0, stop and fail.
        if sn == 0:
            raise ProofError("the proof is longer than the path between the two trees")
        # b. If LSB(fn) is set, or fn == sn:
        if fn & 1 or fn == sn:
            # i. fr = HASH(0x01 || c || fr); ii. sr = HASH(0x01 || c || sr)
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            # iii. If LSB(fn) is not set, right-shift until LSB(fn) is set or fn is 0.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            # Otherwise: i. sr = HASH(0x01 || sr || c)
            sr = node_hash(sr, c)
        # c. Right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 7. Succeed only if fr == first_hash, sr == second_hash and sn == 0.
    if sn != 0:
        raise ProofError("the proof is shorter than the path between the two trees")
    if fr != old_root:
        raise ProofError(f"the proof does not lead to the old root of size {old_size}")
    if sr != new_root:
        raise ProofError(
            f"the proof does not lead to the new root: size {old_size} is not a prefix of it"
        )
