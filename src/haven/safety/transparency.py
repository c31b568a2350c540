"""The published transparency report ("know and show"): counts of what operators did in a
period, computed from the tamper-evident audit log and nothing else.

Every figure cites the signed tree head that covers the entries it was counted from, with
the audit public key and the method, so anyone holding the log can check the head and
recompute each number. The report holds counts only: never an account id, an operator's
name, a note or any other text from an entry, because a published report must not help
anyone find the people in it.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from haven.core import b64
from haven.merkle.hashing import leaf_hashes_of, root_of
from haven.merkle.heads import HeadError, SignedTreeHead, TreeHead, public_key, verify_head
from haven.safety.policy import REASONS, Action
from haven.store.interfaces import AuditHeadRow, AuditRow

SCHEMA = "haven/transparency-report/v1"
PUBLISH_DIR = "transparency"
UNRECOGNISED = "unrecognised"
Form = Literal["json", "html"]

METHOD = (
    "Audit entries are the log's canonical-JSON entries, numbered from 1 in log order. Take "
    "the first `entries_considered` of them. Check that their RFC 9162 Merkle tree hash "
    "(SHA-256; leaf = SHA-256(0x00 || entry bytes)) equals `head.root_hex`, and that "
    "`head.signature_b64` is an Ed25519 signature by `audit_public_key_b64` over "
    "b'haven-sth-v1' || size (u64 big-endian) || timestamp_ms (u64 big-endian) || root. "
    "Then count the entries whose `at` (milliseconds since the Unix epoch, UTC) is in "
    "[period.start_ms, period.end_ms): `account_action` by `action` and by `reason` (values "
    "outside the published policy count as 'unrecognised'); `appeal`; `appeal_decision` by "
    "`outcome`; `report_received` by `verified`; `report_closed` by `outcome`; "
    "`notice_sent`; `legal_request` by `response` ('other' when none of complied, refused, "
    "partial); `intel_shared`, summing `indicators` (a count, or the length of a list). "
    "The head cited is the first whose size reaches the last entry in the period (the latest "
    "head when the period has no entries)."
)

_SECTIONS: dict[str, str] = {
    "actions": "Account actions",
    "actions_by_type": "Account actions by type",
    "actions_by_reason": "Account actions by reason",
    "appeals": "Appeals",
    "reports": "Abuse reports",
    "notices": "Notices to people believed targeted",
    "legal_requests": "Government and legal requests",
    "intel_sharing": "Threat intelligence shared with peers",
}
_ACTION_TYPES = tuple(a.value for a in Action)
_REASON_CODES = tuple(r.code for r in REASONS)
_LEGAL_RESPONSES = ("complied", "refused", "partial")
_LABELS: dict[str, str] = {
    "warn": "Warnings",
    "restrict": "Restrictions",
    "suspend": "Suspensions",
    "ban": "Bans",
    "revoke_device": "Devices revoked",
    "restore": "Restorations",
    UNRECOGNISED: "Not in the published policy",
    "total": "Total",
    "received": "Received",
    "upheld": "Upheld",
    "reversed": "Reversed",
    "verified": "Verified (message franking)",
    "unverified": "Unverified",
    "closed": "Closed",
    "actioned": "Closed: actioned",
    "dismissed": "Closed: dismissed",
    "sent": "Sent (count only)",
    "complied": "Complied",
    "refused": "Refused",
    "partial": "Partly complied",
    "other": "Other or no response recorded",
    "shares": "Times shared",
    "indicators": "Indicators shared",
}


class TransparencyError(Exception):
    """The report cannot be computed honestly from this log (the message says why)."""


class UnsealedError(TransparencyError):
    """Entries in the period are not yet under a signed tree head."""


class PeriodError(ValueError):
    """A period is not YYYY, YYYY-MM or YYYY-Qn."""


_PERIOD = re.compile(
    r"(?P<year>[0-9]{4})(?:-(?:(?P<quarter>[Qq][0-9])|(?P<month>[0-9]{2})))?", re.ASCII
)


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp()) * 1000


@dataclass(frozen=True)
class Period:
    """A calendar year, quarter or month in UTC: [start_ms, end_ms)."""

    label: str
    start_ms: int
    end_ms: int

    @classmethod
    def parse(cls, text: str) -> Period:
        found = _PERIOD.fullmatch(text.strip())
        if found is None:
            raise PeriodError(
                f"a period is a year, a quarter or a month, as 2026, 2026-Q4 or 2026-11; "
                f"not {text!r}"
            )
        year = int(found["year"])
        if not 1970 <= year <= 9998:
            raise PeriodError(f"a period's year is 1970 to 9998, not {year}")
        if found["quarter"]:
            quarter = int(found["quarter"][1])
            if not 1 <= quarter <= 4:
                raise PeriodError(f"a quarter is Q1 to Q4, not {found['quarter']!r}")
            first, months, label = 3 * quarter - 2, 3, f"{year}-Q{quarter}"
        elif found["month"]:
            month = int(found["month"])
            if not 1 <= month <= 12:
                raise PeriodError(f"a month is 01 to 12, not {found['month']!r}")
            first, months, label = month, 1, f"{year}-{month:02d}"
        else:
            first, months, label = 1, 12, f"{year}"
        start = dt.datetime(year, first, 1, tzinfo=dt.UTC)
        after = first + months  # 13 means January of the next year
        end = dt.datetime(year + (after - 1) // 12, (after - 1) % 12 + 1, 1, tzinfo=dt.UTC)
        return cls(label, _ms(start), _ms(end))

    def __contains__(self, at: object) -> bool:
        return isinstance(at, int) and self.start_ms <= at < self.end_ms

    @property
    def first_day(self) -> str:
        return dt.datetime.fromtimestamp(self.start_ms / 1000, tz=dt.UTC).date().isoformat()

    @property
    def last_day(self) -> str:
        end = dt.datetime.fromtimestamp(self.end_ms / 1000, tz=dt.UTC)
        return (end - dt.timedelta(days=1)).date().isoformat()


@dataclass(frozen=True)
class CitedHead:
    size: int
    root: bytes
    timestamp_ms: int
    signature: bytes


@dataclass(frozen=True)
class Report:
    period: Period
    figures: dict[str, dict[str, int]]  # section -> name -> count, in publication order
    head: CitedHead | None  # None: computed from entries no signed head covers yet
    public_key: bytes | None  # the audit log's Ed25519 public key (raw)
    entries_considered: int  # figures count entries among the first this many of the log
    entries_in_period: int
    first_entry: int | None  # 1-based positions of the period's first and last entries
    last_entry: int | None
    method: str = METHOD

    @property
    def sealed(self) -> bool:
        return self.head is not None


def _empty_figures() -> dict[str, dict[str, int]]:
    def zeros(names: Iterable[str]) -> dict[str, int]:
        return dict.fromkeys(names, 0)

    return {
        "actions": zeros(["total"]),
        "actions_by_type": zeros([*_ACTION_TYPES, UNRECOGNISED]),
        "actions_by_reason": zeros([*_REASON_CODES, UNRECOGNISED]),
        "appeals": zeros(["received", "upheld", "reversed"]),
        "reports": zeros(["received", "verified", "unverified", "closed", "actioned",
                          "dismissed"]),
        "notices": zeros(["sent"]),
        "legal_requests": zeros(["received", *_LEGAL_RESPONSES, "other"]),
        "intel_sharing": zeros(["shares", "indicators"]),
    }  # fmt: skip


def _indicator_count(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, list):
        return len(value)
    return 0


def _count(figures: dict[str, dict[str, int]], entry: dict[str, Any]) -> None:
    """Add one entry to the figures. Only values from fixed vocabularies become names:
    anything else in an entry (ids, actors, authorities, notes) is never read out."""
    kind = entry.get("kind")
    if kind == "account_action":
        figures["actions"]["total"] += 1
        action, reason = entry.get("action"), entry.get("reason")
        by_type, by_reason = figures["actions_by_type"], figures["actions_by_reason"]
        by_type[action if action in _ACTION_TYPES else UNRECOGNISED] += 1
        by_reason[reason if reason in _REASON_CODES else UNRECOGNISED] += 1
    elif kind == "appeal":
        figures["appeals"]["received"] += 1
    elif kind == "appeal_decision":
        outcome = entry.get("outcome")
        if outcome in ("upheld", "reversed"):
            figures["appeals"][outcome] += 1
    elif kind == "report_received":
        figures["reports"]["received"] += 1
        figures["reports"]["verified" if entry.get("verified") is True else "unverified"] += 1
    elif kind == "report_closed":
        figures["reports"]["closed"] += 1
        outcome = entry.get("outcome")
        if outcome in ("actioned", "dismissed"):
            figures["reports"][outcome] += 1
    elif kind == "notice_sent":
        figures["notices"]["sent"] += 1
    elif kind == "legal_request":
        figures["legal_requests"]["received"] += 1
        response = entry.get("response")
        figures["legal_requests"][response if response in _LEGAL_RESPONSES else "other"] += 1
    elif kind == "intel_shared":
        figures["intel_sharing"]["shares"] += 1
        figures["intel_sharing"]["indicators"] += _indicator_count(entry.get("indicators"))


def _parse(position: int, row: AuditRow) -> dict[str, Any]:
    try:
        entry = json.loads(row.data)
    except ValueError:
        raise TransparencyError(f"audit entry {position} is not JSON") from None
    if not isinstance(entry, dict):
        raise TransparencyError(f"audit entry {position} is not a JSON object")
    at = entry.get("at")
    if isinstance(at, bool) or not isinstance(at, int):
        raise TransparencyError(f"audit entry {position} has no time ('at')")
    return entry


def _check_head(
    rows: list[AuditRow], head: AuditHeadRow, key: Ed25519PublicKey | None
) -> CitedHead:
    """The cited head must be what the entries hash to (and, given the key, signed by it):
    a report citing a head its own entries do not match would prove nothing."""
    if head.size > len(rows):
        raise TransparencyError(
            f"the signed head of size {head.size} covers more entries than the log holds "
            f"({len(rows)}): entries were removed; run `haven audit verify`"
        )
    root = root_of(leaf_hashes_of([row.data.encode("utf-8") for row in rows[: head.size]]))
    if root != head.root:
        raise TransparencyError(
            f"the first {head.size} entries do not hash to the signed head's root: the log "
            "was changed; run `haven audit verify`"
        )
    if key is not None:
        try:
            verify_head(key, SignedTreeHead(TreeHead(head.size, head.root, head.timestamp),
                                            head.signature))  # fmt: skip
        except HeadError as exc:
            raise TransparencyError(f"the cited head does not verify: {exc}") from None
    return CitedHead(head.size, head.root, head.timestamp, head.signature)


def compute(
    rows: list[AuditRow],
    heads: list[AuditHeadRow],
    period: Period,
    *,
    public_key: Ed25519PublicKey | bytes | None = None,
    allow_unsealed: bool = False,
) -> Report:
    """The report for `period` from the whole log (`rows` in log order) and its heads.

    Raises `UnsealedError` when no signed head covers the period's entries yet (unless
    `allow_unsealed`: a draft citing no head), and `TransparencyError` when the cited head
    does not match the entries or, given `public_key`, its signature does not verify."""
    key = None if public_key is None else _public_key(public_key)
    raw_key = None if key is None else key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    in_period = [
        (position, entry)
        for position, entry in ((p, _parse(p, row)) for p, row in enumerate(rows, start=1))
        if entry["at"] in period
    ]
    last = in_period[-1][0] if in_period else 0
    ordered = sorted(heads, key=lambda h: h.size)
    if in_period:
        covering = next((h for h in ordered if h.size >= last), None)
    else:  # nothing to cover: the newest head says the most about an empty period
        covering = ordered[-1] if ordered else None
    if covering is None and not allow_unsealed:
        if not in_period:
            raise UnsealedError(f"{period.label}: the audit log has no signed tree head yet")
        raise UnsealedError(
            f"{period.label}: entry {last} of the audit log is in the period but no signed "
            "tree head covers it yet, so nobody could check the report; wait for the "
            "server to seal the log"
        )
    cited = None if covering is None else _check_head(rows, covering, key)
    figures = _empty_figures()
    for _, entry in in_period:
        _count(figures, entry)
    return Report(
        period=period,
        figures=figures,
        head=cited,
        public_key=raw_key,
        entries_considered=len(rows) if cited is None else cited.size,
        entries_in_period=len(in_period),
        first_entry=in_period[0][0] if in_period else None,
        last_entry=last or None,
    )


def _public_key(value: Ed25519PublicKey | bytes) -> Ed25519PublicKey:
    try:
        return public_key(value)
    except HeadError as exc:
        raise TransparencyError(f"the audit public key is unusable: {exc}") from None


# --- rendering ---------------------------------------------------------------------------


def _iso(ms: int) -> str:
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def to_dict(report: Report) -> dict[str, Any]:
    head = report.head
    return {
        "schema": SCHEMA,
        "period": {
            "label": report.period.label,
            "start_ms": report.period.start_ms,
            "end_ms": report.period.end_ms,
            "start": _iso(report.period.start_ms),
            "end": _iso(report.period.end_ms),
        },
        "figures": {section: dict(names) for section, names in report.figures.items()},
        "source": {
            "sealed": head is not None,
            "head": None
            if head is None
            else {
                "size": head.size,
                "root_hex": head.root.hex(),
                "timestamp_ms": head.timestamp_ms,
                "signature_b64": b64.encode(head.signature),
            },
            "audit_public_key_b64": None
            if report.public_key is None
            else b64.encode(report.public_key),
            "entries_considered": report.entries_considered,
            "entries_in_period": report.entries_in_period,
            "first_entry": report.first_entry,
            "last_entry": report.last_entry,
            "method": report.method,
        },
    }


def render_json(report: Report) -> str:
    return json.dumps(to_dict(report), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def render_csv(report: Report) -> str:
    """One row per figure, each carrying the period and the head it was computed from."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["section", "name", "value", "period", "head_size", "head_root_hex"])
    size = "" if report.head is None else str(report.head.size)
    root = "" if report.head is None else report.head.root.hex()
    for section, names in report.figures.items():
        for name, value in names.items():
            writer.writerow([section, name, value, report.period.label, size, root])
    return buffer.getvalue()


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


_REASON_TITLES = {r.code: r.title for r in REASONS}


def _label(section: str, name: str) -> str:
    if section == "actions_by_reason" and name in _REASON_TITLES:
        return _REASON_TITLES[name]
    return _LABELS.get(name, name.replace("_", " ").capitalize())


def _chart(counts: dict[str, int]) -> str:
    """Horizontal bars, drawn inline: the page loads nothing from anywhere."""
    bars = [(name, value) for name, value in counts.items() if name != UNRECOGNISED or value]
    row, left, span = 26, 170, 280
    width, height = left + span + 60, row * len(bars) + 10
    top = max([value for _, value in bars] + [1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
        "<title>Account actions by type</title>"
    ]
    for index, (name, value) in enumerate(bars):
        y, bar = 5 + index * row, round(span * value / top)
        label = _e(_label("actions_by_type", name))
        parts.append(
            f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{label}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{bar}" height="{row - 8}" fill="#3b6ea8">'
            f"<title>{label}: {_e(value)}</title></rect>"
            f'<text x="{left + bar + 6}" y="{y + 16}">{_e(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(section: str, names: dict[str, int]) -> str:
    rows = "".join(
        f'<tr><th scope="row">{_e(_label(section, name))}</th><td>{_e(value)}</td></tr>'
        for name, value in names.items()
    )
    return (
        f'<table id="{_e(section)}"><caption>{_e(_SECTIONS.get(section, section))}</caption>'
        f"{rows}</table>"
    )


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;
color:#1a1a1a;line-height:1.5}
table{border-collapse:collapse;margin:1rem 0;min-width:22rem}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border-bottom:1px solid #ddd;padding:.25rem .75rem;text-align:left}
td{text-align:right;font-variant-numeric:tabular-nums}
svg text{font-size:13px;fill:#1a1a1a}
code{word-break:break-all;font-size:.85em}
.warning{background:#fff3cd;border:1px solid #e0c060;padding:.5rem 1rem}
"""


def render_html(report: Report) -> str:
    period = report.period
    head = report.head
    draft = ""
    if head is None:
        draft = (
            '<p class="warning">Draft: these figures were computed from audit entries that '
            "no signed tree head covers yet, so they cannot be checked. Do not publish.</p>"
        )
        citation = "<p>No signed tree head covers these entries yet.</p>"
    else:
        citation = (
            "<dl>"
            f"<dt>Signed tree head: size</dt><dd>{_e(head.size)}</dd>"
            f"<dt>Root (hex)</dt><dd><code>{_e(head.root.hex())}</code></dd>"
            f"<dt>Signed at</dt><dd>{_e(_iso(head.timestamp_ms))} "
            f"(<code>{_e(head.timestamp_ms)}</code> ms)</dd>"
            f"<dt>Signature (base64)</dt><dd><code>{_e(b64.encode(head.signature))}</code></dd>"
            "</dl>"
        )
    key = "unknown" if report.public_key is None else b64.encode(report.public_key)
    tables = "".join(
        _table(section, names)
        for section, names in report.figures.items()
        if section != "actions_by_type"
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Transparency report {_e(period.label)}</title>"
        f"<style>{_STYLE}</style></head><body><main>"
        f"<h1>Transparency report: {_e(period.label)}</h1>"
        f"{draft}"
        f"<p>What this service's operators did from {_e(period.first_day)} to "
        f"{_e(period.last_day)} (UTC), counted from its tamper-evident audit log. "
        "Counts only: no account, person or message is named.</p>"
        "<section><h2>Account actions by type</h2>"
        f"{_chart(report.figures['actions_by_type'])}"
        f"{_table('actions_by_type', report.figures['actions_by_type'])}</section>"
        f"<section><h2>All figures</h2>{tables}</section>"
        "<section><h2>Check these numbers yourself</h2>"
        f"<p>Computed from {_e(report.entries_in_period)} audit entries in the period, among "
        f"the first {_e(report.entries_considered)} entries of the log.</p>"
        f"{citation}"
        f"<p>Audit log public key (Ed25519, base64): <code>{_e(key)}</code></p>"
        f"<p>Method: {_e(report.method)}</p></section>"
        "</main></body></html>\n"
    )


def render(report: Report) -> tuple[str, str, str]:
    """(html, csv, json) of one report."""
    return render_html(report), render_csv(report), render_json(report)


# --- publishing --------------------------------------------------------------------------


def _write_atomically(path: Path, text: str) -> None:
    """Readers (the server) see the old file or the new one, never half of either."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)  # a published report is public by design
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def publish(data_dir: Path, json_text: str, html_text: str) -> Path:
    """Make a rendered report the one the server serves; returns the directory."""
    target = data_dir / PUBLISH_DIR
    target.mkdir(parents=True, exist_ok=True)
    # JSON last: it is the record of what is published, so it never names a page not there.
    _write_atomically(target / "latest.html", html_text)
    _write_atomically(target / "latest.json", json_text)
    return target


def read_published(data_dir: Path, form: Form) -> bytes | None:
    try:
        return (data_dir / PUBLISH_DIR / f"latest.{form}").read_bytes()
    except FileNotFoundError:
        return None
