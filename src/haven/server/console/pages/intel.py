"""Threat intelligence: the bundled feed and TAXII peers, uploading an indicator file
(with a progress bar where scripts run, and the rejected-lines report after), and searching
indicators with every source that published them. Indicator values are hostile input:
they are only ever shown escaped."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from haven.core import clock, ids, limits
from haven.core.errors import ErrorCode, HavenError
from haven.intel import bundled, parsers
from haven.server.console.rendering import page
from haven.server.console.sessions import AdminSession, Session
from haven.server.routes.common import State
from haven.server.services.intel_upload import import_upload

router = APIRouter(prefix="/admin", include_in_schema=False)
UPLOAD_PATH = "/admin/intel/import"
SHOWN_REJECTIONS = 1000
_CHUNK = 1024 * 1024


async def _read_capped(upload: UploadFile) -> bytes:
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > limits.CONSOLE_MAX_UPLOAD_BYTES:
            raise HavenError(
                ErrorCode.BODY_TOO_LARGE,
                f"files are capped at {limits.CONSOLE_MAX_UPLOAD_BYTES // limits.MIB} MiB here; "
                "import bigger ones with `haven intel import`",
            )
        parts.append(chunk)
    return b"".join(parts)


async def _intel_page(
    request: Request, state: State, new_peer: tuple[str, str] | None = None
) -> Response:
    return page(
        request, "intel.html", counts=await state.stores.overview.counts(),
        feed_files=len(bundled.files()), peers=await state.stores.peers.names(),
        formats=parsers.FORMATS, new_peer=new_peer,
        max_upload_mib=limits.CONSOLE_MAX_UPLOAD_BYTES // limits.MIB,
    )  # fmt: skip


@router.get("/intel")
async def intel(request: Request, _: Session, state: State) -> Response:
    return await _intel_page(request, state)


@router.post(UPLOAD_PATH.removeprefix("/admin"))
async def upload(
    request: Request,
    _: AdminSession,
    state: State,
    file: Annotated[UploadFile, File()],
    format_: Annotated[str, Form(alias="format", max_length=20)] = "",
    publisher: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        data = await _read_capped(file)
        name = file.filename or "upload.txt"
    finally:
        await file.close()
    outcome = await import_upload(
        state.stores, data, name, format_ or None, publisher.strip() or "console upload"
    )
    return page(request, "intel_imported.html", outcome=outcome,
                rejected=outcome.rejected[:SHOWN_REJECTIONS])  # fmt: skip


@router.get("/intel/search")
async def search(
    request: Request,
    _: Session,
    state: State,
    q: Annotated[str, Query(max_length=2048)] = "",
) -> Response:
    found = await state.stores.intel.search(q, limits.CONSOLE_PAGE_ROWS) if q.strip() else []
    return page(request, "intel_search.html", query=q, found=found)


@router.post("/intel/peers")
async def add_peer(
    request: Request,
    _: AdminSession,
    state: State,
    name: Annotated[str, Form(min_length=1, max_length=100)],
) -> Response:
    name = name.strip()
    if not name.isprintable() or not name or ":" in name:
        raise HavenError(ErrorCode.BAD_REQUEST, "a peer name is 1-100 printable characters, no ':'")
    token = ids.new_token()
    await state.stores.peers.create(name, ids.token_digest(token), clock.now_ms())
    return await _intel_page(request, state, new_peer=(name, token))


@router.post("/intel/peers/remove")
async def remove_peer(
    _: AdminSession, state: State, name: Annotated[str, Form(max_length=100)]
) -> Response:
    if not await state.stores.peers.remove(name):
        raise HavenError(ErrorCode.NOT_FOUND, "no such peer")
    return RedirectResponse("/admin/intel", status_code=303)
