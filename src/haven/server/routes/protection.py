"""Protected accounts: protection and its registration lock, devices asking to join and
their approval, when each device was last seen; for operators, invitations into
protection and possible coordinated reporting campaigns."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from haven.core.ids import ID_PATTERN
from haven.core.wire import (
    CampaignDecision,
    CampaignInfo,
    DeviceActivity,
    JoinPending,
    JoinRequest,
    LinkRequestInfo,
    ProtectionChange,
    ProtectionInvite,
    ProtectionInvited,
    ProtectionStatus,
)
from haven.server.auth import CurrentDevice, CurrentOperator
from haven.server.routes.common import PathId, State, errors
from haven.server.services import protection

router = APIRouter(tags=["protection"])
AccountId = Annotated[str, Path(pattern=ID_PATTERN)]


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/v1/accounts/me/protection")
async def protection_status(device: CurrentDevice, state: State) -> ProtectionStatus:
    """Whether your account is protected, invited into protection, or on its way off."""
    return await protection.status(state, device.account_id)


@router.post("/v1/accounts/me/protection", responses=errors(400, 403, 409))
async def change_protection(
    body: ProtectionChange, request: Request, device: CurrentDevice, state: State
) -> ProtectionStatus:
    """Turn protection on with a registration lock, change the lock (giving the current
    one), ask for protection to be turned off (with the lock; it stays on through the
    cooling-off period) or cancel that. Every change is announced on all your devices."""
    return await protection.change(state, device, body, _address(request))


@router.get("/v1/accounts/me/device-activity")
async def device_activity(device: CurrentDevice, state: State) -> list[DeviceActivity]:
    """Your devices, when each was added and when it was last seen."""
    return await protection.device_activity(state, device.account_id)


@router.post("/v1/link-requests", status_code=201, responses=errors(403, 409))
async def request_join(body: JoinRequest, request: Request, state: State) -> JoinPending:
    """A new device asks to join a protected account, proving its registration lock. Its
    token works only once a device of the account approves; unapproved, the request
    expires and nothing changes. A wrong lock, a locked-out account and an account that
    does not exist (or is not protected) get the same refusal."""
    state.limits.register(_address(request))
    return await protection.request_join(state, body, _address(request))


@router.get("/v1/accounts/me/link-requests")
async def link_requests(device: CurrentDevice, state: State) -> list[LinkRequestInfo]:
    """New devices waiting for your approval to join your account."""
    return await protection.pending_requests(state, device.account_id)


@router.post("/v1/accounts/me/link-requests/{request_id}/approve", responses=errors(404, 409))
async def approve_link_request(
    request_id: PathId, device: CurrentDevice, state: State
) -> LinkRequestInfo:
    """Let the device that asked join your account (all your devices are told)."""
    return await protection.approve_request(state, device, request_id)


@router.delete("/v1/accounts/me/link-requests/{request_id}", status_code=204, responses=errors(404))
async def deny_link_request(request_id: PathId, device: CurrentDevice, state: State) -> Response:
    """Refuse a device that asked to join: its token never works."""
    await protection.deny_request(state, device, request_id)
    return Response(status_code=204)


@router.post(
    "/v1/admin/accounts/{account_id}/protection-invite",
    status_code=201,
    responses=errors(400, 404, 409),
)
async def invite(
    account_id: AccountId, body: ProtectionInvite, operator: CurrentOperator, state: State
) -> ProtectionInvited:
    """Invite an account into protection: a signed notice on all its devices (recorded in
    the audit log)."""
    notice_id = await protection.invite(state, account_id, operator.name, body.language)
    return ProtectionInvited(notice_id=notice_id)


@router.get("/v1/admin/campaigns")
async def campaigns(
    _: CurrentOperator,
    state: State,
    status: Annotated[str, Query(pattern="^(open|confirmed|dismissed)$")] = "open",
) -> list[CampaignInfo]:
    """Possible coordinated reporting campaigns (open ones by default), oldest first."""
    return [protection.campaign_info(f) for f in await state.stores.campaigns.flags(status)]


@router.post("/v1/admin/campaigns/{flag_id}/decision", responses=errors(404, 409))
async def decide_campaign(
    flag_id: Annotated[int, Path(ge=1, le=2**62)],
    body: CampaignDecision,
    operator: CurrentOperator,
    state: State,
) -> CampaignInfo:
    """Confirm a campaign (its reports are closed as dismissed; a protected owner is told
    that a campaign was stopped, never by whom) or dismiss the flag."""
    return await protection.decide_campaign(
        state, flag_id, body.outcome == "confirm", operator.name, body.note
    )
