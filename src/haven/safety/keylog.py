"""Key transparency, server side: every binding of identity keys to a device is a leaf of
an RFC 9162 Merkle log; the server signs heads over it with its key-log key (used for
nothing else), and answers every device list with an inclusion proof of each device's
binding against the latest head, plus consistency proofs between heads on request.

A server that hands out a substituted key must either log it (and the owner's devices
see it) or give a proof that does not verify (and the asking client sees that)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from haven.core.errors import ErrorCode, HavenError
from haven.merkle.hashing import leaf_hash
from haven.merkle.heads import SignedTreeHead, TreeHead, sign_head
from haven.merkle.log import MemoryLeafStore, MerkleLog
from haven.safety import keyfiles
from haven.store.interfaces import AuditHeadRow
from haven.store.stores import Stores

KEY_FILE = "key-log-signing.key"


class KeyLogDamaged(HavenError):
    """The stored key log was altered after heads were signed over it."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.UNAVAILABLE, message)


def load_or_create_key(data_dir: Path) -> Ed25519PrivateKey:
    """The key-log signing key (its own key: a head must not pass for an audit head)."""
    return keyfiles.signing_key(data_dir / KEY_FILE)[0]


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class BindingProof:
    device_id: str
    index: int  # 0-based leaf index
    entry: str  # the binding, canonical JSON
    path: list[bytes]


class KeyLog:
    """One per server process: a copy of the log in memory, brought up to date from the
    database before each answer (other processes append too)."""

    def __init__(self, stores: Stores, key: Ed25519PrivateKey) -> None:
        self._stores = stores
        self._key = key
        self._log = MerkleLog(MemoryLeafStore())
        self._last_seq = 0
        self._index: dict[int, int] = {}  # seq -> leaf index (sequences may skip numbers)
        self._entries: list[str] = []
        self._lock = asyncio.Lock()

    async def _sync(self) -> None:
        rows = await self._stores.keylog.entries(after=self._last_seq)
        if not rows:
            return
        start = self._log.size
        self._log.append_hashes([leaf_hash(row.data.encode("utf-8")) for row in rows])
        for offset, row in enumerate(rows):
            self._index[row.seq] = start + offset
            self._entries.append(row.data)
        self._last_seq = rows[-1].seq

    async def head(self, now: int) -> SignedTreeHead:
        """The latest signed head, signing a new one if entries arrived since."""
        async with self._lock:
            await self._sync()
            size = self._log.size
            stored = await self._stores.keylog.head(size)
            if stored is None:
                await self._check_against_latest()
                signed = sign_head(self._key, TreeHead(size, self._log.root(), now))
                row = AuditHeadRow(size, signed.head.root, now, signed.signature)
                if await self._stores.keylog.put_head(row):
                    return signed
                stored = await self._stores.keylog.head(size)  # another process signed it
                if stored is None:
                    raise RuntimeError("a key-log head vanished")
            return SignedTreeHead(TreeHead(stored.size, stored.root, stored.timestamp),
                                  stored.signature)  # fmt: skip

    async def _check_against_latest(self) -> None:
        """Never sign a log that does not extend what was signed before: a rewritten row
        in the database must fail loudly here, not be blessed with a fresh signature."""
        latest = await self._stores.keylog.head()
        if latest is None:
            return
        if latest.size > self._log.size or self._log.root(latest.size) != latest.root:
            raise KeyLogDamaged(
                f"the key log no longer matches the head signed for {latest.size} entries"
            )

    async def proofs(self, account_id: str, device_ids: list[str], size: int) -> list[BindingProof]:
        """For each device, its latest 'added' binding with an inclusion proof at `size`."""
        rows = await self._stores.keylog.entries_for(account_id)
        latest: dict[str, int] = {}
        for row in rows:
            if '"event":"added"' in row.data and row.seq in self._index:
                latest[row.device_id] = row.seq
        found = []
        async with self._lock:
            for device_id in device_ids:
                seq = latest.get(device_id)
                if seq is None or self._index[seq] >= size:
                    continue  # no proof: the client treats the device as unproven
                index = self._index[seq]
                path = self._log.inclusion_proof(index, size)
                found.append(BindingProof(device_id, index, self._entries[index], path))
        return found

    async def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        async with self._lock:
            await self._sync()
            return self._log.consistency_proof(old_size, new_size)

    @property
    def public_key(self) -> bytes:
        return public_bytes(self._key)
