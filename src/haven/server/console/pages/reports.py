"""Abuse reports: the revealed message (hostile text, shown escaped), whether its message
franking verified (the server delivered exactly this text, from this sender, to the
reporter, at that time), and closing the report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from haven.safety import reports
from haven.safety.actions import MAX_NOTE
from haven.server.console.rendering import page
from haven.server.console.sessions import Session
from haven.server.routes.common import State
from haven.server.services import operators

router = APIRouter(prefix="/admin", include_in_schema=False)


@router.get("/reports")
async def report_list(
    request: Request,
    _: Session,
    state: State,
    status: Annotated[str, Query(pattern="^(open|actioned|dismissed)$")] = "open",
    done: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    found = await state.stores.reports.reports(status)
    bodies = {r.report_id: reports.body_of(r.report.content) for r in found}
    return page(request, "reports.html", reports=found, bodies=bodies, status=status,
                done=done, max_note=MAX_NOTE)  # fmt: skip


@router.post("/reports/{report_id}/decision")
async def close(
    report_id: Annotated[int, Path(ge=1, le=2**62)],
    session: Session,
    state: State,
    outcome: Annotated[str, Form(pattern="^(dismiss|actioned)$")],
    note: Annotated[str, Form(max_length=MAX_NOTE)] = "",
) -> Response:
    closed = await operators.close_report(
        state, report_id, outcome == "actioned", session.operator.name, note
    )
    return RedirectResponse(f"/admin/reports?done={closed.status}", status_code=303)
