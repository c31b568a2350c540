"""Every failure leaves as `{"error": {"code", "message"}}` with the right status.

Clients never see a stack trace, an SQL error or their own input echoed back.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from haven.core.errors import ErrorCode, HavenError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.BODY_TOO_LARGE,
}


def error_response(error: HavenError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if error.code is ErrorCode.UNAUTHORIZED else None
    return JSONResponse(error.to_wire(), status_code=error.status, headers=headers)


def _validation_message(exc: RequestValidationError) -> HavenError:
    problems = []
    for err in exc.errors()[:10]:
        if err.get("type") == "json_invalid":
            return HavenError(ErrorCode.INVALID_JSON, "the request body is not valid JSON")
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return HavenError(ErrorCode.VALIDATION_FAILED, "the request is invalid: " + "; ".join(problems))


def install(app: FastAPI) -> None:
    async def on_haven_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HavenError)
        request.app.state.haven.metrics.rejected.labels(exc.code.value).inc()
        return error_response(exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return await on_haven_error(request, _validation_message(exc))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, ErrorCode.BAD_REQUEST)
        message = {
            ErrorCode.NOT_FOUND: "no such resource",
            ErrorCode.METHOD_NOT_ALLOWED: "this method is not allowed here",
        }.get(code, str(exc.detail))
        return error_response(HavenError(code, message))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(HavenError(ErrorCode.INTERNAL, "internal error; nothing was changed"))

    app.add_exception_handler(HavenError, on_haven_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
