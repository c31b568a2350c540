from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from haven.core.wire import AttachmentCreated
from haven.server.auth import CurrentDevice
from haven.server.routes.common import PathId, State, errors
from haven.server.services import attachments

router = APIRouter(prefix="/v1/attachments", tags=["attachments"])

_BINARY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post("", status_code=201, responses=errors(400, 413), openapi_extra=_BINARY_BODY)
async def upload(request: Request, _: CurrentDevice, state: State) -> AttachmentCreated:
    """Store an encrypted attachment (opaque bytes); anyone holding the id can fetch it."""
    return await attachments.store(state, request.stream())


@router.get(
    "/{attachment_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **errors(404)},
)
async def download(attachment_id: PathId, _: CurrentDevice, state: State) -> Response:
    """The encrypted bytes of an attachment, until it expires."""
    data = await attachments.fetch(state, attachment_id)
    return Response(data, media_type="application/octet-stream")
