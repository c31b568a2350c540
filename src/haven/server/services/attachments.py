"""Encrypted attachment blobs: the server stores opaque bytes under an unguessable id."""

from __future__ import annotations

from collections.abc import AsyncIterator

from haven.core import clock, ids
from haven.core.errors import ErrorCode, HavenError
from haven.core.wire import AttachmentCreated
from haven.server.state import ServerState


async def store(state: ServerState, chunks: AsyncIterator[bytes]) -> AttachmentCreated:
    cap = state.config.max_attachment_bytes
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > cap:
            raise HavenError(ErrorCode.BODY_TOO_LARGE, f"attachments are capped at {cap} bytes")
        parts.append(chunk)
    if size == 0:
        raise HavenError(ErrorCode.BAD_REQUEST, "the attachment is empty")
    attachment_id = ids.new_id()
    now = clock.now_ms()
    expires_at = now + state.config.attachment_ttl_seconds * 1000
    await state.stores.blobs.put(attachment_id, b"".join(parts), now, expires_at)
    state.metrics.attachments_stored.inc()
    return AttachmentCreated(attachment_id=attachment_id, size=size, expires_at=expires_at)


async def fetch(state: ServerState, attachment_id: str) -> bytes:
    data = await state.stores.blobs.get(attachment_id, clock.expiry_cutoff_ms())
    if data is None:
        raise HavenError(ErrorCode.NOT_FOUND, "no such attachment, or it has expired")
    return data
