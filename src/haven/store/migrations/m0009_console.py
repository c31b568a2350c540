"""0009: the operator web console: console passwords (Argon2id PHC strings) and optional
TOTP secrets per operator, sign-in sessions (only the SHA-256 of each session token is
kept) and one-time sign-in links (only their SHA-256 too)."""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    m = sa.MetaData()
    sa.Table("operators", m, sa.Column("operator_id", sa.String(32), primary_key=True))
    sa.Table(
        "console_credentials", m,
        sa.Column("operator_id", sa.String(32),
                  sa.ForeignKey("operators.operator_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("totp_secret", sa.LargeBinary(64), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger, nullable=True),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )  # fmt: skip
    sa.Table(
        "console_sessions", m,
        sa.Column("token_digest", sa.LargeBinary(32), primary_key=True),
        sa.Column("operator_id", sa.String(32),
                  sa.ForeignKey("operators.operator_id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("last_used_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
    )  # fmt: skip
    sa.Table(
        "console_signin_links", m,
        sa.Column("token_digest", sa.LargeBinary(32), primary_key=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("used_at", sa.BigInteger, nullable=True),
    )  # fmt: skip
    m.create_all(conn, tables=[t for name, t in m.tables.items() if name != "operators"])
