"""Bearer device tokens: `<device id>.<secret>`, checked in constant time against the digest."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from haven.core import ids
from haven.core.errors import ErrorCode, HavenError
from haven.server.state import ServerState, get_state
from haven.store.interfaces import DeviceRecord, OperatorRecord

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
    if not ids.digests_match(digest, ids.token_digest(token)):
        return None
    await state.last_seen.touch(state.stores.device_activity, device)
    return device


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
    if is_blocked(device):
        raise HavenError(
            ErrorCode.ACCOUNT_SUSPENDED,
            f"this account is {device.standing}; see the notice sent to you, or appeal",
        )
    state.limits.device(device.device_id)
    return device


def is_blocked(device: DeviceRecord) -> bool:
    return device.standing in BLOCKED_STANDINGS


async def standing_device(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> DeviceRecord:
    """A device whose account may be suspended: only for reading its standing and
    appealing (a suspended person must still be able to appeal)."""
    state = get_state(request)
    device = await device_for_token(state, credentials.credentials if credentials else None)
    if device is None:
        raise _unauthorized()
    state.limits.device(device.device_id)
    return device


BLOCKED_STANDINGS = frozenset({"suspended", "banned"})
CurrentDevice = Annotated[DeviceRecord, Depends(current_device)]
AnyStandingDevice = Annotated[DeviceRecord, Depends(standing_device)]


def _not_operator() -> HavenError:
    return HavenError(
        ErrorCode.UNAUTHORIZED, "a valid operator (admin or moderator) token is required"
    )


async def current_operator(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> OperatorRecord:
    """An admin or moderator; a device token (any account's) is refused."""
    state = get_state(request)
    token = credentials.credentials if credentials else ""
    parts = ids.split_operator_token(token)
    if parts is None:
        raise _not_operator()
    found = await state.stores.operators.credentials(parts[0])
    # Compare even when there is no such operator, so timing does not tell ids apart.
    digest = found[1] if found is not None else bytes(32)
    if not ids.digests_match(digest, ids.token_digest(token)) or found is None:
        raise _not_operator()
    return found[0]


CurrentOperator = Annotated[OperatorRecord, Depends(current_operator)]
