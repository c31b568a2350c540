"""The transparency report: preview any period (figures and charts of account actions over
time), then publish it, which makes it what `/transparency` serves. Publishing refuses a
log that does not verify or a period no signed head covers yet, as the CLI does."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from haven.core import clock
from haven.core.errors import ErrorCode, HavenError
from haven.safety import publication, transparency
from haven.server.console import charts
from haven.server.console.rendering import page
from haven.server.console.sessions import AdminSession, Session
from haven.server.routes.common import State

router = APIRouter(prefix="/admin", include_in_schema=False)
PeriodText = Annotated[str, Query(max_length=16)]


def current_quarter(now_ms: int) -> str:
    moment = dt.datetime.fromtimestamp(now_ms / 1000, tz=dt.UTC)
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


def _period(text: str) -> transparency.Period:
    try:
        return transparency.Period.parse(text)
    except transparency.PeriodError as exc:
        raise HavenError(ErrorCode.BAD_REQUEST, str(exc)) from None


def _published(state: State) -> dict[str, Any] | None:
    found = transparency.read_published(state.config.data_dir, "json")
    if found is None:
        return None
    try:
        document: dict[str, Any] = json.loads(found)
    except ValueError:
        return None
    return document


@router.get("/transparency")
async def preview(
    request: Request,
    _: Session,
    state: State,
    period: PeriodText = "",
    done: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    chosen = _period(period or current_quarter(clock.now_ms()))
    rows, heads = await state.stores.audit.entries(), await state.stores.audit.heads()
    problem = ""
    report = None
    try:
        report = publication.verified_report(
            rows, heads, chosen, state.audit_key.public_key(), allow_unsealed=True
        )
    except transparency.TransparencyError as exc:
        problem = str(exc)
    over_time = publication.actions_over_time(rows, chosen)
    by_type = [] if report is None else list(report.figures["actions_by_type"].items())
    return page(
        request, "transparency.html", period=chosen, report=report, problem=problem,
        over_time=charts.columns("Account actions over time", over_time),
        by_type=charts.columns("Account actions by type", by_type, bar_width=44),
        published=_published(state), done=done,
    )  # fmt: skip


@router.post("/transparency/publish")
async def publish(
    _: AdminSession, state: State, period: Annotated[str, Form(max_length=16)]
) -> Response:
    chosen = _period(period)
    rows, heads = await state.stores.audit.entries(), await state.stores.audit.heads()
    try:
        report = publication.verified_report(rows, heads, chosen, state.audit_key.public_key())
    except transparency.TransparencyError as exc:
        raise HavenError(ErrorCode.CONFLICT, f"not published: {exc}") from None
    html_text, _csv, json_text = transparency.render(report)
    await asyncio.to_thread(transparency.publish, state.config.data_dir, json_text, html_text)
    return RedirectResponse(
        f"/admin/transparency?period={chosen.label}&done=published", status_code=303
    )
