"""A recipient reports a message; the server checks its franking and its own stamp."""

from __future__ import annotations

from fastapi import APIRouter

from haven.core import clock
from haven.core.wire import ReportFiled, ReportRequest
from haven.safety import auditlog, reports
from haven.server.auth import CurrentDevice
from haven.server.routes.common import State, errors
from haven.server.services import protection

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.post("", status_code=201, responses=errors(400, 409))
async def report(body: ReportRequest, device: CurrentDevice, state: State) -> ReportFiled:
    """Report a message you received, revealing it to the moderators. It is marked verified
    only if its content, sender, recipient and time are what the server delivered."""
    claim = reports.Claim(
        envelope_id=body.envelope_id, sender_account=body.sender.account_id,
        sender_device=body.sender.device_id, server_time=body.server_time,
        franking_tag=body.franking_tag, delivery_stamp=body.delivery_stamp,
        content=body.content, franking_key=body.franking_key, reason=body.reason,
    )  # fmt: skip
    filed = await reports.file(state.stores, state.stamp_key, device, claim, clock.now_ms())
    # The brigading guard: never an automatic action, a flag to moderators at most.
    await protection.after_report(state, claim.sender_account)
    await auditlog.seal(state.stores, state.audit_key, clock.now_ms())
    return ReportFiled(report_id=filed.report_id, verified=filed.report.verified)
