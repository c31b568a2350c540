"""0005: the link-blocking hash list, versioned entry by entry so a client's diff can be
computed from any version it holds, and the operator's allowlist."""

from __future__ import annotations

import sqlalchemy as sa

_SeqId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade(conn: sa.Connection) -> None:
    m = sa.MetaData()
    # Only for the foreign key to resolve: created by 0003, not here.
    sa.Table("intel_indicators", m, sa.Column("indicator_id", _SeqId, primary_key=True))
    sa.Table(
        "linkguard_versions", m,
        sa.Column("version", _SeqId, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("intel_version", sa.BigInteger, nullable=False),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("note", sa.String(300), nullable=False),
        # Each version is built on the one before: two builders racing on one base cannot
        # both commit.
        sa.Column("based_on", sa.BigInteger, nullable=False, unique=True),
    )  # fmt: skip
    sa.Table(
        "linkguard_entries", m,
        sa.Column("entry_id", _SeqId, primary_key=True, autoincrement=True),
        sa.Column("full_hash", sa.LargeBinary(32), nullable=False, index=True),
        sa.Column("prefix", sa.BigInteger, nullable=False, index=True),
        sa.Column("expression", sa.String(2200), nullable=False),
        sa.Column("added_version", sa.BigInteger, nullable=False, index=True),
        sa.Column("removed_version", sa.BigInteger, nullable=True, index=True),
    )  # fmt: skip
    sa.Table(
        "linkguard_entry_indicators", m,
        sa.Column("full_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column("indicator_id", sa.BigInteger,
                  sa.ForeignKey("intel_indicators.indicator_id", ondelete="CASCADE"),
                  primary_key=True),
    )  # fmt: skip
    sa.Table(
        "linkguard_allowlist", m,
        sa.Column("expression", sa.String(2200), primary_key=True),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )  # fmt: skip
    m.create_all(conn, tables=[t for name, t in m.tables.items() if name.startswith("linkguard")])
