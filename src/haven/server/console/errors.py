"""Failures under /admin become console pages with the right status (the JSON API keeps
its `{"error": ...}` bodies): a person sees a sentence and a way back, never a stack trace
or their own input echoed unescaped."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from haven.core.errors import HavenError
from haven.server.console.headers import is_console_path
from haven.server.console.rendering import page
from haven.server.console.sessions import Forbidden, SignInRequired

log = logging.getLogger(__name__)
Handler = Callable[[Request, Exception], Awaitable[Response]]

_HTTP_MESSAGES = {
    404: "There is no such page in the console.",
    405: "This page cannot be used that way.",
    413: "That upload is too large.",
}


def problem(request: Request, status: int, message: str) -> Response:
    return page(request, "error.html", http_status=status, status_code=status, message=message)


def sign_in_redirect(request: Request) -> Response:
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/admin/login?next={quote(target, safe='')}", status_code=303)
    return problem(request, 401, "Your session has ended, or you are not signed in. Sign in "
                                 "again and repeat what you were doing.")  # fmt: skip


def _message(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, HavenError):
        return exc.status, exc.message
    if isinstance(exc, Forbidden):
        return 403, str(exc)
    if isinstance(exc, RequestValidationError):
        fields = sorted({str(e.get("loc", ("", "?"))[-1]) for e in exc.errors()[:10]})
        return 422, f"Some fields are missing or invalid: {', '.join(fields)}."
    if isinstance(exc, StarletteHTTPException):
        return exc.status_code, _HTTP_MESSAGES.get(exc.status_code, "The request was refused.")
    return 500, "Something went wrong on the server; nothing was changed."


def install(app: FastAPI) -> None:
    """Wrap the app's handlers: console paths get pages, every other path what it had."""

    def wrap(kind: type[Exception]) -> None:
        previous: Handler | None = app.exception_handlers.get(kind)  # type: ignore[assignment]

        async def handle(request: Request, exc: Exception) -> Response:
            if is_console_path(request.url.path):
                status, message = _message(exc)
                if status >= 500:
                    log.error("console error on %s", request.url.path, exc_info=exc)
                return problem(request, status, message)
            if previous is None:
                raise exc
            return await previous(request, exc)

        app.add_exception_handler(kind, handle)

    for kind in (HavenError, RequestValidationError, StarletteHTTPException, Exception):
        wrap(kind)

    async def on_sign_in(request: Request, exc: Exception) -> Response:
        return sign_in_redirect(request)

    async def on_forbidden(request: Request, exc: Exception) -> Response:
        return problem(request, 403, str(exc))

    # Raised only by the console's own session checks.
    app.add_exception_handler(SignInRequired, on_sign_in)
    app.add_exception_handler(Forbidden, on_forbidden)
