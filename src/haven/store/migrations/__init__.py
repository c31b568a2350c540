"""Numbered schema migrations, applied in order on start. Never edit one that has shipped:
add the next number. Each migration defines the tables it touches as they were at that point."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from haven.store.migrations import (
    m0001_initial,
    m0002_franking_tag,
    m0003_intel,
    m0004_taxii_peers,
    m0005_linkguard,
    m0006_safety,
    m0007_notices,
    m0008_key_log,
    m0009_console,
    m0010_protection,
)

Migration = Callable[[sa.Connection], None]

MIGRATIONS: list[tuple[int, Migration]] = [
    (1, m0001_initial.upgrade),
    (2, m0002_franking_tag.upgrade),
    (3, m0003_intel.upgrade),
    (4, m0004_taxii_peers.upgrade),
    (5, m0005_linkguard.upgrade),
    (6, m0006_safety.upgrade),
    (7, m0007_notices.upgrade),
    (8, m0008_key_log.upgrade),
    (9, m0009_console.upgrade),
    (10, m0010_protection.upgrade),
]
