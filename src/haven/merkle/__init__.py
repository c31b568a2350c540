"""Append-only Merkle logs as in RFC 9162 (Certificate Transparency v2), §2.1 "Merkle Trees".

- `hashing`: the Merkle Tree Hash of §2.1.1 with SHA-256 (leaf prefix 0x00, node prefix 0x01).
- `proofs`: inclusion proofs (§2.1.3) and consistency proofs (§2.1.4), generated from the RFC's
  definitions and verified with its algorithms; failures raise `ProofError`.
- `log`: `MerkleLog`, appends in O(log n) per entry and proofs from cached subtree hashes, over
  a `LeafStore` (`MemoryLeafStore` here; the database one lives in haven.store).
- `heads`: Ed25519-signed tree heads and their strict JSON form.
- `audit`: `verify_log`, which checks a whole log against its heads and names the first entry
  that changed.

Used by the audit log of moderator/admin actions and by key transparency. Imports only the
standard library, pyca/cryptography and haven.core.
"""

from __future__ import annotations

from haven.merkle.audit import VerifyReport, verify_log
from haven.merkle.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash, root_of
from haven.merkle.heads import (
    HeadError,
    SignedTreeHead,
    TreeHead,
    from_json,
    sign_head,
    to_json,
    verify_head,
)
from haven.merkle.log import LeafStore, MemoryLeafStore, MerkleLog
from haven.merkle.proofs import (
    ProofError,
    consistency_path,
    inclusion_path,
    subtrees_of,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "HeadError",
    "LeafStore",
    "MemoryLeafStore",
    "MerkleLog",
    "ProofError",
    "SignedTreeHead",
    "TreeHead",
    "VerifyReport",
    "consistency_path",
    "from_json",
    "inclusion_path",
    "leaf_hash",
    "node_hash",
    "root_of",
    "sign_head",
    "subtrees_of",
    "to_json",
    "verify_consistency",
    "verify_head",
    "verify_inclusion",
    "verify_log",
]
