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
# Server processes' clocks may disagree by this much without anything expiring early
# (expired things are kept this much longer instead): haven.core.clock.expiry_cutoff_ms.
MAX_CLOCK_SKEW_SECONDS = 15 * 60

# Requests
MAX_REQUEST_BODY_BYTES = 256 * KIB  # JSON bodies; base64 of a 96 KiB ciphertext is 128 KiB
MAX_REQUEST_HEAD_BYTES = 16 * KIB  # request line and headers (a token is ~90 bytes)
MAX_REQUEST_HEADERS = 100
REQUEST_HEAD_SECONDS = 10.0  # from connecting (or a request's first byte) to its last header
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

# Protected accounts (registration lock, device links, brigading guard)
REGISTRATION_LOCK_MIN_CHARS = 6
REGISTRATION_LOCK_MAX_CHARS = 1024
LOCK_FREE_ATTEMPTS = 3  # wrong registration locks (per account, per address) before backoff
LOCK_BACKOFF_BASE_SECONDS = 30  # then 30 s, 60 s, 120 s ... after each further wrong one
LOCK_BACKOFF_MAX_SECONDS = 24 * 3600
LOCK_ADDRESSES_TRACKED = 100_000  # addresses whose wrong guesses are remembered, in memory
PROTECTION_COOLING_OFF_SECONDS = 7 * 24 * 3600  # from "turn protection off" to it being off
LINK_REQUEST_TTL_SECONDS = 15 * 60  # a request to join an account, unapproved, then expires
MAX_PENDING_LINK_REQUESTS = 3  # per account at once
LAST_SEEN_RESOLUTION_SECONDS = 3600  # a device's "last seen" is stored to within this
CAMPAIGN_WINDOW_SECONDS = 24 * 3600  # reports against one account counted together
CAMPAIGN_LOOKBACK_SECONDS = 30 * 24 * 3600  # reporters' other reports, for their overlap
CAMPAIGN_MIN_REPORTERS = 5  # fewer distinct reporters in the window is never a campaign
CAMPAIGN_FRESH_ACCOUNT_SECONDS = 7 * 24 * 3600  # a reporter account younger is "fresh"
CAMPAIGN_BURST_SECONDS = 15 * 60  # this many reporters inside this span is a burst
MAX_CAMPAIGN_REPORTERS_SHOWN = 500

# Operator console
CONSOLE_SESSION_IDLE_SECONDS = 30 * 60  # a session unused this long is over
CONSOLE_SESSION_MAX_SECONDS = 12 * 3600  # and none lasts longer than this, used or not
CONSOLE_FIRST_RUN_LINK_SECONDS = 3600  # the one-time sign-in link `haven up` prints
CONSOLE_MIN_PASSWORD_CHARS = 12
CONSOLE_MAX_PASSWORD_CHARS = 1024
CONSOLE_LOGIN_FREE_FAILURES = 5  # failed sign-ins (per address, per name) before backoff
CONSOLE_LOGIN_MAX_BACKOFF_SECONDS = 15 * 60
CONSOLE_MAX_UPLOAD_BYTES = 32 * MIB  # one intel file uploaded through the console
CONSOLE_PAGE_ROWS = 100  # rows per page of accounts, audit entries, search results

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
