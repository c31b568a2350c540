"""`haven audit verify|show`: check and read the tamper-evident audit log."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from haven.cli.common import ConfigFile, DataDir, DbUrl, fail, load_config, out, run
from haven.safety import auditlog
from haven.store.interfaces import AuditRow
from haven.store.stores import stores_at

app = typer.Typer(help="The audit log of every operator action.", no_args_is_help=True)


@app.command("verify")
def verify(
    data_dir: DataDir = None,
    db: DbUrl = None,
    config_file: ConfigFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Recompute the whole log and check every signed tree head. Exit status 0 only if
    it all verifies; otherwise the first altered, removed or reordered entry is named."""
    cfg = load_config(config_file, data_dir=data_dir, db=db)
    try:
        public = auditlog.load_public_key(cfg.data_dir)
    except auditlog.AuditKeyError as exc:
        fail(str(exc), code=2)

    async def check() -> auditlog.VerifyReport:
        async with stores_at(cfg.database_url) as stores:
            return await auditlog.verify(stores, public)

    report = run(check())
    if as_json:
        typer.echo(json.dumps(report.__dict__, sort_keys=True))
    elif report.ok:
        out.print(
            f"[green]verified[/]: {report.entries} entries, {report.heads_checked} signed heads"
            + (f" ({escape(report.problem)})" if report.problem else ""),
            highlight=False,
        )
    else:
        out.print(f"[bold red]FAILED[/]: {escape(report.problem)}", highlight=False)
    raise typer.Exit(0 if report.ok else 1)


@app.command("show")
def show(
    after: Annotated[int, typer.Option("--after", min=0, help="Start after this entry.")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 100,
    data_dir: DataDir = None,
    db: DbUrl = None,
    config_file: ConfigFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per entry.")] = False,
) -> None:
    """List audit entries, oldest first."""
    cfg = load_config(config_file, data_dir=data_dir, db=db)

    async def fetch() -> list[AuditRow]:
        async with stores_at(cfg.database_url) as stores:
            return await stores.audit.entries(after, limit)

    rows = run(fetch())
    if as_json:
        for row in rows:
            typer.echo(json.dumps({"seq": row.seq, "entry": json.loads(row.data)}, sort_keys=True))
        return
    table = Table("#", "when", "what", "details")
    for row in rows:
        when = dt.datetime.fromtimestamp(row.created_at / 1000, tz=dt.UTC)
        details = {k: v for k, v in json.loads(row.data).items() if k not in ("kind", "at")}
        table.add_row(
            str(row.seq), when.strftime("%Y-%m-%d %H:%M:%S"), row.kind,
            escape(json.dumps(details, ensure_ascii=False)),
        )  # fmt: skip
    out.print(table)
