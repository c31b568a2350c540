"""Relays and invites: the invite link (and QR code) of the relay `haven up` started, for
people who can only reach the server through it, and registration invite codes, each
shown once with its QR code (the server keeps only their hash)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from haven.core import clock, ids, limits
from haven.server.console import qr, relayfile
from haven.server.console.rendering import page
from haven.server.console.sessions import AdminSession, Session
from haven.server.routes.common import State

router = APIRouter(prefix="/admin", include_in_schema=False)
MAX_INVITE_DAYS = 365


async def _relays_page(
    request: Request, state: State, new_invite: dict[str, object] | None = None
) -> Response:
    relay = relayfile.read(state.config.data_dir)
    return page(
        request, "relays.html", relay=relay, relay_qr=qr.data_uri(relay) if relay else "",
        invites=await state.stores.invites.list(clock.now_ms()), new_invite=new_invite,
        registration=state.config.registration.value, max_uses=limits.MAX_INVITE_USES,
        max_days=MAX_INVITE_DAYS, server=str(request.base_url).rstrip("/"),
    )  # fmt: skip


@router.get("/relays")
async def relays(request: Request, _: Session, state: State) -> Response:
    return await _relays_page(request, state)


@router.post("/invites")
async def create_invite(
    request: Request,
    _: AdminSession,
    state: State,
    uses: Annotated[int, Form(ge=1, le=limits.MAX_INVITE_USES)] = 1,
    days: Annotated[float, Form(ge=0.01, le=MAX_INVITE_DAYS)] = limits.INVITE_TTL_SECONDS / 86400,
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    code = ids.new_token()
    now = clock.now_ms()
    expires = now + int(days * 86400 * 1000)
    await state.stores.invites.create(ids.token_digest(code), now, expires, uses, note)
    invite = {"code": code, "qr": qr.data_uri(code), "uses": uses, "expires_at": expires}
    return await _relays_page(request, state, new_invite=invite)
