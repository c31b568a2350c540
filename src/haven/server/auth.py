"""Bearer device tokens: `<device id>.<secret>`, checked in constant time against the digest."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from haven.core import ids
from haven.core.errors import ErrorCode, HavenError
from haven.server.state import ServerState, get_state
from haven.store.interfaces import DeviceRecord

_bearer = HTTPBearer(auto_error=False, description="Device token from registration")


def _unauthorized() -> HavenError:
    return HavenError(ErrorCode.UNAUTHORIZED, "a valid device token is required")


async def device_for_token(state: ServerState, token: str | None) -> DeviceRecord | None:
    if not token:
        return None
    parts = ids.split_device_token(token)
    if parts is None:
        return None
    found = await state.credentials.get(parts[0])
    if found is None:
        return None
    device, digest = found
    return device if ids.digests_match(digest, ids.token_digest(token)) else None


def bearer_from_headers(connection: HTTPConnection) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


async def current_device(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> DeviceRecord:
    state = get_state(request)
    device = await device_for_token(state, credentials.credentials if credentials else None)
    if device is None:
        raise _unauthorized()
    state.limits.device(device.device_id)
    return device


CurrentDevice = Annotated[DeviceRecord, Depends(current_device)]
