"""What operators do, shared by the JSON admin API (`routes/moderation.py`,
`routes/notices.py`) and the web console: each call runs the safety logic, closes the
sessions it must close on every server process, and seals the audit log under a new
signed head."""

from __future__ import annotations

from dataclasses import dataclass

from haven.core import clock
from haven.core.errors import ErrorCode, HavenError
from haven.safety import actions, auditlog, notices, reports
from haven.safety.policy import Action
from haven.server.state import ServerState
from haven.store.interfaces import ActionRecord, AppealRecord, NoticeRecord, ReportRecord


async def _seal(state: ServerState) -> None:
    await auditlog.seal(state.stores, state.audit_key, clock.now_ms())


async def take_action(
    state: ServerState,
    account_id: str,
    action: Action,
    reason: str,
    note: str,
    actor: str,
    device_id: str | None = None,
) -> ActionRecord:
    """Warn, restrict, suspend, ban, revoke a device, or restore; takes effect at once."""
    outcome = await actions.take_action(
        state.stores, account_id, action, reason, note, actor, clock.now_ms(), device_id
    )
    await state.bus.revoke(outcome.revoke)
    await _seal(state)
    return outcome.record


async def decide_appeal(
    state: ServerState, appeal_id: int, reverse: bool, actor: str, note: str
) -> AppealRecord:
    decided, revoke = await actions.decide(
        state.stores, appeal_id, reverse, actor, note, clock.now_ms()
    )
    await state.bus.revoke(revoke)
    await _seal(state)
    return decided


async def close_report(
    state: ServerState, report_id: int, actioned: bool, actor: str, note: str
) -> ReportRecord:
    closed = await reports.close(state.stores, report_id, actioned, actor, note, clock.now_ms())
    await _seal(state)
    return closed


async def send_notices(
    state: ServerState, accounts: list[str], template: str, language: str, actor: str
) -> list[NoticeRecord]:
    sent = await notices.send(
        state.stores, state.notice_key, accounts, template, language, actor, clock.now_ms()
    )
    await _seal(state)
    return sent


@dataclass(frozen=True)
class Review:
    account_id: str
    standing: str
    actions: list[ActionRecord]
    appeals: list[AppealRecord]


async def review(state: ServerState, account_id: str) -> Review:
    """An account's standing, actions and appeals (NOT_FOUND if it never existed)."""
    history = await state.stores.moderation.history(account_id)
    if await state.stores.accounts.devices(account_id) is None and not history:
        raise HavenError(ErrorCode.NOT_FOUND, "no such account")
    return Review(
        account_id=account_id,
        standing=await state.stores.moderation.standing(account_id),
        actions=history,
        appeals=await state.stores.moderation.appeals(account_id=account_id),
    )


async def appeals_with_actions(
    state: ServerState, status: str
) -> list[tuple[AppealRecord, ActionRecord]]:
    """Appeals in `status`, oldest first, each with the action it appeals."""
    found = []
    for appeal in await state.stores.moderation.appeals(status=status):
        action = await state.stores.moderation.action(appeal.action_id)
        if action is not None:
            found.append((appeal, action))
    return found
