"""ASGI middleware at the edge: body size caps and per-address rate limits."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from haven.core.errors import ErrorCode, HavenError


class BodyTooLarge(StarletteHTTPException):
    """Raised from `receive`; an HTTPException so the framework passes it through unchanged."""

    def __init__(self, cap: int) -> None:
        super().__init__(413, f"the request body exceeds {cap} bytes")


async def _send_error(send: Send, error: HavenError) -> None:
    body = json.dumps(error.to_wire()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuses bodies over the cap (by Content-Length, or while streaming) with 413."""

    def __init__(self, app: ASGIApp, default: int, per_path: dict[str, int]) -> None:
        self.app = app
        self.default = default
        self.per_path = per_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.per_path.get(scope["path"], self.default)
        too_large = HavenError(ErrorCode.BODY_TOO_LARGE, f"the request body exceeds {cap} bytes")
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_error(send, HavenError(ErrorCode.BAD_REQUEST, "bad Content-Length"))
                    return
                if declared > cap:
                    await _send_error(send, too_large)
                    return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise BodyTooLarge(cap)
            return message

        await self.app(scope, limited_receive, send)


class AddressRateLimit:
    """A token bucket per client address. The address is a key in memory, never logged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"}:
            client = scope.get("client")
            state = scope["app"].state.haven
            try:
                state.limits.address(client[0] if client else "unknown")
            except HavenError as error:
                if scope["type"] == "http":
                    await _send_error(send, error)
                else:
                    await send({"type": "websocket.close", "code": 1013})
                return
        await self.app(scope, receive, send)
