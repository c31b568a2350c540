"""0008: key transparency: every (account, device, identity keys) binding, added or
removed, as an append-only log, and the signed heads over it."""

from __future__ import annotations

import sqlalchemy as sa

_SeqId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade(conn: sa.Connection) -> None:
    m = sa.MetaData()
    sa.Table(
        "key_log", m,
        sa.Column("seq", _SeqId, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(32), nullable=False, index=True),
        sa.Column("device_id", sa.String(32), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )  # fmt: skip
    sa.Table(
        "key_log_heads", m,
        sa.Column("size", sa.BigInteger, primary_key=True),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=False),
    )  # fmt: skip
    m.create_all(conn)
