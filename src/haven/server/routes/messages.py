from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from haven.core import limits
from haven.core.wire import AckRequest, AckResponse, EnvelopeBatch, SendRequest, SendResponse
from haven.server.auth import CurrentDevice
from haven.server.routes.common import State, errors
from haven.server.services import messages

router = APIRouter(prefix="/v1/messages", tags=["messages"])


@router.post("", status_code=201, responses=errors(404, 413))
async def send(body: SendRequest, device: CurrentDevice, state: State) -> SendResponse:
    """Queue one ciphertext for every recipient device, atomically."""
    return await messages.send(state, device, body)


@router.get("")
async def fetch(
    device: CurrentDevice,
    state: State,
    wait: Annotated[float, Query(ge=0, le=limits.MAX_LONG_POLL_SECONDS)] = 0,
    limit: Annotated[int, Query(ge=1, le=limits.MAX_FETCH_BATCH)] = limits.MAX_FETCH_BATCH,
) -> EnvelopeBatch:
    """Envelopes waiting for the caller, oldest first; long-polls up to `wait` seconds."""
    return EnvelopeBatch(envelopes=await messages.long_poll(state, device, wait, limit))


@router.post("/ack", responses=errors(404))
async def ack(body: AckRequest, device: CurrentDevice, state: State) -> AckResponse:
    """Acknowledge envelopes so they are deleted; all or nothing."""
    return AckResponse(acked=await messages.ack(state, device, body.envelope_ids))
