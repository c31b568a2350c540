"""Account actions and appeals: what each does to an account's standing, written with its
audit entry in one transaction. The caller (the server) closes the sessions of every
device in `ActionOutcome.revoke`, in every server process."""

from __future__ import annotations

from dataclasses import dataclass

from haven.core.errors import ErrorCode, HavenError
from haven.safety.policy import REASON_CODES, Action
from haven.safety.records import audit_entry
from haven.store.interfaces import ActionRecord, AppealRecord
from haven.store.stores import Stores

# The standing each action leaves (None: unchanged).
STANDING_AFTER: dict[Action, str | None] = {
    Action.WARN: None,
    Action.RESTRICT: "restricted",
    Action.SUSPEND: "suspended",
    Action.BAN: "banned",
    Action.REVOKE_DEVICE: None,
    Action.RESTORE: "active",
}
MAX_NOTE = 1000
MAX_APPEAL = 2000


@dataclass(frozen=True)
class ActionOutcome:
    record: ActionRecord
    revoke: list[str]  # devices whose cached credentials and open streams must go now


async def take_action(
    stores: Stores,
    account_id: str,
    action: Action,
    reason: str,
    note: str,
    actor: str,
    now: int,
    device_id: str | None = None,
) -> ActionOutcome:
    if reason not in REASON_CODES:
        raise HavenError(
            ErrorCode.BAD_REQUEST, f"unknown reason {reason!r}: see the published policy"
        )
    if reason == "other" and not note.strip():
        raise HavenError(ErrorCode.BAD_REQUEST, "reason 'other' needs a note saying what")
    if (action is Action.REVOKE_DEVICE) != (device_id is not None):
        raise HavenError(ErrorCode.BAD_REQUEST, "revoke_device, and only it, names a device")
    devices = await stores.accounts.devices(account_id)
    if devices is None:
        raise HavenError(ErrorCode.NOT_FOUND, "no such account")
    if device_id is not None and device_id not in {d.device_id for d in devices}:
        raise HavenError(ErrorCode.NOT_FOUND, "no such device on that account")
    entry = audit_entry(
        "account_action", now, account=account_id, action=action.value, reason=reason,
        device=device_id, actor=actor,
    )  # fmt: skip
    record = await stores.moderation.act(
        account_id, action.value, reason, note[:MAX_NOTE], device_id, actor, now,
        STANDING_AFTER[action], entry,
    )  # fmt: skip
    if device_id is not None:
        await stores.accounts.delete_device(account_id, device_id)
        return ActionOutcome(record, [device_id])
    # Every device: cached credentials carry the standing, so all of them are refreshed.
    return ActionOutcome(record, [d.device_id for d in devices])


async def appeal(
    stores: Stores, account_id: str, action_id: int, text: str, now: int
) -> AppealRecord:
    if not text.strip():
        raise HavenError(ErrorCode.BAD_REQUEST, "say why the action was wrong")
    entry = audit_entry("appeal", now, account=account_id, action_id=action_id)
    return await stores.moderation.appeal(action_id, account_id, text[:MAX_APPEAL], now, entry)


async def decide(
    stores: Stores, appeal_id: int, reverse: bool, by: str, note: str, now: int
) -> tuple[AppealRecord, list[str]]:
    """Uphold or reverse; a reversed restriction, suspension or ban is lifted at once."""
    found = [a for a in await stores.moderation.appeals() if a.appeal_id == appeal_id]
    if not found:
        raise HavenError(ErrorCode.NOT_FOUND, "no such appeal")
    action = await stores.moderation.action(found[0].action_id)
    lifts = (
        reverse
        and action is not None
        and STANDING_AFTER.get(Action(action.action)) in ("restricted", "suspended", "banned")
    )
    outcome = "reversed" if reverse else "upheld"
    entry = audit_entry(
        "appeal_decision", now, appeal_id=appeal_id, account=found[0].account_id,
        outcome=outcome, actor=by,
    )  # fmt: skip
    decided = await stores.moderation.decide(
        appeal_id, outcome, by, note[:MAX_NOTE], now, "active" if lifts else None, entry
    )
    devices = await stores.accounts.devices(decided.account_id) or []
    return decided, [d.device_id for d in devices] if lifts else []
