"""`haven admin account protect-invite` and `haven admin campaigns`: inviting people at high
risk into account protection, and reviewing possible coordinated reporting campaigns.
Both go through the running server's operator API, like every other account action."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from haven.cli.common import err, out
from haven.cli.moderation import Json, Server, TokenFile, _call

campaigns_app = typer.Typer(
    help="Possible coordinated reporting campaigns (mass reports from new or linked "
    "accounts): list them (the default), show one, confirm or dismiss it.",
    invoke_without_command=True,
)
FlagId = Annotated[int, typer.Argument(help="The campaign flag's number.", min=1)]
Note = Annotated[str, typer.Option("--note", help="Why (kept in the record).")]


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def protect_invite(
    account: Annotated[str, typer.Argument(help="The account id.")],
    language: Annotated[str, typer.Option("--lang", help="Language of the invitation.")] = "en",
    server: Server = None,
    token_file: TokenFile = None,
) -> None:
    """Invite an account into account protection: a signed notice on all its devices
    (recorded in the audit log)."""
    body = {"language": language}
    sent = _call("POST", f"/v1/admin/accounts/{account}/protection-invite", server, token_file,
                 body)  # fmt: skip
    err.print(f"invitation sent (notice {sent['notice_id']})")


def _flags(status: str, server: str | None, token_file: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = _call(
        "GET", f"/v1/admin/campaigns?status={status}", server, token_file
    )
    return found


@campaigns_app.callback()
def campaigns(
    context: typer.Context,
    status: Annotated[str, typer.Option("--status", help="open, confirmed or dismissed.")] = "open",
    server: Server = None,
    token_file: TokenFile = None,
    as_json: Json = False,
) -> None:
    """List campaign flags (open ones by default), oldest first."""
    if context.invoked_subcommand is not None:
        return
    found = _flags(status, server, token_file)
    if as_json:
        for flag in found:
            typer.echo(json.dumps(flag, sort_keys=True))
        return
    table = Table("flag", "account", "protected", "reports", "new accounts", "signals", "since")
    for flag in found:
        table.add_row(
            str(flag["flag_id"]), flag["account_id"][:8], "yes" if flag["protected"] else "no",
            f"{flag['reports']} from {flag['reporters']}", str(flag["fresh_reporters"]),
            " ".join(flag["signals"]), _when(flag["created_at"]),
        )  # fmt: skip
    out.print(table)


@campaigns_app.command("show")
def show(
    flag_id: FlagId,
    server: Server = None,
    token_file: TokenFile = None,
    as_json: Json = False,
) -> None:
    """One flag in full: its figures and the accounts that reported."""
    found = [f for s in ("open", "confirmed", "dismissed") for f in _flags(s, server, token_file)]
    flag = next((f for f in found if f["flag_id"] == flag_id), None)
    if flag is None:
        err.print(f"[bold red]error:[/] no campaign flag {flag_id}", highlight=False)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(flag, sort_keys=True))
        return
    days = flag["median_reporter_age_seconds"] // 86400
    out.print(
        f"[bold]flag {flag_id}[/] against {flag['account_id']} "
        f"({'protected' if flag['protected'] else 'not protected'}): {flag['status']}\n"
        f"  {flag['reports']} reports from {flag['reporters']} accounts between "
        f"{_when(flag['window_start'])} and {_when(flag['window_end'])}\n"
        f"  {flag['fresh_reporters']} reporters' accounts were new; median age {days} days\n"
        f"  largest burst: {flag['burst']} reporters; overlap {flag['overlap']:.0%}\n"
        f"  signals: {escape(', '.join(flag['signals']))}",
        highlight=False,
    )
    out.print("  reporters: " + " ".join(flag["reporter_accounts"]), highlight=False)


def _decide(flag_id: int, outcome: str, note: str, server: str | None, token_file: Any) -> None:
    body = {"outcome": outcome, "note": note}
    done = _call("POST", f"/v1/admin/campaigns/{flag_id}/decision", server, token_file, body)
    err.print(f"flag {flag_id}: {done['status']}")


@campaigns_app.command("confirm")
def confirm(
    flag_id: FlagId, note: Note = "", server: Server = None, token_file: TokenFile = None
) -> None:
    """It was a campaign: its open reports are dismissed, and a protected person is told a
    campaign was stopped (never by whom)."""
    _decide(flag_id, "confirm", note, server, token_file)


@campaigns_app.command("dismiss")
def dismiss(
    flag_id: FlagId, note: Note = "", server: Server = None, token_file: TokenFile = None
) -> None:
    """It was not a campaign: the reports stay open for review."""
    _decide(flag_id, "dismiss", note, server, token_file)
