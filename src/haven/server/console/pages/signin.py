"""Signing in and out, and the first admin's one-time sign-in link. These pages have no
session yet, so their forms carry a token that is also in a short-lived `__Host-` cookie
(double submit); the same address and name rate limits apply to every failed attempt,
and a wrong name, a wrong password and a wrong code all get the same answer."""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from haven.core import clock, ids, limits
from haven.core.errors import ErrorCode, HavenError
from haven.server.console import credentials, csrf, firstrun, sessions
from haven.server.console.rendering import page
from haven.server.console.throttle import LoginThrottle
from haven.server.state import get_state
from haven.store.interfaces import OperatorRecord

router = APIRouter(prefix="/admin", include_in_schema=False)
SIGNIN_COOKIE_SECONDS = 3600
WRONG = "Wrong name, password or code."


def throttle(request: Request) -> LoginThrottle:
    found: LoginThrottle = request.app.state.console_throttle
    return found


def safe_next(target: str) -> str:
    """Only back into the console: never an absolute URL (no open redirect)."""
    if target.startswith("/admin") and not target.startswith("//") and "\\" not in target:
        return target
    return "/admin"


def _signin_page(
    request: Request, template_name: str, http_status: int = 200, **context: object
) -> Response:
    token = request.cookies.get(sessions.SIGNIN_COOKIE) or csrf.new_token()
    response = page(request, template_name, http_status, signin_token=token, **context)
    sessions.set_cookie(response, sessions.SIGNIN_COOKIE, token, SIGNIN_COOKIE_SECONDS)
    return response


def _check_signin_form(request: Request, offered: str) -> None:
    expected = request.cookies.get(sessions.SIGNIN_COOKIE, "")
    if not csrf.same_origin(request) or not expected:
        raise sessions.Forbidden("this form was not sent from this console; reload the page")
    if not hmac.compare_digest(offered.encode(), expected.encode()):
        raise sessions.Forbidden("this form has no valid security token; reload the page")


@router.get("/login")
async def login_page(
    request: Request, next_: Annotated[str, Query(alias="next", max_length=2000)] = "/admin"
) -> Response:
    any_operator = await get_state(request).stores.console.has_console_operator()
    return _signin_page(request, "login.html", next=safe_next(next_), error="", name="",
                        any_operator=any_operator)  # fmt: skip


async def _authenticate(request: Request, name: str, password: str, code: str) -> OperatorRecord:
    state = get_state(request)
    limiter = throttle(request)
    address = request.client.host if request.client else "unknown"
    keys = limiter.keys(address, name)
    wait = limiter.wait(keys)
    if wait > 0:
        raise HavenError(
            ErrorCode.RATE_LIMITED,
            f"Too many failed sign-ins. Wait {int(wait) + 1} seconds and try again.",
        )
    # Counted before it is checked (and cleared if right), so simultaneous guesses cannot
    # all pass through the same free attempt while the first is still being hashed.
    limiter.failed(keys)
    found = await state.stores.console.credential(name)
    stored = None if found is None else found.password_hash
    ok = await asyncio.to_thread(credentials.password_matches, password, stored)
    if ok and found is not None and found.totp_secret is not None:
        step = credentials.totp_step(found.totp_secret, code, clock.now_ms() / 1000)
        # A code works once: a shoulder-surfed or replayed one is refused.
        ok = step is not None and await state.stores.console.use_totp_step(
            found.operator.operator_id, step
        )
    if not ok or found is None:
        raise HavenError(ErrorCode.UNAUTHORIZED, WRONG)
    limiter.succeeded(keys)
    return found.operator


@router.post("/login")
async def login(
    request: Request,
    name: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=limits.CONSOLE_MAX_PASSWORD_CHARS)],
    csrf_token: Annotated[str, Form(max_length=200)],
    code: Annotated[str, Form(max_length=16)] = "",
    next_: Annotated[str, Form(alias="next", max_length=2000)] = "/admin",
) -> Response:
    _check_signin_form(request, csrf_token)
    try:
        operator = await _authenticate(request, name, password, code)
    except HavenError as exc:
        any_operator = await get_state(request).stores.console.has_console_operator()
        return _signin_page(
            request, "login.html", http_status=exc.status, error=exc.message, next=safe_next(next_),
            name=name, any_operator=any_operator,
        )  # fmt: skip
    response = RedirectResponse(safe_next(next_), status_code=303)
    await sessions.start(request, response, operator.operator_id)
    return response


@router.post("/logout")
async def logout(request: Request, _: sessions.Session) -> Response:
    response = RedirectResponse("/admin/login", status_code=303)
    await sessions.end(request, response)
    return response


@router.get(firstrun.PATH.removeprefix("/admin"))
async def first_run_page(
    request: Request, token: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    usable = bool(token) and await get_state(request).stores.console.link_usable(
        firstrun.link_digest(token), clock.now_ms()
    )
    if not usable:
        raise HavenError(
            ErrorCode.FORBIDDEN,
            "This sign-in link was already used, has expired, or is not a link Haven made. "
            "Restart `haven up` for a new one if no admin exists yet.",
        )
    return _signin_page(request, "first_run.html", token=token, name="", error="",
                        min_password=limits.CONSOLE_MIN_PASSWORD_CHARS)  # fmt: skip


def _valid_name(name: str) -> str:
    name = name.strip()
    if not name.isprintable() or not 1 <= len(name) <= 100:
        raise HavenError(ErrorCode.BAD_REQUEST, "A name is 1 to 100 printable characters.")
    return name


@router.post(firstrun.PATH.removeprefix("/admin"))
async def first_run(
    request: Request,
    token: Annotated[str, Form(max_length=200)],
    name: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=limits.CONSOLE_MAX_PASSWORD_CHARS)],
    password_again: Annotated[str, Form(max_length=limits.CONSOLE_MAX_PASSWORD_CHARS)],
    csrf_token: Annotated[str, Form(max_length=200)],
) -> Response:
    _check_signin_form(request, csrf_token)
    state = get_state(request)
    try:
        chosen = _valid_name(name)
        if password != password_again:
            raise HavenError(ErrorCode.BAD_REQUEST, "The two passwords are not the same.")
        try:
            credentials.check_new_password(password)
        except credentials.PasswordRejected as exc:
            raise HavenError(ErrorCode.BAD_REQUEST, f"{str(exc).capitalize()}.") from None
    except HavenError as exc:
        return _signin_page(request, "first_run.html", http_status=exc.status, token=token,
                            name=name, error=exc.message,
                            min_password=limits.CONSOLE_MIN_PASSWORD_CHARS)  # fmt: skip
    now = clock.now_ms()
    operator = OperatorRecord(ids.new_id(), chosen, "admin", now)
    # The operator row needs an API token digest; this one's token is never shown to anyone,
    # so the first admin has no API token until `haven admin create-admin` makes one.
    unused_token = ids.operator_token(operator.operator_id)
    password_hash = await asyncio.to_thread(credentials.hash_password, password)
    await state.stores.console.create_first_operator(
        firstrun.link_digest(token), operator, ids.token_digest(unused_token), password_hash, now
    )
    response = RedirectResponse("/admin", status_code=303)
    await sessions.start(request, response, operator.operator_id)
    return response
