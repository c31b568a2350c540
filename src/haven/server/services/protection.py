"""Protected accounts on the server: the registration-lock check (backed off per account and
per address), protection changes, new devices asking to join and their approval, device
alerts, and the brigading guard after each report.

A wrong lock, a lock tried while backing off, an account that is not protected and one
that does not exist all get the very same refusal, so the answer tells a guesser nothing.
"""

from __future__ import annotations

import logging

from haven.core import b64, clock, ids, limits
from haven.core.errors import ErrorCode, HavenError
from haven.core.wire import (
    CampaignInfo,
    DeviceActivity,
    IdentityKeys,
    JoinPending,
    JoinRequest,
    LinkRequestInfo,
    ProtectionChange,
    ProtectionStatus,
)
from haven.safety import alerts, auditlog, campaigns, protection
from haven.server.state import ServerState
from haven.store.interfaces import (
    CampaignFlagRecord,
    DeviceRecord,
    Identity,
    LinkRequestRecord,
)

log = logging.getLogger(__name__)

LOCK_REFUSED = (
    "the registration lock was not accepted; after several wrong attempts, each new one "
    "must wait longer"
)


def _refused() -> HavenError:
    return HavenError(ErrorCode.REGISTRATION_LOCK, LOCK_REFUSED)


def _proof(value: str | None, field: str) -> bytes:
    if value is None:
        raise HavenError(ErrorCode.BAD_REQUEST, f"{field} is required for this action")
    return b64.decode(value)  # the wire model checked it is base64 of 32 bytes


async def check_lock(state: ServerState, account_id: str, proof: bytes, address: str) -> None:
    """Raises the one refusal unless `proof` is the account's registration lock."""
    if not state.lock_backoff.charge(address):
        raise _refused()
    accepted = await state.stores.protection.check_lock(
        account_id, protection.verifier(proof), clock.now_ms(), protection.backoff_ms
    )
    if not accepted:
        raise _refused()
    state.lock_backoff.refund(address)


async def require_lock_if_protected(
    state: ServerState, account_id: str, proof: str | None, address: str
) -> None:
    """Adding a device to a protected account needs the registration lock as well as a
    device token: a stolen token alone cannot add a device."""
    current = await protection.current(state.stores, account_id, clock.now_ms())
    if not current.protected:
        return
    if proof is None:
        raise HavenError(
            ErrorCode.REGISTRATION_LOCK,
            "this account is protected: adding a device needs its registration lock",
        )
    await check_lock(state, account_id, b64.decode(proof), address)


async def _language(state: ServerState, account_id: str) -> str:
    record = await state.stores.protection.get(account_id)
    return alerts.DEFAULT_LANGUAGE if record is None else record.language


async def announce_device(state: ServerState, account_id: str, event: str, device_id: str) -> None:
    """A signed alert on every device of the account: a device added (or removed) behind
    the person's back cannot stay silent."""
    now = clock.now_ms()
    await alerts.send(
        state.stores, state.notice_key, account_id, event, await _language(state, account_id),
        {"device": device_id, "time": alerts.when(now)}, now,
    )  # fmt: skip
    await auditlog.seal(state.stores, state.audit_key, now)


def status_info(found: protection.Status) -> ProtectionStatus:
    record = found.record
    return ProtectionStatus(
        status=found.status,
        enabled_at=None if record is None or found.status == "invited" else record.enabled_at,
        disable_after=found.disable_after,
        invited=record is not None and record.invited_by is not None,
        language=alerts.DEFAULT_LANGUAGE if record is None else record.language,
        cooling_off_seconds=limits.PROTECTION_COOLING_OFF_SECONDS,
    )


async def status(state: ServerState, account_id: str) -> ProtectionStatus:
    return status_info(await protection.current(state.stores, account_id, clock.now_ms()))


async def change(
    state: ServerState, device: DeviceRecord, body: ProtectionChange, address: str
) -> ProtectionStatus:
    account, now = device.account_id, clock.now_ms()
    found = await protection.current(state.stores, account, now)
    stores, key = state.stores, state.notice_key
    if body.action == "enable":
        if found.protected:
            raise HavenError(
                ErrorCode.CONFLICT,
                "protection is on already; to change the lock use action change_lock",
            )
        proof = _proof(body.registration_lock, "registration_lock")
        found = await protection.enable(stores, key, account, proof, body.language, now)
    elif body.action == "cancel_disable":
        if found.status != "disabling":
            raise HavenError(ErrorCode.CONFLICT, "no request to turn protection off is waiting")
        found = await protection.cancel_disable(stores, key, account, now)
    else:
        if not found.protected:
            raise HavenError(ErrorCode.CONFLICT, "this account is not protected")
        proof = _proof(body.registration_lock, "registration_lock")
        new = _proof(body.new_lock, "new_lock") if body.action == "change_lock" else b""
        await check_lock(state, account, proof, address)
        if body.action == "change_lock":
            found = await protection.change_lock(stores, key, account, new, now)
        else:
            found = await protection.request_disable(stores, key, account, now)
    await auditlog.seal(stores, state.audit_key, clock.now_ms())
    return status_info(found)


def _request_info(record: LinkRequestRecord, status: str | None = None) -> LinkRequestInfo:
    return LinkRequestInfo(
        request_id=record.request_id, device_id=record.device_id,
        identity_keys=IdentityKeys(curve25519=record.identity.curve25519,
                                   ed25519=record.identity.ed25519),
        status=status or record.status,
        created_at=record.created_at, expires_at=record.expires_at,
    )  # fmt: skip


async def request_join(state: ServerState, body: JoinRequest, address: str) -> JoinPending:
    """A new device proves the lock of a protected account and asks to join it; nothing
    exists for it until a device of the account approves, and never if it expires first."""
    now = clock.now_ms()
    await protection.current(state.stores, body.account_id, now)  # completes a due turn-off
    await check_lock(state, body.account_id, b64.decode(body.registration_lock), address)
    request_id, device_id = ids.new_id(), ids.new_id()
    token = ids.device_token(device_id)
    expires_at = now + limits.LINK_REQUEST_TTL_SECONDS * 1000
    record = LinkRequestRecord(
        request_id, body.account_id, device_id,
        Identity(body.identity_keys.curve25519, body.identity_keys.ed25519),
        ids.token_digest(token), "pending", now, expires_at,
    )  # fmt: skip
    await state.stores.link_requests.create(record, limits.MAX_PENDING_LINK_REQUESTS, now)
    await alerts.send(
        state.stores, state.notice_key, body.account_id, "link_requested",
        await _language(state, body.account_id),
        {"request": request_id, "device": device_id, "time": alerts.when(now),
         "expires": alerts.when(expires_at)},
        now,
    )  # fmt: skip
    await auditlog.seal(state.stores, state.audit_key, now)
    return JoinPending(
        request_id=request_id, account_id=body.account_id, device_id=device_id, token=token,
        expires_at=expires_at,
    )  # fmt: skip


async def pending_requests(state: ServerState, account_id: str) -> list[LinkRequestInfo]:
    found = await state.stores.link_requests.pending(account_id, clock.now_ms())
    return [_request_info(r) for r in found]


async def approve_request(
    state: ServerState, device: DeviceRecord, request_id: str
) -> LinkRequestInfo:
    now = clock.now_ms()
    taken = await state.stores.link_requests.take(device.account_id, request_id, now)
    if taken is None:
        raise HavenError(
            ErrorCode.NOT_FOUND,
            "no such request is waiting (it may have expired, changing nothing)",
        )
    try:
        await state.stores.accounts.add_device(
            taken.account_id, taken.device_id, taken.identity, taken.token_digest, now,
            limits.MAX_DEVICES_PER_ACCOUNT,
        )  # fmt: skip
    except HavenError:
        await state.stores.link_requests.release(taken.request_id)
        raise
    await announce_device(state, device.account_id, "device_linked", taken.device_id)
    return _request_info(taken, "approved")


async def deny_request(state: ServerState, device: DeviceRecord, request_id: str) -> None:
    if not await state.stores.link_requests.deny(device.account_id, request_id, clock.now_ms()):
        raise HavenError(ErrorCode.NOT_FOUND, "no such request is waiting")


async def device_activity(state: ServerState, account_id: str) -> list[DeviceActivity]:
    return [
        DeviceActivity(device_id=a.device_id, created_at=a.created_at, last_seen_at=a.last_seen_at)
        for a in await state.stores.device_activity.activity(account_id)
    ]


async def invite(state: ServerState, account_id: str, actor: str, language: str) -> int:
    now = clock.now_ms()
    notice = await protection.invite(
        state.stores, state.notice_key, account_id, actor, language, now
    )
    await auditlog.seal(state.stores, state.audit_key, now)
    return notice.notice_id


async def after_report(state: ServerState, account_id: str) -> None:
    """The brigading guard, after a report against `account_id` was filed. Its failure is
    logged and never fails the report, which is filed already."""
    now = clock.now_ms()
    try:
        found = await protection.current(state.stores, account_id, now)
        await campaigns.review(state.stores, account_id, found.protected, now)
    except Exception:
        log.exception("the brigading guard could not review a report")


def campaign_info(flag: CampaignFlagRecord) -> CampaignInfo:
    figures = flag.figures
    return CampaignInfo(
        flag_id=flag.flag_id, account_id=flag.account_id, protected=flag.protected,
        status=flag.status,
        window_start=figures.window_start, window_end=figures.window_end,
        reports=figures.reports, reporters=figures.reporters,
        fresh_reporters=figures.fresh_reporters,
        median_reporter_age_seconds=figures.median_reporter_age_ms // 1000,
        burst=figures.burst, overlap=figures.overlap_permille / 1000,
        signals=list(figures.signals), reporter_accounts=list(figures.reporter_accounts),
        created_at=flag.created_at, updated_at=flag.updated_at, decided_at=flag.decided_at,
        decided_by=flag.decided_by, decision_note=flag.decision_note,
    )  # fmt: skip


async def decide_campaign(
    state: ServerState, flag_id: int, confirm: bool, by: str, note: str
) -> CampaignInfo:
    now = clock.now_ms()
    flag, _ = await campaigns.decide(
        state.stores, state.notice_key, flag_id, confirm, by, note, now
    )
    await auditlog.seal(state.stores, state.audit_key, clock.now_ms())
    return campaign_info(flag)
