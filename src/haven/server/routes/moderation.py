"""Operator routes (admins and moderators): account actions, appeals, the audit log. Each
needs an operator token; a device token of any account is refused."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from haven.core import limits
from haven.core.ids import ID_PATTERN
from haven.core.wire import (
    AccountReview,
    ActionInfo,
    ActionRequest,
    AppealInfo,
    AuditEntryInfo,
    AuditPage,
    DecisionRequest,
    DeviceAddress,
    OpenAppeal,
    ReportDecision,
    ReportInfo,
)
from haven.safety import reports
from haven.safety.policy import Action
from haven.server.auth import CurrentOperator
from haven.server.routes.common import State, errors
from haven.server.services import operators
from haven.store.interfaces import ActionRecord, AppealRecord, ReportRecord

router = APIRouter(prefix="/v1/admin", tags=["operators"])
AccountId = Annotated[str, Path(pattern=ID_PATTERN)]


def action_info(record: ActionRecord) -> ActionInfo:
    return ActionInfo(
        action_id=record.action_id, account_id=record.account_id, action=record.action,
        reason=record.reason, note=record.note, device_id=record.device_id,
        actor=record.actor, created_at=record.created_at,
    )  # fmt: skip


def appeal_info(record: AppealRecord) -> AppealInfo:
    return AppealInfo(
        appeal_id=record.appeal_id, action_id=record.action_id, status=record.status,
        text=record.text, created_at=record.created_at, decided_at=record.decided_at,
        decision_note=record.decision_note,
    )  # fmt: skip


@router.post("/accounts/{account_id}/actions", status_code=201, responses=errors(400, 404))
async def act(
    account_id: AccountId, body: ActionRequest, operator: CurrentOperator, state: State
) -> ActionInfo:
    """Warn, restrict, suspend, ban, revoke a device, or restore, citing a published
    reason. Suspensions take effect at once, on every server process."""
    record = await operators.take_action(
        state, account_id, Action(body.action), body.reason, body.note, operator.name,
        body.device_id,
    )  # fmt: skip
    return action_info(record)


@router.get("/accounts/{account_id}", responses=errors(404))
async def review(account_id: AccountId, _: CurrentOperator, state: State) -> AccountReview:
    """An account's standing, actions and appeals."""
    found = await operators.review(state, account_id)
    return AccountReview(
        account_id=account_id,
        standing=found.standing,
        actions=[action_info(a) for a in found.actions],
        appeals=[appeal_info(a) for a in found.appeals],
    )


@router.get("/appeals")
async def open_appeals(
    _: CurrentOperator,
    state: State,
    status: Annotated[str, Query(pattern="^(open|upheld|reversed)$")] = "open",
) -> list[OpenAppeal]:
    """Appeals waiting for a decision (or decided ones), oldest first."""
    return [
        OpenAppeal(
            appeal=appeal_info(appeal), account_id=appeal.account_id, action=action_info(action)
        )
        for appeal, action in await operators.appeals_with_actions(state, status)
    ]


@router.post("/appeals/{appeal_id}/decision", responses=errors(404, 409))
async def decide(
    appeal_id: Annotated[int, Path(ge=1, le=2**62)],
    body: DecisionRequest,
    operator: CurrentOperator,
    state: State,
) -> AppealInfo:
    """Uphold or reverse; the person is told the outcome in their standing."""
    decided = await operators.decide_appeal(
        state, appeal_id, body.outcome == "reverse", operator.name, body.note
    )
    return appeal_info(decided)


@router.get("/audit")
async def audit_entries(
    _: CurrentOperator,
    state: State,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=limits.MAX_AUDIT_PAGE)] = 100,
) -> AuditPage:
    """Audit entries after position `after`, oldest first."""
    rows = await state.stores.audit.entries(after, limit)
    return AuditPage(
        entries=[AuditEntryInfo(seq=r.seq, created_at=r.created_at, kind=r.kind, data=r.data)
                 for r in rows],
        size=await state.stores.audit.count(),
    )  # fmt: skip


def report_info(record: ReportRecord) -> ReportInfo:
    filed = record.report
    return ReportInfo(
        report_id=record.report_id, status=record.status, reason=filed.reason,
        verified=filed.verified, problem=filed.problem, reporter=filed.reporter_account,
        reported=DeviceAddress(account_id=filed.sender_account, device_id=filed.sender_device),
        envelope_id=filed.envelope_id, server_time=filed.server_time,
        body=reports.body_of(filed.content), created_at=record.created_at,
    )  # fmt: skip


@router.get("/reports")
async def open_reports(
    _: CurrentOperator,
    state: State,
    status: Annotated[str, Query(pattern="^(open|actioned|dismissed)$")] = "open",
) -> list[ReportInfo]:
    """Reports with the revealed message and its verified/unverified mark."""
    return [report_info(r) for r in await state.stores.reports.reports(status)]


@router.post("/reports/{report_id}/decision", responses=errors(404, 409))
async def close_report(
    report_id: Annotated[int, Path(ge=1, le=2**62)],
    body: ReportDecision,
    operator: CurrentOperator,
    state: State,
) -> ReportInfo:
    """Close a report: dismissed, or actioned (act on the account with its own call)."""
    closed = await operators.close_report(
        state, report_id, body.outcome == "actioned", operator.name, body.note
    )
    return report_info(closed)
