"""0001: accounts, devices, key directory, envelope queues, attachments, invites."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

_SeqId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id(name: str, *args: Any, **kwargs: Any) -> sa.Column[str]:
    return sa.Column(name, sa.String(32), *args, **kwargs)


def upgrade(conn: sa.Connection) -> None:
    m = sa.MetaData()
    sa.Table(
        "accounts", m,
        _id("account_id", primary_key=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )  # fmt: skip
    sa.Table(
        "devices", m,
        _id("device_id", primary_key=True),
        _id("account_id", sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
            nullable=False, index=True),
        sa.Column("curve25519", sa.String(64), nullable=False),
        sa.Column("ed25519", sa.String(64), nullable=False, unique=True),
        sa.Column("token_digest", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )  # fmt: skip
    device_fk = sa.ForeignKey("devices.device_id", ondelete="CASCADE")
    sa.Table(
        "one_time_keys", m,
        sa.Column("seq", _SeqId, primary_key=True, autoincrement=True),
        _id("device_id", device_fk, nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(100), nullable=False),
        sa.UniqueConstraint("device_id", "key_id", name="uq_one_time_keys_device_key"),
    )  # fmt: skip
    sa.Table(
        "fallback_keys", m,
        _id("device_id", sa.ForeignKey("devices.device_id", ondelete="CASCADE"),
            primary_key=True),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(100), nullable=False),
    )  # fmt: skip
    sa.Table(
        "envelopes", m,
        _id("envelope_id", primary_key=True),
        _id("sender_account", nullable=False),
        _id("sender_device", nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("server_time", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
    )  # fmt: skip
    sa.Table(
        "queue", m,
        sa.Column("seq", _SeqId, primary_key=True, autoincrement=True),
        _id("device_id", sa.ForeignKey("devices.device_id", ondelete="CASCADE"),
            nullable=False),
        _id("envelope_id", sa.ForeignKey("envelopes.envelope_id", ondelete="CASCADE"),
            nullable=False, index=True),
        sa.Index("ix_queue_device_seq", "device_id", "seq"),
    )  # fmt: skip
    sa.Table(
        "attachments", m,
        _id("attachment_id", primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
    )  # fmt: skip
    sa.Table(
        "invites", m,
        sa.Column("code_digest", sa.LargeBinary(32), primary_key=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("uses_left", sa.Integer, nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
    )  # fmt: skip
    m.create_all(conn)
