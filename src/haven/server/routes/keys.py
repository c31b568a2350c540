from __future__ import annotations

from fastapi import APIRouter

from haven.core.errors import ErrorCode, HavenError
from haven.core.wire import ClaimRequest, ClaimResponse, KeyCount, KeysUpload
from haven.server.auth import CurrentDevice
from haven.server.routes.common import State, errors
from haven.server.services import keys

router = APIRouter(prefix="/v1/keys", tags=["keys"])


@router.put("", responses=errors(400, 409))
async def upload(body: KeysUpload, device: CurrentDevice, state: State) -> KeyCount:
    """Upload signed one-time keys and/or replace the fallback key."""
    return await keys.upload(state, device, body)


@router.get("/count")
async def count(device: CurrentDevice, state: State) -> KeyCount:
    """How many one-time keys the server still holds for the caller (refill when low)."""
    return await keys.count(state, device)


@router.post("/claim", responses=errors(404))
async def claim(body: ClaimRequest, device: CurrentDevice, state: State) -> ClaimResponse:
    """Take one key per device: a one-time key never handed out before, else the fallback.
    A restricted account cannot: new encrypted sessions are how new conversations start,
    and existing ones keep working."""
    if device.standing == "restricted":
        raise HavenError(
            ErrorCode.ACCOUNT_RESTRICTED,
            "this account is restricted: it cannot start new conversations",
        )
    return await keys.claim(state, body)
