"""The published transparency report, for anyone: no token, because a report only people
with accounts can read would not show the public anything. It holds counts only, and
each cites the signed audit-log head it was computed from.

`haven transparency report --publish` writes the files this serves; the server never
computes a report itself, so what is served is exactly what an operator checked."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response

from haven.core.errors import ErrorCode, HavenError
from haven.core.wire import ErrorBody
from haven.safety import transparency
from haven.server.routes.common import State

router = APIRouter(tags=["transparency"])

# The page is inline HTML, CSS and SVG: nothing else may load, run, frame it or submit.
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}


async def _published(state: State, form: transparency.Form) -> bytes:
    found = await asyncio.to_thread(transparency.read_published, state.config.data_dir, form)
    if found is None:
        raise HavenError(ErrorCode.NOT_FOUND, "no transparency report has been published yet")
    return found


@router.get("/v1/transparency/latest", response_class=Response, responses=_NOT_FOUND)
async def latest(state: State) -> Response:
    """The latest published transparency report as JSON (schema
    `haven/transparency-report/v1`)."""
    body = await _published(state, "json")
    return Response(
        body, media_type="application/json", headers={"X-Content-Type-Options": "nosniff"}
    )


@router.get("/transparency", response_class=Response, include_in_schema=False)
async def page(state: State) -> Response:
    """The latest published transparency report as a self-contained web page."""
    body = await _published(state, "html")
    return Response(
        body,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": PAGE_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )
