"""0006: operators (admins and moderators), account standing, actions and appeals, and the
tamper-evident audit log with its signed tree heads."""

from __future__ import annotations

import sqlalchemy as sa

_SeqId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade(conn: sa.Connection) -> None:
    m = sa.MetaData()
    sa.Table("accounts", m, sa.Column("account_id", sa.String(32), primary_key=True))
    sa.Table(
        "operators", m,
        sa.Column("operator_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_digest", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )  # fmt: skip
    sa.Table(
        "account_actions", m,
        sa.Column("action_id", _SeqId, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(32), nullable=False, index=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("note", sa.String(1000), nullable=False),
        sa.Column("device_id", sa.String(32), nullable=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )  # fmt: skip
    sa.Table(
        "account_standing", m,
        sa.Column("account_id", sa.String(32),
                  sa.ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("action_id", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )  # fmt: skip
    sa.Table(
        "appeals", m,
        sa.Column("appeal_id", _SeqId, primary_key=True, autoincrement=True),
        sa.Column("action_id", sa.BigInteger, nullable=False, index=True),
        sa.Column("account_id", sa.String(32), nullable=False, index=True),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("decided_at", sa.BigInteger, nullable=True),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("decision_note", sa.String(1000), nullable=True),
    )  # fmt: skip
    sa.Table(
        "reports", m,
        sa.Column("report_id", _SeqId, primary_key=True, autoincrement=True),
        sa.Column("reporter_account", sa.String(32), nullable=False, index=True),
        sa.Column("reporter_device", sa.String(32), nullable=False),
        sa.Column("sender_account", sa.String(32), nullable=False, index=True),
        sa.Column("sender_device", sa.String(32), nullable=False),
        sa.Column("envelope_id", sa.String(32), nullable=False),
        sa.Column("server_time", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("verified", sa.Boolean, nullable=False),
        sa.Column("problem", sa.String(300), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("decided_at", sa.BigInteger, nullable=True),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("decision_note", sa.String(1000), nullable=True),
        sa.UniqueConstraint("reporter_device", "envelope_id", name="uq_reports_once"),
    )  # fmt: skip
    sa.Table(
        "audit_entries", m,
        sa.Column("seq", _SeqId, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False, index=True),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    )  # fmt: skip
    sa.Table(
        "audit_heads", m,
        sa.Column("size", sa.BigInteger, primary_key=True),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=False),
    )  # fmt: skip
    m.create_all(conn, tables=[t for name, t in m.tables.items() if name != "accounts"])
