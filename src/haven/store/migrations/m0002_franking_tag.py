"""0002: envelopes carry the sender's franking commitment in the clear (for abuse reports)."""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    binary = "BYTEA" if conn.dialect.name == "postgresql" else "BLOB"
    conn.execute(sa.text(f"ALTER TABLE envelopes ADD COLUMN franking_tag {binary}"))
