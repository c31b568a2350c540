"""The tamper-evident audit log: every operator action is an entry (see `records`), the
entries form an RFC 9162 Merkle log, and after each change the server signs a tree head
(size, root, time) with its audit key. Nobody can quietly rewrite the log: an edited,
removed, inserted or reordered entry no longer hashes to the roots the signed heads
commit to, and `verify` names the first entry where that happens.

Heads are `haven.merkle.heads` tree heads signed with Ed25519 under a key used for nothing
else. The public key sits beside the private one in the data directory
(`audit-signing.pub`) and can be published, so anyone can check the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from haven.merkle.audit import verify_log
from haven.merkle.hashing import leaf_hashes_of
from haven.merkle.heads import HeadError, SignedTreeHead, TreeHead, sign_head
from haven.merkle.log import MemoryLeafStore, MerkleLog
from haven.safety import keyfiles
from haven.store.interfaces import AuditHeadRow, AuditRow
from haven.store.stores import Stores

KEY_FILE = "audit-signing.key"
PUBLIC_FILE = "audit-signing.pub"


AuditKeyError = keyfiles.KeyFileError  # the audit key cannot be used


def load_or_create_key(data_dir: Path) -> Ed25519PrivateKey:
    """The server's audit key, made on first start beside its public half."""
    key, made = keyfiles.signing_key(data_dir / KEY_FILE)
    if made:
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        (data_dir / PUBLIC_FILE).write_bytes(public)
    return key


def load_public_key(data_dir: Path) -> Ed25519PublicKey:
    path = data_dir / PUBLIC_FILE
    try:
        return Ed25519PublicKey.from_public_bytes(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise AuditKeyError(f"cannot read the audit public key {path}: {exc}") from None


async def seal(stores: Stores, key: Ed25519PrivateKey, now: int) -> AuditHeadRow | None:
    """Sign a head over the whole log as it is now (None when nothing changed since the
    last head). The root is recomputed from the entries, never taken from stored hashes."""
    rows = await stores.audit.entries()
    heads = await stores.audit.heads()
    if not rows or (heads and heads[-1].size == len(rows)):
        return None
    log = MerkleLog(MemoryLeafStore())
    log.append_hashes(leaf_hashes_of([row.data.encode("utf-8") for row in rows]))
    signed = sign_head(key, TreeHead(len(rows), log.root(), now))
    head = AuditHeadRow(len(rows), signed.head.root, now, signed.signature)
    return head if await stores.audit.put_head(head) else None


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    entries: int
    heads_checked: int
    first_bad_entry: int | None  # 1-based position, as `haven audit show` numbers entries
    problem: str


async def verify(stores: Stores, public_key: Ed25519PublicKey) -> VerifyReport:
    """Recompute the whole log and check every signed head against it."""
    return check(await stores.audit.entries(), await stores.audit.heads(), public_key)


def check(
    rows: list[AuditRow], heads: list[AuditHeadRow], public_key: Ed25519PublicKey
) -> VerifyReport:
    signed = []
    for position, row in enumerate(heads):
        try:
            signed.append(
                SignedTreeHead(TreeHead(row.size, row.root, row.timestamp), row.signature)
            )
        except HeadError as exc:
            return VerifyReport(
                False, len(rows), position, None, f"a signed head is damaged: {exc}"
            )
    found = verify_log(
        [row.data.encode("utf-8") for row in rows], signed, public_key,
        leaf_hashes=[row.leaf_hash for row in rows],
    )  # fmt: skip
    if found.ok:
        unsealed = len(rows) - found.covered
        note = f"{unsealed} newest entries are not yet under a signed head" if unsealed else ""
        return VerifyReport(True, len(rows), found.heads_checked, None, note)
    first = found.first_bad_entry
    if first is None and found.bad_range is not None:
        first = found.bad_range[0]
    if first is None:  # a forged head, a fork: nothing to pin on one entry
        return VerifyReport(False, len(rows), found.heads_checked, None, found.problem)
    change = found.change or "altered, removed, inserted or moved"
    # The verifier counts from 0; people (and `haven audit show`) count entries from 1.
    problem = f"entry {first + 1} was {change}: the log no longer matches what was signed"
    return VerifyReport(False, len(rows), found.heads_checked, first + 1, problem)
