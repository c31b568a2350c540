"""Verifiable abuse reports under end-to-end encryption (message franking).

The reporter's client reveals the message content, its franking key and what the server
stamped at delivery. The server checks (1) the content under the key gives the commitment,
(2) its own stamp binds that commitment to the claimed sender, to the reporter's device
and to the delivery time. A report passing both is shown to moderators as verified; one
whose text was altered, or that claims another sender or recipient, as unverified, with
the reason. The server never holds a key that decrypts messages: the stamp key is a MAC
key over what it already sees in the clear."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from haven.core import b64, franking
from haven.core.errors import ErrorCode, HavenError
from haven.safety import keyfiles
from haven.safety.policy import REASON_CODES
from haven.safety.records import audit_entry
from haven.store.interfaces import DeviceRecord, NewReport, ReportRecord
from haven.store.stores import Stores

STAMP_KEY_FILE = "delivery-stamp.key"
MAX_CONTENT_BYTES = 64 * 1024


def load_or_create_stamp_key(data_dir: Path) -> bytes:
    return keyfiles.secret_key(data_dir / STAMP_KEY_FILE)


@dataclass(frozen=True)
class Claim:
    """What the reporter's client sends (all as delivered, base64 where binary)."""

    envelope_id: str
    sender_account: str
    sender_device: str
    server_time: int
    franking_tag: str
    delivery_stamp: str
    content: str
    franking_key: str
    reason: str


def _decoded(text: str, what: str) -> bytes:
    try:
        return b64.decode(text)
    except b64.Base64Error:
        raise HavenError(ErrorCode.BAD_REQUEST, f"{what} is not valid base64") from None


def check(stamp_key: bytes, reporter: DeviceRecord, claim: Claim) -> tuple[bool, str, str]:
    """(verified, the problem if not, the revealed content as text)."""
    tag = _decoded(claim.franking_tag, "franking_tag")
    stamp = _decoded(claim.delivery_stamp, "delivery_stamp")
    content = _decoded(claim.content, "content")
    key = _decoded(claim.franking_key, "franking_key")
    if len(content) > MAX_CONTENT_BYTES:
        raise HavenError(ErrorCode.BAD_REQUEST, "the reported content is too long")
    text = content.decode("utf-8", errors="replace")
    if not franking.commitment_matches(key, content, tag):
        return False, "the content does not match the commitment: it was altered", text
    stamped = franking.stamp_matches(
        stamp_key, stamp, tag, claim.envelope_id, (claim.sender_account, claim.sender_device),
        (reporter.account_id, reporter.device_id), claim.server_time,
    )  # fmt: skip
    if not stamped:
        return (
            False,
            "the server did not deliver this commitment from that sender to the reporter at "
            "that time: sender, recipient or time is not what was delivered",
            text,
        )
    return True, "", text


def body_of(content: str) -> str:
    """The message text inside revealed content (what a moderator reads)."""
    try:
        found = json.loads(content)
    except ValueError:
        return content
    return str(found.get("body", content)) if isinstance(found, dict) else content


async def file(
    stores: Stores, stamp_key: bytes, reporter: DeviceRecord, claim: Claim, now: int
) -> ReportRecord:
    if claim.reason not in REASON_CODES:
        raise HavenError(ErrorCode.BAD_REQUEST, f"unknown reason {claim.reason!r}")
    verified, problem, content = check(stamp_key, reporter, claim)
    report = NewReport(
        reporter.account_id, reporter.device_id, claim.sender_account, claim.sender_device,
        claim.envelope_id, claim.server_time, claim.reason, content, verified, problem,
    )  # fmt: skip
    # The log gets metadata only: who reported whom, why and whether it verified.
    entry = audit_entry(
        "report_received", now, reporter=reporter.account_id, reported=claim.sender_account,
        reason=claim.reason, verified=verified,
    )  # fmt: skip
    return await stores.reports.file(report, now, entry)


async def close(
    stores: Stores, report_id: int, actioned: bool, by: str, note: str, now: int
) -> ReportRecord:
    status = "actioned" if actioned else "dismissed"
    entry = audit_entry("report_closed", now, report_id=report_id, outcome=status, actor=by)
    return await stores.reports.close(report_id, status, by, note, now, entry)
