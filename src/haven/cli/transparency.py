"""`haven transparency report`: the published transparency report, computed from the
audit log after checking that the whole log verifies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from haven.cli.common import ConfigFile, DataDir, DbUrl, fail, load_config, out, run
from haven.core import clock
from haven.safety import auditlog, publication, transparency
from haven.store.interfaces import AuditHeadRow, AuditRow
from haven.store.stores import stores_at

app = typer.Typer(help="The published transparency report.", no_args_is_help=True)

FILES = ("report.html", "report.csv", "report.json")


@app.command("report")
def report(
    period: Annotated[
        str, typer.Option("--period", help="A year, quarter or month: 2026, 2026-Q4, 2026-11.")
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Directory for report.html, report.csv, report.json.")
    ],
    data_dir: DataDir = None,
    db: DbUrl = None,
    config_file: ConfigFile = None,
    publish: Annotated[
        bool,
        typer.Option(
            "--publish", help="Also make it the report the server shows at /transparency."
        ),
    ] = False,
    allow_unsealed: Annotated[
        bool,
        typer.Option(
            "--allow-unsealed",
            help="Write a draft even if no signed head covers the period yet (never published).",
        ),
    ] = False,
) -> None:
    """Count what operators did in a period, citing the signed tree head of the audit log
    each figure was computed from. Refuses if the audit log does not verify."""
    if publish and allow_unsealed:
        fail("--publish and --allow-unsealed cannot be combined: a draft is never published", 2)
    try:
        chosen = transparency.Period.parse(period)
    except transparency.PeriodError as exc:
        fail(escape(str(exc)), code=2)
    cfg = load_config(config_file, data_dir=data_dir, db=db)
    try:
        public = auditlog.load_public_key(cfg.data_dir)
    except auditlog.AuditKeyError as exc:
        fail(escape(str(exc)), code=2)

    async def fetch() -> tuple[list[AuditRow], list[AuditHeadRow]]:
        async with stores_at(cfg.database_url) as stores:
            return await stores.audit.entries(), await stores.audit.heads()

    rows, heads = run(fetch())
    try:
        # Checked on the very rows the report is computed from, so nothing can slip in between.
        computed = publication.verified_report(
            rows, heads, chosen, public, allow_unsealed=allow_unsealed
        )
    except transparency.TransparencyError as exc:
        fail(escape(str(exc)))
    html_text, csv_text, json_text = transparency.render(computed)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, text in zip(FILES, (html_text, csv_text, json_text), strict=True):
            (out_dir / name).write_text(text, encoding="utf-8")
        published = transparency.publish(cfg.data_dir, json_text, html_text) if publish else None
    except OSError as exc:
        fail(escape(f"cannot write the report: {exc}"))
    head = computed.head
    cited = (
        "[yellow]draft: no signed head covers it yet[/]"
        if head is None
        else f"signed head of size {head.size}"
    )
    out.print(
        f"{escape(chosen.label)}: {computed.entries_in_period} audit entries, {cited}; wrote "
        f"{', '.join(FILES)} to {escape(str(out_dir))}",
        highlight=False,
    )
    if clock.now_ms() < chosen.end_ms:
        out.print(
            f"[yellow]note[/]: {escape(chosen.label)} has not ended yet: these are the figures "
            "so far",
            highlight=False,
        )
    if published is not None:
        out.print(f"published: the server now serves it from {escape(str(published))}",
                  highlight=False)  # fmt: skip
