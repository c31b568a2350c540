"""The transparency report against a real audit log, built through the real services and
sealed after every step: each published number is recounted here from the raw audit rows,
the cited head is checked with this file's own Merkle and signature code, and nothing that
names a person or carries free text reaches the outputs."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import itertools
import json
import secrets
import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from haven.core import b64, franking, ids
from haven.safety import actions, auditlog, reports
from haven.safety import transparency as tr
from haven.safety.policy import REASON_CODES, Action
from haven.safety.records import audit_entry
from haven.store.interfaces import AuditRow, Identity
from haven.store.stores import Stores

pytestmark = pytest.mark.anyio

Q4 = tr.Period.parse("2026-Q4")
HOSTILE = "<script>alert('x')</script>&\"quoted\""
OPERATOR = f"Ana {HOSTILE}"


def ms(year: int, month: int, day: int = 1) -> int:
    return int(dt.datetime(year, month, day, tzinfo=dt.UTC).timestamp()) * 1000


Q4_START, Q4_END = ms(2026, 10, 1), ms(2027, 1, 1)


@dataclass
class Log:
    """What the scenario did, for checks that no id or text leaks into a report."""

    key: Ed25519PrivateKey
    secrets: set[str] = field(default_factory=set)


async def register(stores: Stores, log: Log) -> tuple[str, str]:
    account_id, device_id = ids.new_id(), ids.new_id()
    await stores.accounts.create_account(
        account_id, device_id, Identity(ids.new_token()[:43], ids.new_token()[:43]),
        ids.token_digest(ids.new_token()), 1, None,
    )  # fmt: skip
    log.secrets |= {account_id, device_id}
    return account_id, device_id


async def sealed(stores: Stores, log: Log, at: int) -> None:
    assert await auditlog.seal(stores, log.key, at + 1) is not None


async def file_report(
    stores: Stores, log: Log, stamp_key: bytes, reporter: tuple[str, str],
    sender: tuple[str, str], at: int, *, faithful: bool,
) -> int:  # fmt: skip
    [device] = await stores.accounts.devices(reporter[0]) or []
    content = b'{"body": "I know where your office is"}'
    key, envelope = secrets.token_bytes(32), ids.new_id()
    tag = franking.commit(key, content)
    stamp = franking.stamp(stamp_key, tag, envelope, sender, reporter, at - 5)
    shown = content if faithful else content.replace(b"office", b"house")
    claim = reports.Claim(
        envelope, sender[0], sender[1], at - 5, b64.encode(tag), b64.encode(stamp),
        b64.encode(shown), b64.encode(key), "threats",
    )  # fmt: skip
    filed = await reports.file(stores, stamp_key, device, claim, at)
    assert filed.report.verified is faithful
    log.secrets |= {envelope, "office", "house"}
    await sealed(stores, log, at)
    return filed.report_id


async def build_log(stores: Stores, data_dir: Path) -> Log:
    """A quarter of moderation, with entries on both sides of each edge of 2026-Q4."""
    log = Log(auditlog.load_or_create_key(data_dir))
    alice, bob, carol, dave, erin = [await register(stores, log) for _ in range(5)]
    stamp_key = secrets.token_bytes(32)

    async def act(who: tuple[str, str], action: Action, reason: str, at: int, **extra: Any) -> int:
        done = await actions.take_action(
            stores, who[0], action, reason, "internal note: see ticket 4411", OPERATOR, at,
            **extra,
        )  # fmt: skip
        await sealed(stores, log, at)
        return done.record.action_id

    async def appeal_and_decide(action_id: int, who: str, at: int, reverse: bool) -> None:
        made = await actions.appeal(stores, who, action_id, "I was inviting my newsroom", at)
        await sealed(stores, log, at)
        await actions.decide(stores, made.appeal_id, reverse, OPERATOR, "checked", at + 1000)
        await sealed(stores, log, at + 1000)

    log.secrets |= {"ticket 4411", "newsroom", "checked", OPERATOR}
    outside_q3 = await act(alice, Action.SUSPEND, "spam", Q4_START - 1)
    await act(bob, Action.WARN, "harassment", Q4_START)
    await appeal_and_decide(outside_q3, alice[0], ms(2026, 10, 5), reverse=True)
    banned = await act(carol, Action.BAN, "threats", ms(2026, 10, 10))
    await appeal_and_decide(banned, carol[0], ms(2026, 10, 11), reverse=False)
    await act(erin, Action.REVOKE_DEVICE, "account_compromise", ms(2026, 11, 1), device_id=erin[1])
    await act(dave, Action.RESTRICT, "other", ms(2026, 11, 2))
    verified = await file_report(stores, log, stamp_key, bob, alice, ms(2026, 11, 3), faithful=True)
    forged = await file_report(stores, log, stamp_key, alice, dave, ms(2026, 11, 4), faithful=False)
    await reports.close(stores, verified, True, OPERATOR, "confirmed", ms(2026, 11, 5))
    await sealed(stores, log, ms(2026, 11, 5))
    await reports.close(stores, forged, False, OPERATOR, "altered text", ms(2026, 11, 6))
    await sealed(stores, log, ms(2026, 11, 6))

    # Kinds other services will write; their free-text fields must never be published.
    later = [
        audit_entry("notice_sent", ms(2026, 11, 7), account=alice[0], template="state-attacker"),
        audit_entry("legal_request", ms(2026, 11, 8), authority="Ministry of Interior",
                    request="subscriber_data", response="refused"),
        audit_entry("legal_request", ms(2026, 11, 9), authority="District court 7",
                    request="preservation", response="partial"),
        audit_entry("legal_request", ms(2026, 12, 1), authority="Police unit 9",
                    request="content", response="complied"),
        audit_entry("intel_shared", ms(2026, 12, 2), peer="peer-ngo.example", indicators=12),
        audit_entry("intel_shared", ms(2026, 12, 3), peer="other-peer.example",
                    indicators=["evil.example", "198.51.100.7", "sha256:ab"]),
        # A hostile writer: action and reason outside the policy, carrying markup.
        audit_entry("account_action", ms(2026, 12, 4), account=dave[0], action=HOSTILE,
                    reason=HOSTILE, device=None, actor=HOSTILE),
    ]  # fmt: skip
    log.secrets |= {"state-attacker", "Ministry of Interior", "District court 7",
                    "Police unit 9", "subscriber_data", "peer-ngo.example", "evil.example",
                    "198.51.100.7", "other-peer.example", HOSTILE}  # fmt: skip
    for entry in later:
        await stores.audit.append(entry)
        await sealed(stores, log, entry.created_at)
    await act(dave, Action.WARN, "spam", Q4_END - 1)
    await act(dave, Action.SUSPEND, "spam", Q4_END)
    return log


# --- an independent recount ----------------------------------------------------------------


def recount(rows: list[AuditRow], start: int, end: int) -> dict[str, Counter[str]]:
    """What the report must say, counted straight from the rows' JSON without the module."""
    found: dict[str, Counter[str]] = {}
    for row in rows:
        entry = json.loads(row.data)
        if not start <= entry["at"] < end:
            continue
        kind = entry["kind"]
        found.setdefault(kind, Counter())["count"] += 1
        for name in ("action", "reason", "outcome", "response"):
            if name in entry:
                found[kind][f"{name}={entry[name]}"] += 1
        if kind == "report_received":
            found[kind][f"verified={entry['verified']}"] += 1
        if kind == "intel_shared":
            shared = entry["indicators"]
            found[kind]["indicators"] += shared if isinstance(shared, int) else len(shared)
    return found


def expected_figures(counted: dict[str, Counter[str]]) -> dict[str, dict[str, int]]:
    """The recount in the report's shape: only the figures that are not zero."""
    acts = counted.get("account_action", Counter())
    policy_actions = {a.value for a in Action}
    by_type = {k.split("=", 1)[1]: v for k, v in acts.items() if k.startswith("action=")}
    by_reason = {k.split("=", 1)[1]: v for k, v in acts.items() if k.startswith("reason=")}
    known_type = {k: v for k, v in by_type.items() if k in policy_actions}
    known_reason = {k: v for k, v in by_reason.items() if k in REASON_CODES}
    appeals, decisions = counted.get("appeal", Counter()), counted.get("appeal_decision", Counter())
    received, closed = (
        counted.get("report_received", Counter()),
        counted.get("report_closed", Counter()),
    )
    legal, intel = counted.get("legal_request", Counter()), counted.get("intel_shared", Counter())
    figures = {
        "actions": {"total": acts["count"]},
        "actions_by_type": {**known_type,
                            "unrecognised": sum(by_type.values()) - sum(known_type.values())},
        "actions_by_reason": {**known_reason,
                              "unrecognised": sum(by_reason.values()) - sum(known_reason.values())},
        "appeals": {"received": appeals["count"], "upheld": decisions["outcome=upheld"],
                    "reversed": decisions["outcome=reversed"]},
        "reports": {"received": received["count"], "verified": received["verified=True"],
                    "unverified": received["verified=False"], "closed": closed["count"],
                    "actioned": closed["outcome=actioned"],
                    "dismissed": closed["outcome=dismissed"]},
        "notices": {"sent": counted.get("notice_sent", Counter())["count"]},
        "legal_requests": {"received": legal["count"], "complied": legal["response=complied"],
                           "refused": legal["response=refused"],
                           "partial": legal["response=partial"],
                           "other": legal["count"] - sum(legal[f"response={r}"] for r in
                                                         ("complied", "refused", "partial"))},
        "intel_sharing": {"shares": intel["count"], "indicators": intel["indicators"]},
    }  # fmt: skip
    return {s: {n: v for n, v in names.items() if v} for s, names in figures.items()}


def nonzero(report: tr.Report) -> dict[str, dict[str, int]]:
    return {s: {n: v for n, v in names.items() if v} for s, names in report.figures.items()}


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 Merkle tree hash, written out here rather than taken from haven.merkle."""
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(leaves[:split]) + mth(leaves[split:])).digest()


def check_citation(published: dict[str, Any], rows: list[AuditRow]) -> None:
    """What a reader does: verify the head with the published key, then the entries."""
    source = published["source"]
    head = source["head"]
    root = bytes.fromhex(head["root_hex"])
    key = Ed25519PublicKey.from_public_bytes(b64.decode(source["audit_public_key_b64"]))
    signed = b"haven-sth-v1" + struct.pack(">QQ", head["size"], head["timestamp_ms"]) + root
    key.verify(b64.decode(head["signature_b64"]), signed)
    assert source["entries_considered"] == head["size"]
    assert mth([row.data.encode() for row in rows[: head["size"]]]) == root


async def report_for(stores: Stores, tmp_path: Path, period: tr.Period) -> tr.Report:
    return tr.compute(
        await stores.audit.entries(), await stores.audit.heads(), period,
        public_key=auditlog.load_public_key(tmp_path),
    )  # fmt: skip


# --- tests ---------------------------------------------------------------------------------


async def test_every_figure_matches_a_recount_of_the_raw_rows(
    stores: Stores, tmp_path: Path
) -> None:
    await build_log(stores, tmp_path)
    rows = await stores.audit.entries()
    report = await report_for(stores, tmp_path, Q4)
    assert report.head is not None
    assert nonzero(report) == expected_figures(recount(rows[: report.head.size], Q4_START, Q4_END))
    # And by hand, from the scenario, so a shared misreading of the log cannot hide.
    figures = report.figures
    assert figures["actions"]["total"] == 6
    assert (figures["actions_by_type"]["warn"], figures["actions_by_type"]["suspend"]) == (2, 0)
    assert figures["actions_by_type"]["unrecognised"] == 1
    assert figures["actions_by_reason"]["spam"] == 1  # the Q3 suspension is not in Q4
    assert figures["appeals"] == {"received": 2, "upheld": 1, "reversed": 1}
    assert figures["reports"] == {"received": 2, "verified": 1, "unverified": 1, "closed": 2,
                                  "actioned": 1, "dismissed": 1}  # fmt: skip
    assert figures["notices"] == {"sent": 1}
    assert figures["legal_requests"] == {"received": 3, "complied": 1, "refused": 1,
                                         "partial": 1, "other": 0}  # fmt: skip
    assert figures["intel_sharing"] == {"shares": 2, "indicators": 15}
    published = json.loads(tr.render(report)[2])
    assert published["figures"] == figures
    in_period = [i for i, r in enumerate(rows, 1) if Q4_START <= json.loads(r.data)["at"] < Q4_END]
    assert published["source"]["entries_in_period"] == len(in_period)
    assert (report.first_entry, report.last_entry) == (in_period[0], in_period[-1])


async def test_the_cited_head_verifies_and_is_the_first_covering_the_period(
    stores: Stores, tmp_path: Path
) -> None:
    await build_log(stores, tmp_path)
    rows, heads = await stores.audit.entries(), await stores.audit.heads()
    published = json.loads(tr.render(await report_for(stores, tmp_path, Q4))[2])
    check_citation(published, rows)
    last = max(i for i, r in enumerate(rows, 1) if json.loads(r.data)["at"] < Q4_END)
    head = published["source"]["head"]
    assert head["size"] == last  # sealed after every step: the head right after it
    assert next(h.size for h in heads if h.size >= last) == head["size"]
    assert head["size"] < len(rows)  # the 2027 entry is in the log but not in the cited head
    key = auditlog.load_public_key(tmp_path)
    assert published["source"]["audit_public_key_b64"] == b64.encode(key.public_bytes_raw())


async def test_period_edges_are_exact_to_the_millisecond(stores: Stores, tmp_path: Path) -> None:
    await build_log(stores, tmp_path)
    rows = await stores.audit.entries()
    for label, start, end in (
        ("2026-Q3", ms(2026, 7, 1), Q4_START), ("2026-10", Q4_START, ms(2026, 11, 1)),
        ("2026-12", ms(2026, 12, 1), Q4_END), ("2027-01", Q4_END, ms(2027, 2, 1)),
        ("2026", ms(2026, 1, 1), Q4_END),
    ):  # fmt: skip
        report = await report_for(stores, tmp_path, tr.Period.parse(label))
        assert (report.period.start_ms, report.period.end_ms) == (start, end)
        assert report.head is not None
        assert nonzero(report) == expected_figures(recount(rows[: report.head.size], start, end))
    q3 = await report_for(stores, tmp_path, tr.Period.parse("2026-Q3"))
    assert q3.figures["actions_by_type"]["suspend"] == 1  # 1 ms before the quarter
    december = await report_for(stores, tmp_path, tr.Period.parse("2026-12"))
    assert december.figures["actions_by_type"]["warn"] == 1  # the quarter's last millisecond
    january = await report_for(stores, tmp_path, tr.Period.parse("2027-01"))
    assert january.figures["actions_by_type"] == {**dict.fromkeys(january.figures[
        "actions_by_type"], 0), "suspend": 1}  # fmt: skip


async def test_unsealed_entries_are_refused_unless_asked_for_a_draft(
    stores: Stores, tmp_path: Path
) -> None:
    key = auditlog.load_or_create_key(tmp_path)
    public = auditlog.load_public_key(tmp_path)
    with pytest.raises(tr.UnsealedError, match="no signed tree head yet"):
        tr.compute([], [], Q4, public_key=public)
    await stores.audit.append(audit_entry("notice_sent", Q4_START + 5, account="x"))
    await auditlog.seal(stores, key, Q4_START + 6)
    await stores.audit.append(audit_entry("notice_sent", Q4_START + 7, account="y"))
    rows, heads = await stores.audit.entries(), await stores.audit.heads()
    with pytest.raises(tr.UnsealedError, match=r"entry 2 .* no signed tree head covers it"):
        tr.compute(rows, heads, Q4, public_key=public)
    draft = tr.compute(rows, heads, Q4, public_key=public, allow_unsealed=True)
    assert (draft.sealed, draft.figures["notices"]["sent"], draft.entries_considered) == (
        False, 2, 2,
    )  # fmt: skip
    source = json.loads(tr.render_json(draft))["source"]
    assert (source["sealed"], source["head"]) == (False, None)
    assert "Draft" in tr.render_html(draft)
    # A period with nothing in it cites the newest head: nothing in the first 1 entries.
    empty = tr.compute(rows, heads, tr.Period.parse("2025"), public_key=public)
    assert empty.head is not None
    assert (empty.head.size, empty.entries_in_period, empty.figures["notices"]["sent"]) == (1, 0, 0)


async def test_a_log_that_does_not_match_its_head_is_refused(
    stores: Stores, tmp_path: Path
) -> None:
    key = auditlog.load_or_create_key(tmp_path)
    for n in range(3):
        await stores.audit.append(audit_entry("legal_request", Q4_START + n, response="refused"))
        await auditlog.seal(stores, key, Q4_START + n)
    rows, heads = await stores.audit.entries(), await stores.audit.heads()
    forged = audit_entry("legal_request", Q4_START + 1, response="complied")
    changed = [*rows[:1], dataclasses.replace(rows[1], data=forged.data), *rows[2:]]
    with pytest.raises(tr.TransparencyError, match="do not hash to the signed head"):
        tr.compute(changed, heads, Q4)
    with pytest.raises(tr.TransparencyError, match="covers more entries than the log holds"):
        tr.compute(rows[:2], heads[2:], Q4)
    stranger = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(tr.TransparencyError, match="does not verify"):
        tr.compute(rows, heads, Q4, public_key=stranger)
    report = tr.compute(rows, heads, Q4, public_key=auditlog.load_public_key(tmp_path))
    published = json.loads(tr.render_json(report))
    check_citation(published, rows)
    published["source"]["audit_public_key_b64"] = b64.encode(stranger.public_bytes_raw())
    with pytest.raises(InvalidSignature):  # the test's own check agrees
        check_citation(published, rows)


async def test_outputs_name_no_one_and_carry_no_free_text(stores: Stores, tmp_path: Path) -> None:
    log = await build_log(stores, tmp_path)
    html_text, csv_text, json_text = tr.render(await report_for(stores, tmp_path, Q4))
    for output in (html_text, csv_text, json_text):
        leaked = sorted(s for s in log.secrets if s in output)
        assert leaked == []
    assert "<script" not in html_text


def test_html_escapes_whatever_it_is_given_and_loads_nothing() -> None:
    report = tr.Report(
        period=Q4, figures={"actions_by_type": {"warn": 3, HOSTILE: 1}, HOSTILE: {HOSTILE: 2}},
        head=tr.CitedHead(7, bytes(32), Q4_END, bytes(64)), public_key=bytes(32),
        entries_considered=7, entries_in_period=4, first_entry=2, last_entry=7,
        method=f"count {HOSTILE}",
    )  # fmt: skip
    page = tr.render_html(report)
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;&quot;quoted&quot;" in page
    assert "<svg" in page
    assert "<script" not in page
    # No external anything: the only URL is the SVG namespace, which is a name, not a fetch.
    assert page.count("http") == page.count("http://www.w3.org/2000/svg") == 1
    for attribute in ("src=", "href=", "url(", "@import"):
        assert attribute not in page


def test_json_and_csv_have_a_stable_shape() -> None:
    report = tr.compute([], [], Q4, allow_unsealed=True)
    text = tr.render_json(report)
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert set(data) == {"schema", "period", "figures", "source"}
    assert data["schema"] == "haven/transparency-report/v1"
    assert data["period"] == {
        "label": "2026-Q4", "start_ms": Q4_START, "end_ms": Q4_END,
        "start": "2026-10-01T00:00:00Z", "end": "2027-01-01T00:00:00Z",
    }  # fmt: skip
    assert set(data["source"]) == {
        "sealed", "head", "audit_public_key_b64", "entries_considered", "entries_in_period",
        "first_entry", "last_entry", "method",
    }  # fmt: skip
    every = [v for names in data["figures"].values() for v in names.values()]
    assert every  # every figure is present even when nothing happened
    assert set(every) == {0}
    rows = list(csv.reader(io.StringIO(tr.render_csv(report))))
    assert rows[0] == ["section", "name", "value", "period", "head_size", "head_root_hex"]
    assert len(rows) - 1 == len(every)
    assert {(r[0], r[1]) for r in rows[1:]} == {
        (s, n) for s, names in data["figures"].items() for n in names
    }


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2026-Q5", "a quarter is Q1 to Q4"), ("2026-13", "a month is 01 to 12"),
        ("2026-00", "a month is 01 to 12"), ("Q4-2026", "as 2026, 2026-Q4 or 2026-11"),
        ("26-Q4", "as 2026"), ("2026-11-01", "not '2026-11-01'"), ("", "a period is"),
        ("1969", "1970 to 9998"), ("\uff12\uff10\uff12\uff16", "a period is"),
    ],
)  # fmt: skip
def test_bad_periods_get_clear_errors(text: str, problem: str) -> None:
    with pytest.raises(tr.PeriodError, match=problem):
        tr.Period.parse(text)


@given(st.integers(1970, 9998))
def test_months_tile_quarters_and_quarters_tile_the_year(year: int) -> None:
    months = [tr.Period.parse(f"{year}-{m:02d}") for m in range(1, 13)]
    quarters = [tr.Period.parse(f"{year}-q{q}") for q in range(1, 5)]
    whole = tr.Period.parse(str(year))
    for earlier, later in itertools.pairwise(months):
        assert earlier.end_ms == later.start_ms
    assert [q.label for q in quarters] == [f"{year}-Q{q}" for q in range(1, 5)]
    assert [(q.start_ms, q.end_ms) for q in quarters] == [
        (months[i].start_ms, months[i + 2].end_ms) for i in (0, 3, 6, 9)
    ]
    assert (whole.start_ms, whole.end_ms) == (months[0].start_ms, months[-1].end_ms)
    assert whole.start_ms in whole
    assert whole.end_ms not in whole


@given(st.text(max_size=12))
def test_any_text_parses_to_a_real_period_or_a_period_error(text: str) -> None:
    try:
        period = tr.Period.parse(text)
    except tr.PeriodError:
        return
    assert period.start_ms < period.end_ms
    assert tr.Period.parse(period.label) == period
