"""0003: threat-intelligence indicators, their sources (provenance) and feed versions."""

from __future__ import annotations

import sqlalchemy as sa

_SeqId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade(conn: sa.Connection) -> None:
    m = sa.MetaData()
    sa.Table(
        "intel_versions", m,
        sa.Column("version", _SeqId, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("note", sa.String(300), nullable=False),
    )  # fmt: skip
    sa.Table(
        "intel_indicators", m,
        sa.Column("indicator_id", _SeqId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(2048), nullable=False),
        sa.Column("added_version", sa.BigInteger, nullable=False, index=True),
        sa.Column("removed_version", sa.BigInteger, nullable=True, index=True),
        sa.UniqueConstraint("kind", "value", name="uq_intel_indicators_kind_value"),
    )  # fmt: skip
    sa.Table(
        "intel_sources", m,
        sa.Column("source_id", _SeqId, primary_key=True, autoincrement=True),
        sa.Column("indicator_id", sa.BigInteger,
                  sa.ForeignKey("intel_indicators.indicator_id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("publisher", sa.String(200), nullable=False),
        sa.Column("report", sa.String(300), nullable=False),
        sa.Column("file", sa.String(1000), nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("first_seen", sa.String(40), nullable=True),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("added_version", sa.BigInteger, nullable=False),
        sa.Column("removed_version", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("indicator_id", "publisher", "report", "file", "line",
                            name="uq_intel_sources_origin"),
    )  # fmt: skip
    m.create_all(conn)
