"""Link blocking: the list version clients hold, testing a URL against it (with the intel
behind a block), and the operator's allowlist, which overrides the intel and takes effect
in the next list version, built at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from haven.core import clock, limits
from haven.core.errors import ErrorCode, HavenError
from haven.linkguard.building import ensure_current, expression_for_input, rebuild
from haven.linkguard.operator_check import check_url
from haven.server.console.rendering import page
from haven.server.console.sessions import AdminSession, Session
from haven.server.routes.common import State

router = APIRouter(prefix="/admin", include_in_schema=False)


@router.get("/links")
async def links(
    request: Request,
    _: Session,
    state: State,
    done: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    current = await ensure_current(state.stores)
    allowed = await state.stores.linkguard.allowlist()
    return page(request, "links.html", current=current, allowed=allowed, verdict=None,
                url="", done=done)  # fmt: skip


@router.get("/links/test")
async def check_link(
    request: Request,
    _: Session,
    state: State,
    url: Annotated[str, Query(max_length=limits.MAX_LINK_CHARS + 1)] = "",
) -> Response:
    verdict = await check_url(state.stores, url) if url.strip() else None
    current = await ensure_current(state.stores)
    allowed = await state.stores.linkguard.allowlist()
    return page(request, "links.html", current=current, allowed=allowed, verdict=verdict,
                url=url, done="")  # fmt: skip


def _expression(target: str) -> str:
    expression = expression_for_input(target)
    if expression is None:
        raise HavenError(ErrorCode.BAD_REQUEST, "not a domain or an http(s) URL")
    return expression


@router.post("/links/allow")
async def allow(
    _: AdminSession,
    state: State,
    target: Annotated[str, Form(min_length=1, max_length=2000)],
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    expression = _expression(target)
    if not await state.stores.linkguard.allow(expression, note, clock.now_ms()):
        raise HavenError(ErrorCode.CONFLICT, f"{expression} is already allowed")
    await rebuild(state.stores)
    return RedirectResponse("/admin/links?done=allowed", status_code=303)


@router.post("/links/disallow")
async def disallow(
    _: AdminSession,
    state: State,
    expression: Annotated[str, Form(min_length=1, max_length=2200)],
) -> Response:
    if not await state.stores.linkguard.disallow(expression):
        raise HavenError(ErrorCode.NOT_FOUND, f"{expression} is not on the allowlist")
    await rebuild(state.stores)
    return RedirectResponse("/admin/links?done=removed", status_code=303)
