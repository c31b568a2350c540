"""Every size, count, rate and duration Haven enforces, in one place.

The edge (HTTP models, WebSocket frames, CLI) enforces these; nothing deeper invents its own.
Operators can override the ones exposed in `haven.core.config.Config`.
"""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB

# Messages
MAX_CIPHERTEXT_BYTES = 96 * KIB
MAX_RECIPIENTS = 1_000
MAX_KIND_LENGTH = 64
MESSAGE_TTL_SECONDS = 30 * 24 * 3600

# Requests
MAX_REQUEST_BODY_BYTES = 256 * KIB  # JSON bodies; base64 of a 96 KiB ciphertext is 128 KiB
MAX_WS_FRAME_BYTES = 256 * KIB

# Delivery
MAX_LONG_POLL_SECONDS = 60
MAX_FETCH_BATCH = 100
MAX_ACK_BATCH = 1_000
STREAM_WINDOW = 100  # envelopes in flight to one WebSocket before it must ack
STREAM_POLL_SECONDS = 5.0  # re-check the queue even without a wake-up (bus lost / down)

# Accounts and keys
MAX_DEVICES_PER_ACCOUNT = 10
MAX_ONE_TIME_KEYS_PER_UPLOAD = 100
MAX_ONE_TIME_KEYS_STORED = 500
MAX_CLAIM_DEVICES = 1_000
MAX_KEY_ID_LENGTH = 64

# Attachments
MAX_ATTACHMENT_BYTES = 25 * MIB
ATTACHMENT_TTL_SECONDS = 30 * 24 * 3600

# Link checks
MAX_LINK_CHARS = 8 * 1024  # a longer "URL" gets the defined verdict for absurd input
MAX_LINKS_PER_MESSAGE = 50
LINK_HASH_CACHE_SECONDS = 300  # how long a client may trust a full-hash answer
LINK_PREFIX_MIN_BYTES = 4
LINK_PREFIX_MAX_BYTES = 32
LINK_LIST_CACHED_VERSIONS = 8  # old list versions the server keeps in memory for diffs

# Safety
MAX_AUDIT_PAGE = 1_000

# Invites
INVITE_TTL_SECONDS = 7 * 24 * 3600
MAX_INVITE_USES = 1_000


@dataclass(frozen=True)
class Rate:
    """A token bucket: `burst` requests at once, refilled at `per_second`."""

    burst: int
    per_second: float


RATE_PER_DEVICE = Rate(burst=400, per_second=200.0)
RATE_PER_IP = Rate(burst=1_000, per_second=500.0)
RATE_REGISTRATION_PER_IP = Rate(burst=10, per_second=0.2)
RATE_LIMITER_MAX_KEYS = 100_000  # buckets kept in memory before the idlest are dropped
