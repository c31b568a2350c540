"""The current schema, as SQLAlchemy Core tables the queries are written against.

Migrations (`haven.store.migrations`) create and change the real tables; a test checks that a
freshly migrated database matches these definitions, so the two cannot drift apart.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# SQLite only gives AUTOINCREMENT semantics to INTEGER PRIMARY KEY; PostgreSQL wants BIGINT.
SeqId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_id", sa.String(32), primary_key=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("device_id", sa.String(32), primary_key=True),
    sa.Column(
        "account_id",
        sa.String(32),
        sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("curve25519", sa.String(64), nullable=False),
    sa.Column("ed25519", sa.String(64), nullable=False, unique=True),
    sa.Column("token_digest", sa.LargeBinary(32), nullable=False, unique=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

one_time_keys = sa.Table(
    "one_time_keys",
    metadata,
    sa.Column("seq", SeqId, primary_key=True, autoincrement=True),
    sa.Column(
        "device_id",
        sa.String(32),
        sa.ForeignKey("devices.device_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("public_key", sa.String(64), nullable=False),
    sa.Column("signature", sa.String(100), nullable=False),
    sa.UniqueConstraint("device_id", "key_id", name="uq_one_time_keys_device_key"),
)

fallback_keys = sa.Table(
    "fallback_keys",
    metadata,
    sa.Column(
        "device_id",
        sa.String(32),
        sa.ForeignKey("devices.device_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("public_key", sa.String(64), nullable=False),
    sa.Column("signature", sa.String(100), nullable=False),
)

envelopes = sa.Table(
    "envelopes",
    metadata,
    sa.Column("envelope_id", sa.String(32), primary_key=True),
    sa.Column("sender_account", sa.String(32), nullable=False),
    sa.Column("sender_device", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("server_time", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
    sa.Column("franking_tag", sa.LargeBinary(32), nullable=True),
)

queue = sa.Table(
    "queue",
    metadata,
    sa.Column("seq", SeqId, primary_key=True, autoincrement=True),
    sa.Column(
        "device_id",
        sa.String(32),
        sa.ForeignKey("devices.device_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "envelope_id",
        sa.String(32),
        sa.ForeignKey("envelopes.envelope_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Index("ix_queue_device_seq", "device_id", "seq"),
)

attachments = sa.Table(
    "attachments",
    metadata,
    sa.Column("attachment_id", sa.String(32), primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
)

invites = sa.Table(
    "invites",
    metadata,
    sa.Column("code_digest", sa.LargeBinary(32), primary_key=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("uses_left", sa.Integer, nullable=False),
    sa.Column("note", sa.String(200), nullable=False),
)

intel_versions = sa.Table(
    "intel_versions",
    metadata,
    sa.Column("version", SeqId, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("note", sa.String(300), nullable=False),
)

intel_indicators = sa.Table(
    "intel_indicators",
    metadata,
    sa.Column("indicator_id", SeqId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("value", sa.String(2048), nullable=False),
    sa.Column("added_version", sa.BigInteger, nullable=False, index=True),
    sa.Column("removed_version", sa.BigInteger, nullable=True, index=True),
    sa.UniqueConstraint("kind", "value", name="uq_intel_indicators_kind_value"),
)

intel_sources = sa.Table(
    "intel_sources",
    metadata,
    sa.Column("source_id", SeqId, primary_key=True, autoincrement=True),
    sa.Column(
        "indicator_id",
        sa.BigInteger,
        sa.ForeignKey("intel_indicators.indicator_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("publisher", sa.String(200), nullable=False),
    sa.Column("report", sa.String(300), nullable=False),
    sa.Column("file", sa.String(1000), nullable=False),
    sa.Column("line", sa.Integer, nullable=False),
    sa.Column("first_seen", sa.String(40), nullable=True),
    sa.Column("tlp", sa.String(16), nullable=False),
    sa.Column("added_version", sa.BigInteger, nullable=False),
    sa.Column("removed_version", sa.BigInteger, nullable=True),
    sa.UniqueConstraint(
        "indicator_id", "publisher", "report", "file", "line", name="uq_intel_sources_origin"
    ),
)

taxii_peers = sa.Table(
    "taxii_peers",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("token_digest", sa.LargeBinary(32), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

linkguard_versions = sa.Table(
    "linkguard_versions",
    metadata,
    sa.Column("version", SeqId, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("intel_version", sa.BigInteger, nullable=False),
    sa.Column("entries", sa.Integer, nullable=False),
    sa.Column("note", sa.String(300), nullable=False),
    sa.Column("based_on", sa.BigInteger, nullable=False, unique=True),
)

# One row per stretch of time a full hash is on the list: the list at any version V is
# the rows with added_version <= V < removed_version (or not removed).
linkguard_entries = sa.Table(
    "linkguard_entries",
    metadata,
    sa.Column("entry_id", SeqId, primary_key=True, autoincrement=True),
    sa.Column("full_hash", sa.LargeBinary(32), nullable=False, index=True),
    sa.Column("prefix", sa.BigInteger, nullable=False, index=True),
    sa.Column("expression", sa.String(2200), nullable=False),
    sa.Column("added_version", sa.BigInteger, nullable=False, index=True),
    sa.Column("removed_version", sa.BigInteger, nullable=True, index=True),
)

# Which indicators put a hash on the list (for the verdict's sources).
linkguard_entry_indicators = sa.Table(
    "linkguard_entry_indicators",
    metadata,
    sa.Column("full_hash", sa.LargeBinary(32), primary_key=True),
    sa.Column(
        "indicator_id",
        sa.BigInteger,
        sa.ForeignKey("intel_indicators.indicator_id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

linkguard_allowlist = sa.Table(
    "linkguard_allowlist",
    metadata,
    sa.Column("expression", sa.String(2200), primary_key=True),
    sa.Column("note", sa.String(200), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

# -- safety: operators, account actions, appeals, audit log -------------------------------

operators = sa.Table(
    "operators",
    metadata,
    sa.Column("operator_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),  # admin | moderator
    sa.Column("token_digest", sa.LargeBinary(32), nullable=False, unique=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

account_actions = sa.Table(
    "account_actions",
    metadata,
    sa.Column("action_id", SeqId, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(32), nullable=False, index=True),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("note", sa.String(1000), nullable=False),
    sa.Column("device_id", sa.String(32), nullable=True),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

# Only accounts that are not simply active have a row.
account_standing = sa.Table(
    "account_standing",
    metadata,
    sa.Column(
        "account_id",
        sa.String(32),
        sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("status", sa.String(16), nullable=False),  # restricted | suspended | banned
    sa.Column("action_id", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

appeals = sa.Table(
    "appeals",
    metadata,
    sa.Column("appeal_id", SeqId, primary_key=True, autoincrement=True),
    sa.Column("action_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("account_id", sa.String(32), nullable=False, index=True),
    sa.Column("text", sa.String(2000), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # open|upheld|reversed
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("decided_at", sa.BigInteger, nullable=True),
    sa.Column("decided_by", sa.String(100), nullable=True),
    sa.Column("decision_note", sa.String(1000), nullable=True),
)

# A recipient's report of a message: the revealed content and whether the franking
# commitment and the server's delivery stamp vouch for it.
reports = sa.Table(
    "reports",
    metadata,
    sa.Column("report_id", SeqId, primary_key=True, autoincrement=True),
    sa.Column("reporter_account", sa.String(32), nullable=False, index=True),
    sa.Column("reporter_device", sa.String(32), nullable=False),
    sa.Column("sender_account", sa.String(32), nullable=False, index=True),
    sa.Column("sender_device", sa.String(32), nullable=False),
    sa.Column("envelope_id", sa.String(32), nullable=False),
    sa.Column("server_time", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("content", sa.Text, nullable=False),  # the revealed message JSON
    sa.Column("verified", sa.Boolean, nullable=False),
    sa.Column("problem", sa.String(300), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # open|actioned|dismissed
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("decided_at", sa.BigInteger, nullable=True),
    sa.Column("decided_by", sa.String(100), nullable=True),
    sa.Column("decision_note", sa.String(1000), nullable=True),
    sa.UniqueConstraint("reporter_device", "envelope_id", name="uq_reports_once"),
)

audit_entries = sa.Table(
    "audit_entries",
    metadata,
    sa.Column("seq", SeqId, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(40), nullable=False, index=True),
    sa.Column("data", sa.Text, nullable=False),  # canonical JSON: the Merkle leaf
    sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
)

audit_heads = sa.Table(
    "audit_heads",
    metadata,
    sa.Column("size", sa.BigInteger, primary_key=True),
    sa.Column("root", sa.LargeBinary(32), nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("signature", sa.LargeBinary(64), nullable=False),
)

# Signed after insertion (the signature covers the notice id), in the same transaction.
notices = sa.Table(
    "notices",
    metadata,
    sa.Column("notice_id", SeqId, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(32), nullable=False, index=True),
    sa.Column("template", sa.String(64), nullable=False),
    sa.Column("language", sa.String(16), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("signature", sa.LargeBinary(64), nullable=True),
)

# -- the operator console: passwords, optional TOTP, sessions, one-time sign-in links --------

console_credentials = sa.Table(
    "console_credentials",
    metadata,
    sa.Column(
        "operator_id",
        sa.String(32),
        sa.ForeignKey("operators.operator_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("password_hash", sa.String(200), nullable=False),  # Argon2id, PHC string
    sa.Column("totp_secret", sa.LargeBinary(64), nullable=True),
    sa.Column("totp_last_step", sa.BigInteger, nullable=True),  # a code is accepted once
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

console_sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("token_digest", sa.LargeBinary(32), primary_key=True),
    sa.Column(
        "operator_id",
        sa.String(32),
        sa.ForeignKey("operators.operator_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("last_used_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
)

console_signin_links = sa.Table(
    "console_signin_links",
    metadata,
    sa.Column("token_digest", sa.LargeBinary(32), primary_key=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("used_at", sa.BigInteger, nullable=True),
)

# Key transparency: each binding of identity keys to a device, as canonical JSON (the Merkle
# leaf is the hash of exactly these bytes). Written in the transaction that adds or removes
# the device, so no device exists that the log does not show.
key_log = sa.Table(
    "key_log",
    metadata,
    sa.Column("seq", SeqId, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(32), nullable=False, index=True),
    sa.Column("device_id", sa.String(32), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

key_log_heads = sa.Table(
    "key_log_heads",
    metadata,
    sa.Column("size", sa.BigInteger, primary_key=True),
    sa.Column("root", sa.LargeBinary(32), nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("signature", sa.LargeBinary(64), nullable=False),
)

# -- protected accounts ------------------------------------------------------------------

# One row per account that is protected or was invited into protection. The registration
# lock is kept as SHA-256 of the proof the device derives (the lock itself never arrives).
protection = sa.Table(
    "protection",
    metadata,
    sa.Column(
        "account_id",
        sa.String(32),
        sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("status", sa.String(16), nullable=False),  # invited | on
    sa.Column("lock_verifier", sa.LargeBinary(32), nullable=True),
    sa.Column("language", sa.String(16), nullable=False),  # of the alerts it sends
    sa.Column("enabled_at", sa.BigInteger, nullable=True),
    sa.Column("disable_requested_at", sa.BigInteger, nullable=True),
    sa.Column("invited_by", sa.String(100), nullable=True),
    sa.Column("invited_at", sa.BigInteger, nullable=True),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

# Wrong registration-lock attempts per named account id, whether or not it exists.
lock_attempts = sa.Table(
    "lock_attempts",
    metadata,
    sa.Column("account_id", sa.String(32), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("locked_until", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

# A new device's request to join a protected account: nothing exists for it (no device,
# no key-log entry) until an existing device approves it before it expires.
link_requests = sa.Table(
    "link_requests",
    metadata,
    sa.Column("request_id", sa.String(32), primary_key=True),
    sa.Column(
        "account_id",
        sa.String(32),
        sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("device_id", sa.String(32), nullable=False, unique=True),
    sa.Column("curve25519", sa.String(64), nullable=False),
    sa.Column("ed25519", sa.String(64), nullable=False),
    sa.Column("token_digest", sa.LargeBinary(32), nullable=False, unique=True),
    sa.Column("status", sa.String(16), nullable=False),  # pending | approved | denied
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("decided_at", sa.BigInteger, nullable=True),
)

# When each device last used its token, to within limits.LAST_SEEN_RESOLUTION_SECONDS;
# shown only to the account's own devices (the security checkup).
device_seen = sa.Table(
    "device_seen",
    metadata,
    sa.Column("device_id", sa.String(32), primary_key=True),
    sa.Column("account_id", sa.String(32), nullable=False, index=True),
    sa.Column("last_seen_at", sa.BigInteger, nullable=False),
)

# Possible coordinated reporting campaigns, for moderators; at most one open per account.
campaign_flags = sa.Table(
    "campaign_flags",
    metadata,
    sa.Column("flag_id", SeqId, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(32), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # open|confirmed|dismissed
    sa.Column("protected", sa.Boolean, nullable=False),
    sa.Column("window_start", sa.BigInteger, nullable=False),
    sa.Column("window_end", sa.BigInteger, nullable=False),
    sa.Column("reports", sa.Integer, nullable=False),
    sa.Column("reporters", sa.Integer, nullable=False),
    sa.Column("fresh_reporters", sa.Integer, nullable=False),
    sa.Column("median_reporter_age_ms", sa.BigInteger, nullable=False),
    sa.Column("burst", sa.Integer, nullable=False),
    sa.Column("overlap_permille", sa.Integer, nullable=False),
    sa.Column("signals", sa.Text, nullable=False),  # JSON list of what raised it
    sa.Column("reporter_accounts", sa.Text, nullable=False),  # JSON list
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Column("decided_at", sa.BigInteger, nullable=True),
    sa.Column("decided_by", sa.String(100), nullable=True),
    sa.Column("decision_note", sa.String(1000), nullable=True),
)
sa.Index(
    "uq_campaign_flags_open",
    campaign_flags.c.account_id,
    unique=True,
    sqlite_where=campaign_flags.c.status == "open",
    postgresql_where=campaign_flags.c.status == "open",
)
