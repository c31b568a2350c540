"""What the rest of Haven may ask of storage: one small interface per data type.

Implementations raise `haven.core.errors.HavenError` for failures a caller must see (unknown
recipient, invite used up, ...) and leave the database unchanged when they do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Identity:
    curve25519: str
    ed25519: str


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    account_id: str
    device_id: str
    identity: Identity
    created_at: int
    standing: str = "active"  # the account's: active | restricted | suspended | banned


@dataclass(frozen=True, slots=True)
class Address:
    account_id: str
    device_id: str


@dataclass(frozen=True, slots=True)
class SignedKeyRecord:
    key_id: str
    public_key: str
    signature: str


@dataclass(frozen=True, slots=True)
class ClaimedKeyRecord:
    device: DeviceRecord
    key: SignedKeyRecord | None
    fallback: bool


@dataclass(frozen=True, slots=True)
class KeyCounts:
    one_time: int
    has_fallback: bool


@dataclass(frozen=True, slots=True)
class NewEnvelope:
    envelope_id: str
    sender: Address
    kind: str
    ciphertext: bytes
    server_time: int
    expires_at: int
    franking_tag: bytes | None = None


@dataclass(frozen=True, slots=True)
class QueuedEnvelope:
    seq: int
    envelope_id: str
    sender: Address
    kind: str
    ciphertext: bytes
    server_time: int
    franking_tag: bytes | None = None


@dataclass(frozen=True, slots=True)
class InviteRecord:
    created_at: int
    expires_at: int
    uses_left: int
    note: str


class AccountStore(Protocol):
    async def create_account(
        self,
        account_id: str,
        device_id: str,
        identity: Identity,
        token_digest: bytes,
        now: int,
        invite_digest: bytes | None,
    ) -> None:
        """Account plus its first device; consumes one use of the invite when one is given."""

    async def add_device(
        self,
        account_id: str,
        device_id: str,
        identity: Identity,
        token_digest: bytes,
        now: int,
        max_devices: int,
    ) -> None: ...

    async def credentials(self, device_id: str) -> tuple[DeviceRecord, bytes] | None:
        """The device and the digest of its token, for a constant-time token check."""

    async def devices(self, account_id: str) -> list[DeviceRecord] | None:
        """None when the account does not exist."""

    async def delete_device(self, account_id: str, device_id: str) -> bool:
        """Removes the device with its keys and queue; False if it is not this account's."""


class KeyStore(Protocol):
    async def put_keys(
        self,
        device_id: str,
        one_time: Sequence[SignedKeyRecord],
        fallback: SignedKeyRecord | None,
        max_stored: int,
    ) -> KeyCounts: ...

    async def counts(self, device_id: str) -> KeyCounts: ...

    async def claim(self, devices: Sequence[Address]) -> list[ClaimedKeyRecord]:
        """One key per device: a one-time key never handed out before, else the fallback key."""


class QueueStore(Protocol):
    async def enqueue(self, envelope: NewEnvelope, recipients: Sequence[Address]) -> None:
        """Store the ciphertext once and queue it for every recipient, all or nothing."""

    def on_queued(self, hook: Callable[[list[tuple[str, QueuedEnvelope]]], None]) -> None:
        """Have `hook` called after each commit of this store that queued envelopes, with
        (recipient device id, envelope) pairs in queue order, before the senders are told."""

    async def pending(
        self,
        device_id: str,
        limit: int,
        now: int,
        exclude: frozenset[str] = frozenset(),
        after_seq: int = 0,
    ) -> list[QueuedEnvelope]:
        """Unacked, unexpired envelopes in queue order, skipping ids in `exclude` and, when
        `after_seq` is given, those queued at or before it."""

    async def ack(self, device_id: str, envelope_ids: Sequence[str]) -> int:
        """Remove from this device's queue; refuses (changing nothing) if one is not in it."""

    async def purge_expired(self, now: int) -> int: ...


class BlobStore(Protocol):
    async def put(self, attachment_id: str, data: bytes, now: int, expires_at: int) -> None: ...

    async def get(self, attachment_id: str, now: int) -> bytes | None: ...

    async def purge_expired(self, now: int) -> int: ...


class InviteStore(Protocol):
    async def create(
        self, code_digest: bytes, now: int, expires_at: int, uses: int, note: str
    ) -> None: ...

    async def list(self, now: int) -> list[InviteRecord]: ...


@dataclass(frozen=True, slots=True)
class IntelSource:
    publisher: str
    report: str
    file: str
    line: int
    first_seen: str | None
    tlp: str


@dataclass(frozen=True, slots=True)
class IntelRecord:
    kind: str
    value: str
    sources: tuple[IntelSource, ...]


@dataclass(frozen=True, slots=True)
class ImportSummary:
    version: int
    new_indicators: int  # not known before
    merged_indicators: int  # known already, at least one new source
    new_sources: int


@dataclass(frozen=True, slots=True)
class IntelChanges:
    version: int  # the current version
    added: list[tuple[str, str]]  # (kind, value) added after the version asked about
    removed: list[tuple[str, str]]


class IntelStore(Protocol):
    async def import_records(
        self, records: Sequence[IntelRecord], note: str, now: int
    ) -> ImportSummary:
        """One transaction: everything or nothing."""

    async def remove_source(self, publisher: str, report: str | None, now: int) -> int:
        """Withdraw what one source said; indicators other sources vouch for stay."""

    async def search(self, text: str, limit: int) -> list[IntelRecord]: ...

    async def active(self) -> list[IntelRecord]:
        """Every indicator some source still vouches for, with those sources."""

    async def changes_since(self, version: int) -> IntelChanges: ...

    async def version(self) -> int: ...

    async def count(self) -> int: ...

    async def added_after(self, after_ms: int, limit: int, offset: int = 0) -> list[IntelObject]:
        """Active indicators added after `after_ms`, oldest first (TAXII `added_after`)."""

    async def blockable(self) -> list[BlockableIndicator]:
        """Active domain and URL indicators with their ids and the TLPs of their sources."""


class PeerStore(Protocol):
    async def create(self, name: str, token_digest: bytes, now: int) -> None:
        """Raises HavenError(CONFLICT-like) if the name is taken."""

    async def digest(self, name: str) -> bytes | None: ...

    async def names(self) -> list[str]: ...

    async def remove(self, name: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class IntelObject:
    """An indicator as TAXII serves it: with the time it was added to the feed."""

    record: IntelRecord
    added_at: int  # ms since the epoch


@dataclass(frozen=True, slots=True)
class BlockableIndicator:
    """A domain or URL indicator some source still vouches for, as link blocking reads it."""

    indicator_id: int
    kind: str
    value: str
    tlps: frozenset[str]  # of its active sources


@dataclass(frozen=True, slots=True)
class LinkguardEntry:
    full_hash: bytes  # SHA-256 of the expression
    expression: str  # e.g. `evil.example/` or `drive.google.com/file/d/x`
    indicator_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LinkguardVersion:
    version: int
    intel_version: int  # the intel it was built from
    entries: int
    created_at: int


@dataclass(frozen=True, slots=True)
class LinkguardMatch:
    full_hash: bytes
    expression: str
    indicators: tuple[IntelRecord, ...]  # why it is listed, with their sources


@dataclass(frozen=True, slots=True)
class AllowEntry:
    expression: str
    note: str
    created_at: int


class LinkguardStore(Protocol):
    async def current(self) -> LinkguardVersion | None: ...

    async def active_entries(self) -> dict[bytes, tuple[int, ...]]:
        """Every listed full hash with the indicators behind it (for a rebuild)."""

    async def record(
        self,
        based_on: int,
        intel_version: int,
        added: Sequence[LinkguardEntry],
        removed: Sequence[bytes],
        changed: Sequence[LinkguardEntry],
        now: int,
    ) -> LinkguardVersion | None:
        """One transaction: a new version on top of `based_on`. None when another
        builder already built on that version (nothing is written)."""

    async def prefixes_at(self, version: int) -> list[int]:
        """The distinct 4-byte prefixes (as big-endian integers) listed at `version`."""

    async def matches(self, prefix: bytes) -> list[LinkguardMatch]:
        """Listed full hashes starting with `prefix` (4 to 32 bytes)."""

    async def allow(self, expression: str, note: str, now: int) -> bool:
        """False if it was allowed already."""

    async def disallow(self, expression: str) -> bool: ...

    async def allowlist(self) -> list[AllowEntry]: ...


# -- safety ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OperatorRecord:
    operator_id: str
    name: str
    role: str  # admin | moderator
    created_at: int


@dataclass(frozen=True, slots=True)
class NewAuditEntry:
    created_at: int
    kind: str
    data: str  # canonical JSON, the bytes the Merkle leaf commits to
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class AuditRow:
    seq: int  # 1-based position in the log
    created_at: int
    kind: str
    data: str
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class AuditHeadRow:
    size: int
    root: bytes
    timestamp: int
    signature: bytes


@dataclass(frozen=True, slots=True)
class ActionRecord:
    action_id: int
    account_id: str
    action: str
    reason: str
    note: str
    device_id: str | None
    actor: str
    created_at: int


@dataclass(frozen=True, slots=True)
class AppealRecord:
    appeal_id: int
    action_id: int
    account_id: str
    text: str
    status: str  # open | upheld | reversed
    created_at: int
    decided_at: int | None
    decided_by: str | None
    decision_note: str | None


@dataclass(frozen=True, slots=True)
class NewReport:
    reporter_account: str
    reporter_device: str
    sender_account: str
    sender_device: str
    envelope_id: str
    server_time: int
    reason: str
    content: str
    verified: bool
    problem: str


@dataclass(frozen=True, slots=True)
class ReportRecord:
    report_id: int
    report: NewReport
    status: str  # open | actioned | dismissed
    created_at: int
    decided_at: int | None
    decided_by: str | None
    decision_note: str | None


class OperatorStore(Protocol):
    async def create(
        self, operator_id: str, name: str, role: str, token_digest: bytes, now: int
    ) -> None:
        """Raises HavenError(CONFLICT) if the name is taken."""

    async def credentials(self, operator_id: str) -> tuple[OperatorRecord, bytes] | None: ...

    async def all(self) -> list[OperatorRecord]: ...


class ModerationStore(Protocol):
    async def act(
        self,
        account_id: str,
        action: str,
        reason: str,
        note: str,
        device_id: str | None,
        actor: str,
        now: int,
        standing: str | None,
        audit: NewAuditEntry,
    ) -> ActionRecord:
        """One transaction: the action, the account's new standing (None: unchanged,
        "active": cleared) and its audit entry. HavenError(NOT_FOUND) for no account."""

    async def standing(self, account_id: str) -> str: ...

    async def history(self, account_id: str) -> list[ActionRecord]: ...

    async def action(self, action_id: int) -> ActionRecord | None: ...

    async def appeal(
        self, action_id: int, account_id: str, text: str, now: int, audit: NewAuditEntry
    ) -> AppealRecord:
        """HavenError(NOT_FOUND) unless the action is this account's; CONFLICT when an
        appeal of it is already open or decided."""

    async def appeals(
        self, status: str | None = None, account_id: str | None = None
    ) -> list[AppealRecord]: ...

    async def decide(
        self,
        appeal_id: int,
        outcome: str,
        by: str,
        note: str,
        now: int,
        standing: str | None,
        audit: NewAuditEntry,
    ) -> AppealRecord:
        """HavenError(NOT_FOUND) / CONFLICT when already decided."""


class ReportStore(Protocol):
    async def file(self, report: NewReport, now: int, audit: NewAuditEntry) -> ReportRecord:
        """CONFLICT when this device already reported this envelope."""

    async def reports(self, status: str | None = None) -> list[ReportRecord]: ...

    async def close(
        self, report_id: int, status: str, by: str, note: str, now: int, audit: NewAuditEntry
    ) -> ReportRecord:
        """NOT_FOUND / CONFLICT when already closed."""


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    notice_id: int
    account_id: str
    template: str
    language: str
    title: str
    body: str
    created_at: int
    signature: bytes


class NoticeStore(Protocol):
    async def send(
        self,
        account_ids: Sequence[str],
        template: str,
        language: str,
        title: str,
        body: str,
        now: int,
        sign: Callable[[NoticeRecord], bytes],
        audit: Callable[[str], NewAuditEntry],
    ) -> list[NoticeRecord]:
        """One transaction: a notice per account, each signed by `sign` (which sees its
        final id), each with its audit entry. NOT_FOUND if any account does not exist."""

    async def for_account(self, account_id: str) -> list[NoticeRecord]: ...

    async def all(self) -> list[NoticeRecord]: ...


class AuditStore(Protocol):
    async def append(self, entry: NewAuditEntry) -> int:
        """The new entry's position (1-based)."""

    async def entries(self, after: int = 0, limit: int | None = None) -> list[AuditRow]: ...

    async def count(self) -> int: ...

    async def put_head(self, head: AuditHeadRow) -> bool:
        """False when a head for this size exists (heads are never replaced)."""

    async def heads(self) -> list[AuditHeadRow]: ...


@dataclass(frozen=True, slots=True)
class KeyLogRow:
    seq: int  # 1-based position in the key log
    account_id: str
    device_id: str
    data: str  # canonical JSON binding: the Merkle leaf


class KeyLogStore(Protocol):
    async def entries(self, after: int = 0) -> list[KeyLogRow]: ...

    async def entries_for(self, account_id: str) -> list[KeyLogRow]: ...

    async def put_head(self, head: AuditHeadRow) -> bool:
        """False when a head for this size exists (heads are never replaced)."""

    async def head(self, size: int | None = None) -> AuditHeadRow | None:
        """The head for `size`, or the latest."""


# -- the operator console ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsoleCredential:
    operator: OperatorRecord
    password_hash: str  # Argon2id PHC string
    totp_secret: bytes | None
    totp_last_step: int | None


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    operator: OperatorRecord
    csrf_token: str
    created_at: int
    expires_at: int


class ConsoleStore(Protocol):
    async def set_password(
        self, operator_id: str, password_hash: str, totp_secret: bytes | None, now: int
    ) -> None:
        """Give an operator a console password (and TOTP secret), replacing any earlier one;
        their open sessions end."""

    async def credential(self, name: str) -> ConsoleCredential | None: ...

    async def has_console_operator(self) -> bool: ...

    async def use_totp_step(self, operator_id: str, step: int) -> bool:
        """Record that the code of `step` was used; False if it (or a later one) was."""

    async def create_first_operator(
        self,
        link_digest: bytes,
        operator: OperatorRecord,
        token_digest: bytes,
        password_hash: str,
        now: int,
    ) -> None:
        """Spend a one-time sign-in link and create the first admin with a console password,
        in one transaction (nothing changes if the link is spent, expired or unknown)."""

    async def create_session(
        self, token_digest: bytes, operator_id: str, csrf_token: str, now: int, expires_at: int
    ) -> None: ...

    async def session(self, token_digest: bytes, now: int, idle_ms: int) -> ConsoleSession | None:
        """The live session (touching its last use), or None if unknown, expired or idle."""

    async def end_session(self, token_digest: bytes) -> None: ...

    async def purge_sessions(self, now: int, idle_ms: int) -> int: ...

    async def create_link(self, token_digest: bytes, now: int, expires_at: int) -> None: ...

    async def link_usable(self, token_digest: bytes, now: int) -> bool: ...


@dataclass(frozen=True, slots=True)
class ServiceCounts:
    accounts: int
    devices: int
    queued: int  # per-device queue entries waiting for delivery
    operators: int
    open_reports: int
    open_appeals: int
    intel_indicators: int
    intel_version: int
    intel_updated_at: int | None
    link_version: int
    link_entries: int
    link_built_at: int | None


@dataclass(frozen=True, slots=True)
class AccountSummary:
    account_id: str
    created_at: int
    devices: int
    standing: str


class OverviewStore(Protocol):
    """Read-only figures and look-ups for the operator console."""

    async def counts(self) -> ServiceCounts: ...

    async def find_accounts(self, text: str, limit: int) -> list[AccountSummary]:
        """Accounts whose id starts with `text` (all, newest first, when it is empty)."""

    async def account(self, account_id: str) -> AccountSummary | None: ...


# -- protected accounts -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProtectionRecord:
    account_id: str
    status: str  # invited | on (turned off: no record)
    lock_verifier: bytes | None  # SHA-256 of the registration-lock proof
    language: str
    enabled_at: int | None
    disable_requested_at: int | None  # a turn-off waiting out its cooling-off period
    invited_by: str | None
    invited_at: int | None


class ProtectionStore(Protocol):
    async def get(self, account_id: str) -> ProtectionRecord | None: ...

    async def invite(
        self, account_id: str, by: str, language: str, now: int, audit: NewAuditEntry
    ) -> ProtectionRecord:
        """NOT_FOUND for no account, CONFLICT when it is protected already."""

    async def enable(
        self, account_id: str, verifier: bytes, language: str, now: int, audit: NewAuditEntry
    ) -> ProtectionRecord:
        """CONFLICT when it is protected already (the lock is changed with set_verifier)."""

    async def set_verifier(
        self, account_id: str, verifier: bytes, now: int, audit: NewAuditEntry
    ) -> ProtectionRecord: ...

    async def request_disable(
        self, account_id: str, now: int, audit: NewAuditEntry
    ) -> ProtectionRecord:
        """Starts the cooling-off period (a second request keeps the first's start)."""

    async def cancel_disable(
        self, account_id: str, now: int, audit: NewAuditEntry
    ) -> ProtectionRecord: ...

    async def turn_off(self, account_id: str, audit: NewAuditEntry) -> bool:
        """Removes the protection of an account whose cooling-off period is over."""

    async def check_lock(
        self, account_id: str, proof_digest: bytes, now: int, backoff: Callable[[int], int]
    ) -> bool:
        """One attempt at the lock of `account_id` (which may not exist), in one
        transaction: refused without a comparison while a backoff runs; a wrong (or absent)
        lock counts one more failure and starts `backoff(failures)` ms of backoff; a right
        one clears the count."""


@dataclass(frozen=True, slots=True)
class LinkRequestRecord:
    request_id: str
    account_id: str
    device_id: str
    identity: Identity
    token_digest: bytes
    status: str  # pending | approved | denied
    created_at: int
    expires_at: int


class LinkRequestStore(Protocol):
    async def create(self, request: LinkRequestRecord, max_pending: int, now: int) -> None:
        """CONFLICT when the account has `max_pending` unexpired pending requests, or the
        identity key is in use already."""

    async def pending(self, account_id: str, now: int) -> list[LinkRequestRecord]: ...

    async def take(self, account_id: str, request_id: str, now: int) -> LinkRequestRecord | None:
        """Marks a pending, unexpired request of this account approved and returns it;
        None when there is none."""

    async def release(self, request_id: str) -> None:
        """Back to pending: its approval could not add the device."""

    async def deny(self, account_id: str, request_id: str, now: int) -> bool: ...


@dataclass(frozen=True, slots=True)
class DeviceActivityRecord:
    device_id: str
    created_at: int
    last_seen_at: int | None


class DeviceActivityStore(Protocol):
    async def touch(self, device_id: str, account_id: str, at: int) -> None: ...

    async def activity(self, account_id: str) -> list[DeviceActivityRecord]:
        """The account's current devices, oldest first."""


@dataclass(frozen=True, slots=True)
class ReportSignal:
    """A report against an account, with what the brigading guard weighs of its reporter."""

    report_id: int
    reporter_account: str
    reporter_created_at: int
    reported_at: int


@dataclass(frozen=True, slots=True)
class CampaignFigures:
    window_start: int
    window_end: int
    reports: int
    reporters: int
    fresh_reporters: int
    median_reporter_age_ms: int
    burst: int
    overlap_permille: int
    signals: tuple[str, ...]
    reporter_accounts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CampaignFlagRecord:
    flag_id: int
    account_id: str
    status: str  # open | confirmed | dismissed
    protected: bool
    figures: CampaignFigures
    created_at: int
    updated_at: int
    decided_at: int | None
    decided_by: str | None
    decision_note: str | None


class CampaignStore(Protocol):
    async def signals(self, account_id: str, since: int) -> list[ReportSignal]:
        """Reports against the account filed at or after `since`, oldest first."""

    async def other_targets(
        self, reporters: Sequence[str], besides: str, since: int
    ) -> dict[str, frozenset[str]]:
        """For each reporter, the other accounts it reported since `since`."""

    async def raise_flag(
        self,
        account_id: str,
        protected: bool,
        figures: CampaignFigures,
        now: int,
        audit: Callable[[int, bool], NewAuditEntry],
    ) -> tuple[CampaignFlagRecord, bool]:
        """One transaction: a new open flag, or the account's open flag updated (True when
        new), with the audit entry `audit(flag id, created)`."""

    async def open_flag(self, account_id: str) -> CampaignFlagRecord | None: ...

    async def flags(self, status: str | None = None) -> list[CampaignFlagRecord]: ...

    async def decide(
        self, flag_id: int, status: str, by: str, note: str, now: int, audit: NewAuditEntry
    ) -> CampaignFlagRecord:
        """NOT_FOUND / CONFLICT when already decided."""
