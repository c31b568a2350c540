"""The audit log: every operator action, oldest first, a page at a time; and one click to
recompute the whole Merkle log and check every signed tree head against it."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from haven.core import limits
from haven.safety import auditlog
from haven.server.console.rendering import page
from haven.server.console.sessions import Session
from haven.server.routes.common import State
from haven.store.interfaces import AuditRow

router = APIRouter(prefix="/admin", include_in_schema=False)


def details(row: AuditRow) -> list[tuple[str, str]]:
    """The entry's fields other than its kind and time, as (name, value) text."""
    try:
        data: Any = json.loads(row.data)
    except ValueError:
        return [("data", row.data)]
    if not isinstance(data, dict):
        return [("data", row.data)]
    return [
        (str(key), value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        for key, value in sorted(data.items())
        if key not in ("kind", "at")
    ]


async def _audit_page(
    request: Request, state: State, after: int, report: auditlog.VerifyReport | None
) -> Response:
    rows = await state.stores.audit.entries(after, limits.CONSOLE_PAGE_ROWS)
    total = await state.stores.audit.count()
    return page(
        request, "audit.html", rows=[(row, details(row)) for row in rows], total=total,
        after=after, page_rows=limits.CONSOLE_PAGE_ROWS, report=report,
        heads=len(await state.stores.audit.heads()),
    )  # fmt: skip


@router.get("/audit")
async def audit(
    request: Request,
    _: Session,
    state: State,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> Response:
    return await _audit_page(request, state, after, None)


@router.get("/audit/verify")
async def verify(request: Request, _: Session, state: State) -> Response:
    report = await auditlog.verify(state.stores, state.audit_key.public_key())
    return await _audit_page(request, state, 0, report)
