"""Accounts: search by id, one account's standing, devices, actions and appeals, acting on
it with a published reason, and deciding appeals. Every action goes through the same
service call as the JSON admin API, so it is in the audit log and takes effect at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from haven.core import limits
from haven.core.errors import ErrorCode, HavenError
from haven.core.ids import ID_PATTERN
from haven.safety.actions import MAX_NOTE
from haven.safety.policy import REASONS, Action
from haven.server.console.rendering import page
from haven.server.console.sessions import Session
from haven.server.routes.common import State
from haven.server.services import operators

router = APIRouter(prefix="/admin", include_in_schema=False)
AccountId = Annotated[str, Path(pattern=ID_PATTERN)]
ACTIONS = [a.value for a in Action]


@router.get("/accounts")
async def accounts(
    request: Request,
    _: Session,
    state: State,
    q: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    found = await state.stores.overview.find_accounts(q, limits.CONSOLE_PAGE_ROWS)
    return page(request, "accounts.html", query=q, accounts=found)


@router.get("/accounts/{account_id}")
async def account(
    request: Request,
    account_id: AccountId,
    _: Session,
    state: State,
    done: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    review = await operators.review(state, account_id)
    devices = await state.stores.accounts.devices(account_id) or []
    summary = await state.stores.overview.account(account_id)
    return page(
        request, "account.html", review=review, devices=devices, summary=summary,
        actions=ACTIONS, reasons=REASONS, done=done, max_note=MAX_NOTE,
    )  # fmt: skip


@router.post("/accounts/{account_id}/actions")
async def act(
    account_id: AccountId,
    session: Session,
    state: State,
    action: Annotated[str, Form(max_length=32)],
    reason: Annotated[str, Form(max_length=32)],
    note: Annotated[str, Form(max_length=MAX_NOTE)] = "",
    device_id: Annotated[str, Form(pattern="^([0-9a-f]{32})?$")] = "",
) -> Response:
    if action not in ACTIONS:
        raise HavenError(ErrorCode.BAD_REQUEST, f"unknown action {action!r}")
    await operators.take_action(
        state, account_id, Action(action), reason, note, session.operator.name,
        device_id or None,
    )  # fmt: skip
    return RedirectResponse(f"/admin/accounts/{account_id}?done={action}", status_code=303)


@router.get("/appeals")
async def appeals(
    request: Request,
    _: Session,
    state: State,
    status: Annotated[str, Query(pattern="^(open|upheld|reversed)$")] = "open",
    done: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    found = await operators.appeals_with_actions(state, status)
    return page(request, "appeals.html", appeals=found, status=status, done=done,
                max_note=MAX_NOTE)  # fmt: skip


@router.post("/appeals/{appeal_id}/decision")
async def decide(
    appeal_id: Annotated[int, Path(ge=1, le=2**62)],
    session: Session,
    state: State,
    outcome: Annotated[str, Form(pattern="^(uphold|reverse)$")],
    note: Annotated[str, Form(max_length=MAX_NOTE)] = "",
) -> Response:
    decided = await operators.decide_appeal(
        state, appeal_id, outcome == "reverse", session.operator.name, note
    )
    return RedirectResponse(f"/admin/appeals?done={decided.status}", status_code=303)
