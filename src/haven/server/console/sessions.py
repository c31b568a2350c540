"""Console sessions: a random 256-bit token in a `__Host-` cookie (Secure, HttpOnly,
SameSite=Strict, Path=/), of which the server keeps only the SHA-256. A session ends after
an idle spell, after a fixed lifetime whatever its use, and at sign-out (deleted on the
server, so a copied cookie is worthless afterwards).

Only this cookie opens a page: an `Authorization` header (a device token, or an operator's
API token) is never looked at here."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request, Response

from haven.core import clock, ids, limits
from haven.server.console import csrf
from haven.server.state import get_state
from haven.store.interfaces import ConsoleSession

COOKIE = "__Host-haven_session"
SIGNIN_COOKIE = "__Host-haven_signin"  # the form token of the sign-in pages (no session yet)
IDLE_MS = limits.CONSOLE_SESSION_IDLE_SECONDS * 1000
LIFETIME_MS = limits.CONSOLE_SESSION_MAX_SECONDS * 1000
SAFE_METHODS = frozenset({"GET", "HEAD"})


class SignInRequired(Exception):
    """No live session: sign in first."""


class Forbidden(Exception):
    """Signed in, but this is not allowed (a form without its token, or the wrong role)."""


def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict"
    )


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="strict")


async def start(request: Request, response: Response, operator_id: str) -> None:
    """Open a session for `operator_id` and hand its cookie to the browser."""
    state = get_state(request)
    token = secrets.token_urlsafe(32)
    now = clock.now_ms()
    await state.stores.console.create_session(
        ids.token_digest(token), operator_id, csrf.new_token(), now, now + LIFETIME_MS
    )
    set_cookie(response, COOKIE, token, limits.CONSOLE_SESSION_MAX_SECONDS)
    clear_cookie(response, SIGNIN_COOKIE)


async def end(request: Request, response: Response) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        await get_state(request).stores.console.end_session(ids.token_digest(token))
    clear_cookie(response, COOKIE)


async def console_session(request: Request) -> ConsoleSession:
    """The signed-in operator's session; every POST must also carry the session's form
    token and come from this origin."""
    token = request.cookies.get(COOKIE)
    found = None
    if token and len(token) <= 256:
        state = get_state(request)
        found = await state.stores.console.session(ids.token_digest(token), clock.now_ms(), IDLE_MS)
    if found is None:
        raise SignInRequired
    if request.method not in SAFE_METHODS:
        try:
            await csrf.check(request, found.csrf_token)
        except csrf.CsrfRejected as exc:
            raise Forbidden(str(exc)) from None
    request.state.console_session = found
    request.state.csrf_token = found.csrf_token
    return found


async def admin_session(
    session: Annotated[ConsoleSession, Depends(console_session)],
) -> ConsoleSession:
    """Only admins: changing what the whole service trusts (intel, link lists, invites,
    peers, the published report) is not a moderator's job."""
    if session.operator.role != "admin":
        raise Forbidden("only an admin can do this; you are signed in as a moderator")
    return session


Session = Annotated[ConsoleSession, Depends(console_session)]
AdminSession = Annotated[ConsoleSession, Depends(admin_session)]
