"""0004: TAXII peers (organisations allowed to pull the shared intel), by token digest."""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    m = sa.MetaData()
    sa.Table(
        "taxii_peers", m,
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("token_digest", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )  # fmt: skip
    m.create_all(conn)
