"""Tamper tests against the real database: whatever is done to the audit rows, `verify`
fails and names the first entry that was altered, removed, inserted or reordered."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from haven.safety import auditlog
from haven.safety.records import audit_entry
from haven.store.stores import Stores
from haven.store.tables import audit_entries, audit_heads

pytestmark = pytest.mark.anyio


async def sealed_log(stores: Stores, tmp_path: Path, entries: int = 6) -> Ed25519PublicKey:
    key = auditlog.load_or_create_key(tmp_path)
    for n in range(1, entries + 1):
        await stores.audit.append(audit_entry("legal_request", n, authority=f"court {n}"))
        assert await auditlog.seal(stores, key, 1000 + n) is not None
    return auditlog.load_public_key(tmp_path)


async def tamper(stores: Stores, change: Callable[[sa.Connection], object]) -> None:
    await stores.db.run(change)


async def test_an_untouched_log_verifies(stores: Stores, tmp_path: Path) -> None:
    public = await sealed_log(stores, tmp_path)
    report = await auditlog.verify(stores, public)
    assert (report.ok, report.entries, report.heads_checked) == (True, 6, 6)
    key = auditlog.load_or_create_key(tmp_path)
    assert await auditlog.seal(stores, key, 2000) is None  # nothing new to seal
    await stores.audit.append(audit_entry("notice_sent", 7, account="x"))
    unsealed = await auditlog.verify(stores, public)
    assert unsealed.ok
    assert "not yet under a signed head" in unsealed.problem


async def test_an_edited_entry_is_named(stores: Stores, tmp_path: Path) -> None:
    public = await sealed_log(stores, tmp_path)
    # A careful attacker rewrites the data and its stored leaf hash together.
    forged = audit_entry("legal_request", 3, authority="nobody")
    await tamper(stores, lambda c: c.execute(
        sa.update(audit_entries).where(audit_entries.c.seq == 3)
        .values(data=forged.data, leaf_hash=forged.leaf_hash)
    ))  # fmt: skip
    report = await auditlog.verify(stores, public)
    assert (report.ok, report.first_bad_entry) == (False, 3)
    assert "entry 3" in report.problem


async def test_a_deleted_entry_is_named(stores: Stores, tmp_path: Path) -> None:
    public = await sealed_log(stores, tmp_path)
    await tamper(
        stores, lambda c: c.execute(sa.delete(audit_entries).where(audit_entries.c.seq == 2))
    )
    report = await auditlog.verify(stores, public)
    assert (report.ok, report.first_bad_entry) == (False, 2)


async def test_reordered_entries_are_named(stores: Stores, tmp_path: Path) -> None:
    public = await sealed_log(stores, tmp_path)

    def swap(conn: sa.Connection) -> None:
        rows = {r.seq: r for r in conn.execute(sa.select(audit_entries))}
        for seq, other in ((4, 5), (5, 4)):
            conn.execute(
                sa.update(audit_entries).where(audit_entries.c.seq == seq).values(
                    data=rows[other].data, leaf_hash=rows[other].leaf_hash,
                    kind=rows[other].kind, created_at=rows[other].created_at,
                )
            )  # fmt: skip

    await tamper(stores, swap)
    report = await auditlog.verify(stores, public)
    assert (report.ok, report.first_bad_entry) == (False, 4)


async def test_truncation_and_a_forged_head_are_caught(stores: Stores, tmp_path: Path) -> None:
    public = await sealed_log(stores, tmp_path)
    await tamper(
        stores, lambda c: c.execute(sa.delete(audit_entries).where(audit_entries.c.seq > 4))
    )
    report = await auditlog.verify(stores, public)
    assert (report.ok, report.first_bad_entry) == (False, 5)
    assert "removed" in report.problem
    await tamper(stores, lambda c: c.execute(
        sa.update(audit_heads).where(audit_heads.c.size == 1).values(root=bytes(32))
    ))  # fmt: skip
    forged = await auditlog.verify(stores, public)
    assert not forged.ok
    assert "signature does not verify" in forged.problem


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    auditlog.load_or_create_key(tmp_path)
    assert (tmp_path / auditlog.KEY_FILE).stat().st_mode & 0o777 == 0o600
    (tmp_path / auditlog.KEY_FILE).chmod(0o644)
    with pytest.raises(auditlog.AuditKeyError, match="readable by other users"):
        auditlog.load_or_create_key(tmp_path)
