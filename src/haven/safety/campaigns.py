"""The brigading guard: after every report, look at the reports against the same account
and flag a possible coordinated campaign to moderators; and the moderators' decision on a
flag.

Reports never act on an account by themselves, and against a protected account nothing
automatic may ever be added: every guard decision is written to the audit log saying so.
A confirmed campaign closes its reports as dismissed and, for a protected account, tells
its owner that a campaign was stopped, never who took part in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from haven.core import limits
from haven.core.errors import ErrorCode, HavenError
from haven.safety import alerts, brigading, reports
from haven.safety.records import audit_entry
from haven.store.interfaces import CampaignFigures, CampaignFlagRecord, NewAuditEntry
from haven.store.stores import Stores

NO_AUTOMATIC_ACTION = "none"


@dataclass(frozen=True)
class GuardDecision:
    decision: str  # campaign_flagged | campaign_updated | no_campaign
    protected: bool
    assessment: brigading.Assessment
    flag: CampaignFlagRecord | None


def figures(assessment: brigading.Assessment) -> CampaignFigures:
    return CampaignFigures(
        assessment.window_start, assessment.window_end, assessment.reports,
        assessment.reporters, assessment.fresh_reporters, assessment.median_reporter_age_ms,
        assessment.burst, round(assessment.overlap * 1000), assessment.signals,
        assessment.reporter_accounts[: limits.MAX_CAMPAIGN_REPORTERS_SHOWN],
    )  # fmt: skip


def _guard_entry(
    now: int, account_id: str, protected: bool, decision: str, found: brigading.Assessment,
    flag_id: int | None,
) -> NewAuditEntry:  # fmt: skip
    # Counts only: who reported is in the reports themselves, for moderators.
    return audit_entry(
        "report_guard", now, account=account_id, protected=protected, decision=decision,
        automatic_action=NO_AUTOMATIC_ACTION, flag_id=flag_id, reports=found.reports,
        reporters=found.reporters, fresh_reporters=found.fresh_reporters, burst=found.burst,
        overlap_permille=round(found.overlap * 1000), signals=list(found.signals),
    )  # fmt: skip


async def review(stores: Stores, account_id: str, protected: bool, now: int) -> GuardDecision:
    """The guard's decision after a report against `account_id`, written to the audit log
    (and to the account's open campaign flag, when it looks like one)."""
    window = brigading.Thresholds().window_ms
    found = await stores.campaigns.signals(account_id, now - window)
    reporters = list(dict.fromkeys(s.reporter_account for s in found))
    others = await stores.campaigns.other_targets(
        reporters, account_id, now - limits.CAMPAIGN_LOOKBACK_SECONDS * 1000
    )
    assessment = brigading.assess(
        [brigading.Report(s.reporter_account, s.reporter_created_at, s.reported_at)
         for s in found],
        others, now,
    )  # fmt: skip
    if not assessment.flag:
        # An open flag stays as moderators last saw it; this report is noted against it.
        await stores.audit.append(
            _guard_entry(now, account_id, protected, "no_campaign", assessment, None)
        )
        return GuardDecision("no_campaign", protected, assessment, None)

    def entry(flag_id: int, created: bool) -> NewAuditEntry:
        decision = "campaign_flagged" if created else "campaign_updated"
        return _guard_entry(now, account_id, protected, decision, assessment, flag_id)

    flag, created = await stores.campaigns.raise_flag(
        account_id, protected, figures(assessment), now, entry
    )
    decision = "campaign_flagged" if created else "campaign_updated"
    return GuardDecision(decision, protected, assessment, flag)


async def decide(
    stores: Stores,
    key: Ed25519PrivateKey,
    flag_id: int,
    confirm: bool,
    by: str,
    note: str,
    now: int,
) -> tuple[CampaignFlagRecord, int]:
    """Confirm (the reports were a campaign: they are closed as dismissed, and a protected
    owner is told) or dismiss the flag. Returns the flag and how many reports it closed."""
    status = "confirmed" if confirm else "dismissed"
    entry = audit_entry("campaign_decision", now, flag_id=flag_id, outcome=status, actor=by)
    flag = await stores.campaigns.decide(flag_id, status, by, note, now, entry)
    if not confirm:
        return flag, 0
    campaign = set(flag.figures.reporter_accounts)
    closed = 0
    for report in await stores.reports.reports("open"):
        filed = report.report
        if (
            filed.sender_account == flag.account_id
            and filed.reporter_account in campaign
            and report.created_at >= flag.figures.window_start
        ):
            try:
                await reports.close(
                    stores, report.report_id, False, by,
                    f"part of coordinated reporting campaign {flag_id}", now,
                )  # fmt: skip
            except HavenError as exc:
                if exc.code is not ErrorCode.CONFLICT:  # closed meanwhile by someone else
                    raise
                continue
            closed += 1
    if flag.protected:
        await alerts.send(
            stores, key, flag.account_id, "reporting_campaign",
            await _language(stores, flag.account_id), {"time": alerts.when(now)}, now,
        )  # fmt: skip
    return flag, closed


async def _language(stores: Stores, account_id: str) -> str:
    record = await stores.protection.get(account_id)
    return alerts.DEFAULT_LANGUAGE if record is None else record.language
