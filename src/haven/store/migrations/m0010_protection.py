"""0010: protected accounts: protection state with its registration-lock verifier, the
backoff of wrong lock attempts, requests from new devices to join (pending until approved,
then expired), when each device was last seen, and possible coordinated reporting
campaigns flagged for moderators."""

from __future__ import annotations

import sqlalchemy as sa

_SeqId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade(conn: sa.Connection) -> None:
    m = sa.MetaData()
    sa.Table("accounts", m, sa.Column("account_id", sa.String(32), primary_key=True))
    sa.Table(
        "protection", m,
        sa.Column("account_id", sa.String(32),
                  sa.ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),  # invited | on
        sa.Column("lock_verifier", sa.LargeBinary(32), nullable=True),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("enabled_at", sa.BigInteger, nullable=True),
        sa.Column("disable_requested_at", sa.BigInteger, nullable=True),
        sa.Column("invited_by", sa.String(100), nullable=True),
        sa.Column("invited_at", sa.BigInteger, nullable=True),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )  # fmt: skip
    sa.Table(
        "lock_attempts", m,
        # Any account id a caller names, existing or not: the two must behave alike.
        sa.Column("account_id", sa.String(32), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )  # fmt: skip
    sa.Table(
        "link_requests", m,
        sa.Column("request_id", sa.String(32), primary_key=True),
        sa.Column("account_id", sa.String(32),
                  sa.ForeignKey("accounts.account_id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("device_id", sa.String(32), nullable=False, unique=True),
        sa.Column("curve25519", sa.String(64), nullable=False),
        sa.Column("ed25519", sa.String(64), nullable=False),
        sa.Column("token_digest", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),  # pending | approved | denied
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("decided_at", sa.BigInteger, nullable=True),
    )  # fmt: skip
    sa.Table(
        "device_seen", m,
        sa.Column("device_id", sa.String(32), primary_key=True),
        sa.Column("account_id", sa.String(32), nullable=False, index=True),
        sa.Column("last_seen_at", sa.BigInteger, nullable=False),
    )  # fmt: skip
    flags = sa.Table(
        "campaign_flags", m,
        sa.Column("flag_id", _SeqId, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(32), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),  # open|confirmed|...
        sa.Column("protected", sa.Boolean, nullable=False),
        sa.Column("window_start", sa.BigInteger, nullable=False),
        sa.Column("window_end", sa.BigInteger, nullable=False),
        sa.Column("reports", sa.Integer, nullable=False),
        sa.Column("reporters", sa.Integer, nullable=False),
        sa.Column("fresh_reporters", sa.Integer, nullable=False),
        sa.Column("median_reporter_age_ms", sa.BigInteger, nullable=False),
        sa.Column("burst", sa.Integer, nullable=False),
        sa.Column("overlap_permille", sa.Integer, nullable=False),
        sa.Column("signals", sa.Text, nullable=False),  # JSON list
        sa.Column("reporter_accounts", sa.Text, nullable=False),  # JSON list
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("decided_at", sa.BigInteger, nullable=True),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("decision_note", sa.String(1000), nullable=True),
    )  # fmt: skip
    # At most one open flag per account: a campaign's further reports update it.
    sa.Index(
        "uq_campaign_flags_open", flags.c.account_id, unique=True,
        sqlite_where=flags.c.status == "open", postgresql_where=flags.c.status == "open",
    )  # fmt: skip
    m.create_all(conn, tables=[m.tables[n] for n in (
        "protection", "lock_attempts", "link_requests", "device_seen", "campaign_flags",
    )])  # fmt: skip
