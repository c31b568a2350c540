"""Key transparency: the key-log public key clients pin, and consistency proofs between
heads (device lists carry the inclusion proofs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from haven.core import b64
from haven.core.errors import ErrorCode, HavenError
from haven.core.wire import ConsistencyProof, KeyLogKey
from haven.server.auth import CurrentDevice
from haven.server.routes.common import State, errors

router = APIRouter(prefix="/v1/keylog", tags=["keys"])


@router.get("/key")
async def key_log_key(state: State) -> KeyLogKey:
    """The key the key log's heads are signed with; a client pins it when it joins."""
    return KeyLogKey(key=b64.encode(state.key_log.public_key))


@router.get("/consistency", responses=errors(400))
async def consistency(
    _: CurrentDevice,
    state: State,
    old: Annotated[int, Query(alias="from", ge=0, le=2**62)],
    new: Annotated[int, Query(alias="to", ge=0, le=2**62)],
) -> ConsistencyProof:
    """Proof that the log at size `to` extends the log at size `from` (nothing rewritten)."""
    try:
        path = await state.key_log.consistency(old, new)
    except ValueError as exc:
        raise HavenError(ErrorCode.BAD_REQUEST, str(exc)) from None
    return ConsistencyProof(old_size=old, new_size=new, path=[b64.encode(h) for h in path])
