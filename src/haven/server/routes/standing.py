"""An account's own standing and appeals. Reachable while suspended: a person must always
be able to see why and to appeal."""

from __future__ import annotations

from fastapi import APIRouter

from haven.core import clock
from haven.core.wire import AppealInfo, AppealRequest, Standing, StandingAction
from haven.safety import actions, auditlog
from haven.safety.policy import reason
from haven.server.auth import AnyStandingDevice
from haven.server.routes.common import State, errors
from haven.server.routes.moderation import appeal_info

router = APIRouter(prefix="/v1/accounts/me", tags=["accounts"])


@router.get("/standing")
async def standing(device: AnyStandingDevice, state: State) -> Standing:
    """Your account's standing, the actions taken on it (with the published reason) and
    your appeals with their outcomes."""
    account = device.account_id
    shown = []
    for record in await state.stores.moderation.history(account):
        cited = reason(record.reason)
        shown.append(
            StandingAction(
                action_id=record.action_id,
                action=record.action,
                reason=record.reason,
                reason_title=cited.title,
                explanation=cited.explanation,
                created_at=record.created_at,
            )
        )
    return Standing(
        standing=await state.stores.moderation.standing(account),
        actions=shown,
        appeals=[appeal_info(a) for a in await state.stores.moderation.appeals(account_id=account)],
    )


@router.post("/appeals", status_code=201, responses=errors(400, 404, 409))
async def appeal(body: AppealRequest, device: AnyStandingDevice, state: State) -> AppealInfo:
    """Appeal an action taken on your account; a moderator upholds or reverses it."""
    made = await actions.appeal(
        state.stores, device.account_id, body.action_id, body.text, clock.now_ms()
    )
    await auditlog.seal(state.stores, state.audit_key, clock.now_ms())
    return appeal_info(made)
