"""0007: signed notices from the operator to people believed targeted by attackers."""

from __future__ import annotations

import sqlalchemy as sa

_SeqId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade(conn: sa.Connection) -> None:
    m = sa.MetaData()
    sa.Table(
        "notices", m,
        sa.Column("notice_id", _SeqId, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(32), nullable=False, index=True),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=True),
    )  # fmt: skip
    m.create_all(conn)
