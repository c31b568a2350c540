from __future__ import annotations

from fastapi import APIRouter, Request, Response

from haven.core.wire import AddDeviceRequest, DeviceCredentials, DeviceList, RegisterRequest
from haven.server.auth import CurrentDevice
from haven.server.routes.common import PathId, State, errors
from haven.server.services import accounts

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.post("", status_code=201, responses=errors(403, 409))
async def register(body: RegisterRequest, request: Request, state: State) -> DeviceCredentials:
    """Register an account with its first device; the token is shown once."""
    state.limits.register(request.client.host if request.client else "unknown")
    return await accounts.register(state, body.identity_keys, body.invite)


@router.post("/me/devices", status_code=201, responses=errors(403, 404, 409))
async def add_device(
    body: AddDeviceRequest, request: Request, device: CurrentDevice, state: State
) -> DeviceCredentials:
    """Add a further device to the caller's account. A protected account also needs its
    registration lock. Every device of the account is told, with a signed alert."""
    address = request.client.host if request.client else "unknown"
    return await accounts.add_device(
        state, device, body.identity_keys, body.registration_lock, address
    )


@router.get("/{account_id}/devices", responses=errors(404))
async def list_devices(account_id: PathId, _: CurrentDevice, state: State) -> DeviceList:
    """An account's devices and their identity keys, to encrypt to each of them."""
    return await accounts.list_devices(state, account_id)


@router.delete("/me/devices/{device_id}", status_code=204, responses=errors(404))
async def remove_device(device_id: PathId, device: CurrentDevice, state: State) -> Response:
    """Remove one of the caller's own devices, with its keys and queued envelopes (the
    remaining devices are told, with a signed alert)."""
    await accounts.remove_device(state, device, device_id)
    return Response(status_code=204)
