"""`haven transparency report` as an operator runs it: real processes over a SQLite data
directory holding a real, sealed audit log; refusal when the log was tampered with; and the
published report served by a real server process."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from haven.safety import auditlog
from haven.safety import transparency as tr
from haven.safety.records import audit_entry
from haven.store.interfaces import AuditHeadRow, AuditRow
from haven.store.stores import stores_at
from tests.processes import ServerProcess
from tests.safety.test_transparency import (
    Q4_END,
    Q4_START,
    build_log,
    check_citation,
    expected_figures,
    ms,
    recount,
)


def haven(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "haven", *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip


def said(result: subprocess.CompletedProcess[str]) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join((result.stdout + result.stderr).split())


def database(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'haven.sqlite3'}"


def populate(data_dir: Path) -> set[str]:
    data_dir.mkdir(parents=True)

    async def work() -> set[str]:
        async with stores_at(database(data_dir)) as stores:
            return (await build_log(stores, data_dir)).secrets

    return asyncio.run(work())


def audit_log(data_dir: Path) -> tuple[list[AuditRow], list[AuditHeadRow]]:
    async def work() -> tuple[list[AuditRow], list[AuditHeadRow]]:
        async with stores_at(database(data_dir)) as stores:
            return await stores.audit.entries(), await stores.audit.heads()

    return asyncio.run(work())


@pytest.mark.slow
def test_report_is_written_published_and_served(
    tmp_path: Path, launch: type[ServerProcess]
) -> None:
    data, out = tmp_path / "data", tmp_path / "out" / "2026-q4"
    leaks = populate(data)
    made = haven("transparency", "report", "--period", "2026-Q4", "--out", str(out),
                 "--data-dir", str(data), "--publish")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "2026-Q4" in said(made)
    assert "published" in said(made)
    files = {
        name: (out / name).read_text() for name in ("report.html", "report.csv", "report.json")
    }

    rows, _ = audit_log(data)
    report = json.loads(files["report.json"])
    check_citation(report, rows)
    size = report["source"]["head"]["size"]
    expected = expected_figures(recount(rows[:size], Q4_START, Q4_END))
    assert {s: {n: v for n, v in names.items() if v} for s, names in report["figures"].items()} == (
        expected
    )
    table = list(csv.DictReader(io.StringIO(files["report.csv"])))
    assert {(r["section"], r["name"]): int(r["value"]) for r in table} == {
        (s, n): v for s, names in report["figures"].items() for n, v in names.items()
    }
    assert {(r["period"], r["head_size"], r["head_root_hex"]) for r in table} == {
        ("2026-Q4", str(size), report["source"]["head"]["root_hex"])
    }
    for text in files.values():
        assert sorted(s for s in leaks if s in text) == []
    published = data / tr.PUBLISH_DIR
    assert (published / "latest.json").read_text() == files["report.json"]
    assert (published / "latest.html").read_text() == files["report.html"]

    server = launch(data, database(data)).start()
    latest = httpx.get(f"{server.url}/v1/transparency/latest", timeout=10)
    assert (latest.status_code, latest.text) == (200, files["report.json"])
    page = httpx.get(f"{server.url}/transparency", timeout=10)
    assert (page.status_code, page.text) == (200, files["report.html"])
    assert page.headers["content-security-policy"].startswith(
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )


def test_bad_input_and_unsealed_periods_are_refused(tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "out"
    populate(data)
    base = ["transparency", "report", "--out", str(out), "--data-dir", str(data)]

    bad = haven(*base, "--period", "2026-Q5")
    assert bad.returncode == 2
    assert "a quarter is Q1 to Q4" in said(bad)
    keyless = tmp_path / "elsewhere"
    keyless.mkdir()
    nokey = haven("transparency", "report", "--period", "2026-Q4", "--out", str(out),
                  "--data-dir", str(keyless), "--db", database(data))  # fmt: skip
    assert nokey.returncode == 2
    assert "cannot read the audit public key" in said(nokey)

    async def unsealed() -> None:
        async with stores_at(database(data)) as stores:
            await stores.audit.append(audit_entry("notice_sent", ms(2027, 2, 3), account="z"))

    asyncio.run(unsealed())
    refused = haven(*base, "--period", "2027-02")
    assert refused.returncode == 1
    assert "no signed tree head covers it yet" in said(refused)
    both = haven(*base, "--period", "2027-02", "--allow-unsealed", "--publish")
    assert both.returncode == 2
    draft = haven(*base, "--period", "2027-02", "--allow-unsealed")
    assert draft.returncode == 0, draft.stderr
    assert "draft" in said(draft)
    assert json.loads((out / "report.json").read_text())["source"]["sealed"] is False
    assert not (data / tr.PUBLISH_DIR).exists()


def test_a_tampered_log_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    data, first, second = tmp_path / "data", tmp_path / "first", tmp_path / "second"
    populate(data)
    base = ["transparency", "report", "--period", "2026-Q4", "--data-dir", str(data)]
    assert haven(*base, "--out", str(first), "--publish").returncode == 0
    published = (data / tr.PUBLISH_DIR / "latest.json").read_text()

    # Someone with database access turns a harassment warning into a threats one.
    rows, _ = audit_log(data)
    [target] = [i for i, r in enumerate(rows, 1) if '"reason":"harassment"' in r.data]
    with contextlib.closing(sqlite3.connect(data / "haven.sqlite3")) as conn, conn:
        conn.execute(
            "UPDATE audit_entries SET data = replace(data, 'harassment', 'threats') WHERE seq = ?",
            (target,),
        )
    refused = haven(*base, "--out", str(second), "--publish")
    assert refused.returncode == 1
    assert "the audit log does not verify" in said(refused)
    assert f"entry {target}" in said(refused)
    assert not second.exists()
    assert (data / tr.PUBLISH_DIR / "latest.json").read_text() == published
    # The library refuses too, for callers that skip `verify`.
    rows, heads = audit_log(data)
    with pytest.raises(tr.TransparencyError, match="do not hash to the signed head"):
        tr.compute(rows, heads, tr.Period.parse("2026-Q4"))
    assert auditlog.check(rows, heads, auditlog.load_public_key(data)).first_bad_entry == target
