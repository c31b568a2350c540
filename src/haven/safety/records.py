"""Audit entries: what every operator action leaves in the log. An entry is canonical JSON
(sorted keys, no spaces), and its Merkle leaf is the hash of exactly those bytes, so anyone
holding the rows can recompute the log. Entries carry metadata only: never message text."""

from __future__ import annotations

import json
from typing import Any

from haven.merkle.hashing import leaf_hash
from haven.store.interfaces import NewAuditEntry


def canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def audit_entry(kind: str, now: int, **fields: Any) -> NewAuditEntry:
    data = canonical({"kind": kind, "at": now, **fields})
    return NewAuditEntry(now, kind, data, leaf_hash(data.encode("utf-8")))
