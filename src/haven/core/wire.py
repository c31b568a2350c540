"""The v1 wire protocol as typed models, shared by server (validation, OpenAPI) and client.

Binary fields travel as base64 (standard alphabet, padding optional). Models forbid unknown
fields so a typo in a client is an error, not silently ignored data.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from haven.core import b64, limits
from haven.core.ids import ID_PATTERN

ONE_TIME_KEY_CONTEXT = b"haven/one-time-key/v1\x00"


def key_signing_message(key: bytes) -> bytes:
    """What a device's Ed25519 identity key signs to vouch for one of its Curve25519 keys."""
    return ONE_TIME_KEY_CONTEXT + key


def _b64_of_length(length: int) -> AfterValidator:
    def check(value: str) -> str:
        try:
            raw = b64.decode(value)
        except b64.Base64Error:
            raise ValueError("must be base64") from None
        if len(raw) != length:
            raise ValueError(f"must decode to {length} bytes, got {len(raw)}")
        return value

    return AfterValidator(check)


def _b64_any(value: str) -> str:
    try:
        b64.decode(value)
    except b64.Base64Error:
        raise ValueError("must be base64") from None
    return value


Id = Annotated[str, Field(pattern=ID_PATTERN, description="128-bit id, 32 lower-case hex")]
Key32 = Annotated[str, Field(max_length=64), _b64_of_length(32)]
Signature64 = Annotated[str, Field(max_length=100), _b64_of_length(64)]
Ciphertext = Annotated[
    str,
    Field(min_length=1, max_length=(limits.MAX_CIPHERTEXT_BYTES * 4) // 3 + 4),
    AfterValidator(_b64_any),
]
KeyId = Annotated[str, Field(min_length=1, max_length=limits.MAX_KEY_ID_LENGTH)]
LockProof = Annotated[
    str,
    Field(
        max_length=64,
        description="Registration-lock proof: the 32-byte Argon2id output "
        "of the lock, derived on the device (base64)",
    ),
    _b64_of_length(32),
]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdentityKeys(Model):
    curve25519: Key32
    ed25519: Key32


class RegisterRequest(Model):
    identity_keys: IdentityKeys
    invite: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class DeviceCredentials(Model):
    account_id: Id
    device_id: Id
    token: str


class AddDeviceRequest(Model):
    identity_keys: IdentityKeys
    # Required when the account is protected: proof of its registration lock.
    registration_lock: LockProof | None = None


class DeviceInfo(Model):
    device_id: Id
    identity_keys: IdentityKeys
    created_at: int


class SignedHead(Model):
    """A signed Merkle tree head (haven.merkle.heads), binary fields base64."""

    size: int
    root: str
    timestamp: int
    signature: str


class BindingProof(Model):
    device_id: Id
    index: int
    entry: str  # the key-log binding, canonical JSON
    path: list[str]  # inclusion proof, base64 hashes


class KeyTransparency(Model):
    head: SignedHead
    proofs: list[BindingProof]


class DeviceList(Model):
    account_id: Id
    devices: list[DeviceInfo]
    transparency: KeyTransparency | None = None


class KeyLogKey(Model):
    key: str  # base64 raw Ed25519 public key of the key log; clients pin it


class ConsistencyProof(Model):
    old_size: int
    new_size: int
    path: list[str]


class SignedKey(Model):
    key_id: KeyId
    key: Key32
    signature: Signature64


class KeysUpload(Model):
    one_time_keys: list[SignedKey] = Field(
        default_factory=list, max_length=limits.MAX_ONE_TIME_KEYS_PER_UPLOAD
    )
    fallback_key: SignedKey | None = None


class KeyCount(Model):
    one_time_key_count: int
    has_fallback_key: bool


class DeviceAddress(Model):
    account_id: Id
    device_id: Id


class ClaimRequest(Model):
    devices: list[DeviceAddress] = Field(min_length=1, max_length=limits.MAX_CLAIM_DEVICES)


class ClaimedKey(Model):
    account_id: Id
    device_id: Id
    identity_keys: IdentityKeys
    one_time_key: SignedKey | None
    fallback: bool


class ClaimResponse(Model):
    keys: list[ClaimedKey]


FrankingTag = Annotated[
    str,
    Field(max_length=64, description="HMAC-SHA256 commitment to the plaintext (franking)"),
    _b64_of_length(32),
]


class SendRequest(Model):
    recipients: list[DeviceAddress] = Field(min_length=1, max_length=limits.MAX_RECIPIENTS)
    ciphertext: Ciphertext
    kind: Annotated[str, Field(min_length=1, max_length=limits.MAX_KIND_LENGTH)]
    franking_tag: FrankingTag | None = None


class SendResponse(Model):
    envelope_id: Id
    server_time: int


class Envelope(Model):
    envelope_id: Id
    sender: DeviceAddress
    kind: str
    ciphertext: str
    server_time: int
    franking_tag: str | None = None
    delivery_stamp: str | None = None  # the server's MAC over tag, sender, recipient, time


class EnvelopeBatch(Model):
    envelopes: list[Envelope]


class AckRequest(Model):
    envelope_ids: list[Id] = Field(min_length=1, max_length=limits.MAX_ACK_BATCH)


class AckResponse(Model):
    acked: int


class AttachmentCreated(Model):
    attachment_id: Id
    size: int
    expires_at: int


class Health(Model):
    status: Literal["ok", "degraded"]
    version: str
    database: Literal["ok", "down"]
    bus: Literal["ok", "down", "local"]


class ErrorDetail(Model):
    code: str
    message: str
    details: dict[str, object] | None = None


class ErrorBody(Model):
    error: ErrorDetail


# WebSocket frames on /v1/stream (JSON text frames).
class StreamEnvelope(Model):
    type: Literal["envelope"] = "envelope"
    envelope: Envelope


class StreamAck(Model):
    type: Literal["ack"]
    envelope_ids: list[Id] = Field(min_length=1, max_length=limits.MAX_ACK_BATCH)


class StreamSend(Model):
    """Send over the open stream instead of `POST /v1/messages` (same rules, no HTTP cost)."""

    type: Literal["send"]
    request_id: Annotated[str, Field(min_length=1, max_length=64)]
    message: SendRequest


class StreamSent(Model):
    type: Literal["sent"] = "sent"
    request_id: str
    envelope_id: Id
    server_time: int


class StreamError(Model):
    type: Literal["error"] = "error"
    request_id: str | None = None
    error: ErrorDetail


# -- link checks ------------------------------------------------------------------------


class RiceList(Model):
    """A Rice-Golomb coded sorted list of 32-bit integers (Safe Browsing's
    RiceDeltaEncoding); `encoded_data` is base64."""

    first_value: int | None = Field(default=None, ge=0, le=0xFFFF_FFFF)
    rice_parameter: int = Field(ge=1, le=31)
    entry_count: int = Field(ge=0, le=1 << 24)
    encoded_data: str = Field(max_length=48 * 1024 * 1024)


class LinkListUpdate(Model):
    """How a client gets from the list version it holds to `version`. With `reset`, it
    drops what it has first (additions are then the whole list)."""

    version: int
    reset: bool
    additions: RiceList
    removals: RiceList  # indices into the client's old sorted list
    checksum: str  # base64 SHA-256 of the new sorted list of 4-byte prefixes
    entries: int


class LinkSource(Model):
    publisher: str
    report: str


class LinkIndicator(Model):
    type: str
    value: str
    sources: list[LinkSource]


class LinkHash(Model):
    hash: str  # base64 SHA-256 of a blocked expression
    indicators: list[LinkIndicator]


class LinkHashes(Model):
    prefix: str  # hex, as asked
    cache_seconds: int
    matches: list[LinkHash]


# -- safety: account actions and appeals -------------------------------------------------

ActionName = Literal["warn", "restrict", "suspend", "ban", "revoke_device", "restore"]


class ActionRequest(Model):
    action: ActionName
    reason: str = Field(min_length=1, max_length=32)
    note: str = Field(default="", max_length=1000)
    device_id: Id | None = None


class ActionInfo(Model):
    action_id: int
    account_id: str
    action: str
    reason: str
    note: str
    device_id: str | None
    actor: str
    created_at: int


class AppealInfo(Model):
    appeal_id: int
    action_id: int
    status: str  # open | upheld | reversed
    text: str
    created_at: int
    decided_at: int | None
    decision_note: str | None


class AccountReview(Model):
    """What a moderator sees of an account: its standing and enforcement history."""

    account_id: str
    standing: str
    actions: list[ActionInfo]
    appeals: list[AppealInfo]


class DecisionRequest(Model):
    outcome: Literal["uphold", "reverse"]
    note: str = Field(default="", max_length=1000)


class OpenAppeal(Model):
    appeal: AppealInfo
    account_id: str
    action: ActionInfo


class StandingAction(Model):
    """An action as the affected person sees it: the published reason, not internal notes."""

    action_id: int
    action: str
    reason: str
    reason_title: str
    explanation: str
    created_at: int


class Standing(Model):
    standing: str
    actions: list[StandingAction]
    appeals: list[AppealInfo]


class AppealRequest(Model):
    action_id: int = Field(ge=1, le=2**62)
    text: str = Field(min_length=1, max_length=2000)


class AuditEntryInfo(Model):
    seq: int
    created_at: int
    kind: str
    data: str


class AuditPage(Model):
    entries: list[AuditEntryInfo]
    size: int


# -- safety: reports ---------------------------------------------------------------------


class ReportRequest(Model):
    """A recipient reveals a message to moderators: content, franking key, and the
    commitment and stamp exactly as the server delivered them."""

    envelope_id: Id
    sender: DeviceAddress
    server_time: int = Field(ge=0, le=2**62)
    franking_tag: str = Field(max_length=64)
    delivery_stamp: str = Field(max_length=64)
    content: str = Field(max_length=(64 * 1024 * 4) // 3 + 4)
    franking_key: str = Field(max_length=64)
    reason: str = Field(min_length=1, max_length=32)


class ReportFiled(Model):
    report_id: int
    verified: bool


class ReportInfo(Model):
    report_id: int
    status: str
    reason: str
    verified: bool
    problem: str
    reporter: str
    reported: DeviceAddress
    envelope_id: str
    server_time: int
    body: str  # the reported message text, as revealed
    created_at: int


class ReportDecision(Model):
    outcome: Literal["dismiss", "actioned"]
    note: str = Field(default="", max_length=1000)


# -- safety: notices ---------------------------------------------------------------------


class NoticeInfo(Model):
    notice_id: int
    account_id: str
    template: str
    language: str
    title: str
    body: str
    created_at: int


class SignedNotice(Model):
    notice: NoticeInfo
    signature: str  # base64 Ed25519 over haven.core.notices.Notice.to_bytes()


class NoticeKey(Model):
    key: str  # base64 raw Ed25519 public key; clients pin it when they join


class SendNoticeRequest(Model):
    accounts: list[Id] = Field(min_length=1, max_length=1000)
    template: str = Field(pattern="^[a-z0-9_]{1,64}$")
    language: str = Field(default="en", pattern="^[a-z]{2,8}$")


class NoticesSent(Model):
    notice_ids: list[int]


class NoticeTemplate(Model):
    template: str
    language: str
    title: str
    body: str


# -- protected accounts ------------------------------------------------------------------

ProtectionAction = Literal["enable", "change_lock", "disable", "cancel_disable"]


class ProtectionChange(Model):
    """Turn protection on (with a new lock), change the lock (with the current one), ask
    for it to be turned off (with the lock; it stays on through a cooling-off period), or
    cancel such a request (any device of the account)."""

    action: ProtectionAction
    registration_lock: LockProof | None = None
    new_lock: LockProof | None = None  # change_lock only
    language: str = Field(default="en", pattern="^[a-z]{2,8}$")  # of the alerts sent


class ProtectionStatus(Model):
    status: Literal["off", "invited", "on", "disabling"]
    enabled_at: int | None
    disable_after: int | None  # when a requested turn-off takes effect
    invited: bool  # an operator invited this account into protection
    language: str
    cooling_off_seconds: int


class DeviceActivity(Model):
    device_id: Id
    created_at: int
    last_seen_at: int | None  # to within limits.LAST_SEEN_RESOLUTION_SECONDS


class JoinRequest(Model):
    """A new device asks to join a protected account, proving its registration lock."""

    account_id: Id
    identity_keys: IdentityKeys
    registration_lock: LockProof


class JoinPending(Model):
    """The new device's future credentials: the token works only once an existing device
    approves the request, and never if it expires first."""

    request_id: Id
    account_id: Id
    device_id: Id
    token: str
    expires_at: int


class LinkRequestInfo(Model):
    request_id: Id
    device_id: Id
    identity_keys: IdentityKeys
    status: str  # pending | approved | denied
    created_at: int
    expires_at: int


class ProtectionInvite(Model):
    language: str = Field(default="en", pattern="^[a-z]{2,8}$")


class ProtectionInvited(Model):
    notice_id: int


class CampaignInfo(Model):
    """A possible coordinated reporting campaign against one account, for moderators."""

    flag_id: int
    account_id: str
    protected: bool
    status: str  # open | confirmed | dismissed
    window_start: int
    window_end: int
    reports: int
    reporters: int
    fresh_reporters: int  # reporter accounts younger than the "fresh" age
    median_reporter_age_seconds: int
    burst: int  # the most reporters within one burst span
    overlap: float  # share of reporters who also reported another target together
    signals: list[str]
    reporter_accounts: list[str]
    created_at: int
    updated_at: int
    decided_at: int | None
    decided_by: str | None
    decision_note: str | None


class CampaignDecision(Model):
    outcome: Literal["confirm", "dismiss"]
    note: str = Field(default="", max_length=1000)
