"""The published enforcement policy: the only reasons an account action may cite, and what
each action does. `docs/policy.md` is generated from this table's wording (a test keeps the
two in step), so what users read is what moderators can choose from."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    WARN = "warn"  # the user is told; nothing else changes
    RESTRICT = "restrict"  # cannot start new conversations (no new encrypted sessions)
    SUSPEND = "suspend"  # every token stops working until reversed
    BAN = "ban"  # as suspend, and not expected to be reversed except on appeal
    REVOKE_DEVICE = "revoke_device"  # one device's token stops working
    RESTORE = "restore"  # lifts a restriction, suspension or ban


@dataclass(frozen=True)
class Reason:
    code: str
    title: str
    explanation: str


REASONS: tuple[Reason, ...] = (
    Reason("spam", "Spam", "Unsolicited bulk or automated messages."),
    Reason("harassment", "Harassment", "Targeting a person with abuse or intimidation."),
    Reason("threats", "Threats of violence", "Threatening to harm a person or a group."),
    Reason("impersonation", "Impersonation",
           "Pretending to be another person, an organisation, or Haven's operators."),
    Reason("malware", "Malware or phishing",
           "Spreading spyware, malware or credential phishing."),
    Reason("account_compromise", "Compromised account",
           "The account or a device appears to be controlled by someone else; acting "
           "protects its owner."),
    Reason("legal_order", "Legal order",
           "A court order the operator could not lawfully refuse (recorded in the audit "
           "log and counted in the transparency report)."),
    Reason("ban_evasion", "Ban evasion", "A new account made to get around an earlier ban."),
    Reason("other", "Other", "Anything else; the note must say what."),
)  # fmt: skip

REASON_CODES = frozenset(r.code for r in REASONS)
BLOCKING = frozenset({Action.SUSPEND, Action.BAN})


def reason(code: str) -> Reason:
    for known in REASONS:
        if known.code == code:
            return known
    raise KeyError(code)
