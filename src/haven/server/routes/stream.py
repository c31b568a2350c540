"""WebSocket delivery on /v1/stream.

The server pushes `{"type": "envelope"}` frames in queue order, at most `STREAM_WINDOW` unacked
at a time; the client answers `{"type": "ack"}` frames, and may send `{"type": "send"}` frames
instead of POSTing. Anything unacked when the socket drops is pushed again on the next connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import TypeAdapter, ValidationError

from haven.core import clock, limits
from haven.core.errors import ErrorCode, HavenError
from haven.core.wire import (
    ErrorDetail,
    StreamAck,
    StreamEnvelope,
    StreamError,
    StreamSend,
    StreamSent,
)
from haven.server.auth import bearer_from_headers, device_for_token, is_blocked
from haven.server.bus import Listener
from haven.server.errors import error_response
from haven.server.services import messages
from haven.server.state import ServerState, get_state
from haven.store.interfaces import DeviceRecord, QueuedEnvelope

log = logging.getLogger(__name__)
router = APIRouter()

_incoming: TypeAdapter[StreamAck | StreamSend] = TypeAdapter(StreamAck | StreamSend)

CLOSE_POLICY = 1008  # bad or revoked token
CLOSE_REVOKED = 4401
CLOSE_TRY_AGAIN = 1013  # the database is unavailable: reconnect shortly


async def _refuse_for_now(ws: WebSocket, error: HavenError) -> None:
    """Refuse the handshake with the HTTP API's answer for the same failure (503 and the
    JSON error) where the server can send one; else a close that says "try again later"."""
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(error_response(error))
    else:
        await ws.close(code=CLOSE_TRY_AGAIN)


def _error_frame(error: HavenError, request_id: str | None = None) -> str:
    detail = ErrorDetail(
        code=error.code.value, message=error.message, details=error.details or None
    )
    return StreamError(request_id=request_id, error=detail).model_dump_json(exclude_none=True)


class _Session:
    def __init__(
        self, ws: WebSocket, state: ServerState, device: DeviceRecord, listener: Listener
    ) -> None:
        self.ws = ws
        self.state = state
        self.device = device
        self.listener = listener
        self.in_flight: set[str] = set()
        self._send_lock = asyncio.Lock()  # pushes and replies come from two tasks
        self._cursor = 0  # highest queue position pushed so far
        self._next_rescan = 0.0

    async def send(self, text: str) -> None:
        async with self._send_lock:
            await self.ws.send_text(text)

    async def _next_batch(self, room: int) -> list[QueuedEnvelope]:
        """What to push next. Mostly what was queued after the last pushed position: handed
        over by this process right after it queued it, else read from the queue. With
        several server processes a send can commit after a later-numbered one, so the queue
        is also re-read from its head (skipping what is in flight) when that finds nothing
        and at least every poll interval."""
        handed = self.listener.take()
        if clock.monotonic() < self._next_rescan:
            if handed is not None:
                # Not by position: SQLite hands out a deleted last position again once the
                # queue is empty. A read racing the hand-over may have pushed one already.
                fresh = [e for e in handed if e.envelope_id not in self.in_flight]
                if len(fresh) > room:
                    self.listener.forget()  # the rest is read from the queue when there is room
                return fresh[:room]
            batch = await messages.pending(self.state, self.device, room, after_seq=self._cursor)
            if batch:
                return batch
        self._next_rescan = clock.monotonic() + self.state.config.poll_seconds
        return await messages.pending(self.state, self.device, room, frozenset(self.in_flight))

    async def push(self) -> None:
        while not self.listener.revoked:
            self.listener.clear()
            room = limits.STREAM_WINDOW - len(self.in_flight)
            batch = await self._next_batch(room) if room > 0 else []
            for queued in batch:
                self.in_flight.add(queued.envelope_id)
                self._cursor = max(self._cursor, queued.seq)
                frame = StreamEnvelope.model_construct(
                    envelope=messages.to_wire(queued, self.device, self.state.stamp_key)
                )
                await self.send(frame.model_dump_json())
            self.state.metrics.envelopes_pushed.labels("stream").inc(len(batch))
            if not batch or len(self.in_flight) >= limits.STREAM_WINDOW:
                await self.listener.wait(self.state.config.poll_seconds)

    async def receive(self) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            text = message.get("text")
            try:
                if text is None:
                    raise ValueError("binary frame")
                frame = _incoming.validate_json(text)
            except (ValidationError, ValueError):
                await self.send(
                    _error_frame(HavenError(ErrorCode.VALIDATION_FAILED, "unrecognised frame"))
                )
                continue
            if isinstance(frame, StreamAck):
                await self._ack(frame)
            else:
                await self._send(frame)

    async def _ack(self, frame: StreamAck) -> None:
        try:
            await messages.ack(self.state, self.device, frame.envelope_ids)
        except HavenError as error:
            await self.send(_error_frame(error))
            return
        window_was_full = len(self.in_flight) >= limits.STREAM_WINDOW
        self.in_flight.difference_update(frame.envelope_ids)
        if window_was_full:
            self.listener.wake()

    async def _send(self, frame: StreamSend) -> None:
        try:
            self.state.limits.device(self.device.device_id)
            sent = await messages.send(self.state, self.device, frame.message)
        except HavenError as error:
            await self.send(_error_frame(error, frame.request_id))
            return
        reply = StreamSent(
            request_id=frame.request_id, envelope_id=sent.envelope_id, server_time=sent.server_time
        )
        await self.send(reply.model_dump_json())


@router.websocket("/v1/stream")
async def stream(ws: WebSocket) -> None:
    state = get_state(ws)
    try:
        device = await device_for_token(state, bearer_from_headers(ws))
    except HavenError as error:  # the database is unavailable: 503, as over HTTP
        await _refuse_for_now(ws, error)
        return
    if device is None or is_blocked(device):
        await ws.close(code=CLOSE_POLICY)  # before accept: the handshake is refused with 403
        return
    await ws.accept()
    state.metrics.streams.inc()
    try:
        with state.bus.listen(device.device_id) as listener:
            await state.bus.ready(device.device_id)
            session = _Session(ws, state, device, listener)
            tasks = [asyncio.create_task(session.push()), asyncio.create_task(session.receive())]
            _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            failed: HavenError | None = None
            for task in tasks:
                try:
                    await task
                except HavenError as error:  # the database went away under the stream
                    failed = error
                except (asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                    pass
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                if listener.revoked:
                    await ws.close(code=CLOSE_REVOKED, reason="device removed")
                elif failed is not None:
                    await ws.close(code=CLOSE_TRY_AGAIN, reason=failed.code.value)
    finally:
        state.metrics.streams.dec()
