"""The push transport: a WebSocket on /v1/stream that delivers envelopes as they arrive and
takes acks. Falls back to nothing by itself: callers use HTTP long-poll when it fails."""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any

import websockets
from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection

from haven.client.api import Unreachable
from haven.core import logprivacy
from haven.core.wire import Envelope, StreamEnvelope

# The websockets client logs handshake headers (the device token) at debug level.
logprivacy.protect("websockets.client")


class EnvelopeStream:
    def __init__(self, server: str, token: str, ssl_context: ssl.SSLContext | None = None) -> None:
        base = server.rstrip("/")
        self.url = (
            base.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/v1/stream"
        )
        self._token = token
        self._ssl = ssl_context  # a pinned server's (HavenApi.ssl_context); else the CAs
        self._ws: ClientConnection | None = None

    async def __aenter__(self) -> EnvelopeStream:
        try:
            self._ws = await websockets.connect(
                self.url,
                additional_headers={"Authorization": f"Bearer {self._token}"},
                compression=None,  # ciphertext does not compress; see the server's reason
                **self._tls_options(),
            )
        except (OSError, websockets.WebSocketException) as exc:
            raise Unreachable(f"cannot open the message stream at {self.url}: {exc}") from None
        return self

    def _tls_options(self) -> dict[str, Any]:
        return {"ssl": self._ssl} if self._ssl is not None else {}

    async def __aexit__(self, *_: object) -> None:
        if self._ws is not None:
            await self._ws.close()

    def _socket(self) -> ClientConnection:
        if self._ws is None:
            raise RuntimeError("use `async with EnvelopeStream(...)`")
        return self._ws

    async def next_batch(self, wait: float, limit: int = 100) -> list[Envelope]:
        """Envelopes pushed so far: waits up to `wait` seconds for the first, then takes
        whatever else has already arrived."""
        batch: list[Envelope] = []
        timeout = wait
        while len(batch) < limit:
            try:
                raw = await asyncio.wait_for(self._socket().recv(), timeout)
            except TimeoutError:
                break
            except websockets.ConnectionClosed as exc:
                if batch:
                    break
                raise Unreachable(f"the message stream closed: {exc}") from None
            frame = self._parse(raw)
            if frame is not None:
                batch.append(frame.envelope)
                timeout = 0.01
        return batch

    @staticmethod
    def _parse(raw: str | bytes) -> StreamEnvelope | None:
        try:
            data: Any = json.loads(raw)
            if data.get("type") != "envelope":
                return None  # errors and replies to frames this client did not send
            return StreamEnvelope.model_validate(data)
        except (ValueError, AttributeError, ValidationError):
            return None

    async def ack(self, envelope_ids: list[str]) -> None:
        try:
            await self._socket().send(json.dumps({"type": "ack", "envelope_ids": envelope_ids}))
        except websockets.ConnectionClosed as exc:
            raise Unreachable(f"the message stream closed: {exc}") from None
