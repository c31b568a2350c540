"""`haven admin create-admin` and `haven admin account ...`: operators and account actions.

Actions go through the running server's operator API (not straight to the database), so a
suspension closes the person's open connections on every server process at once."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.markup import escape
from rich.table import Table

from haven.cli import qr
from haven.cli.common import ConfigFile, DataDir, DbUrl, err, fail, load_config, out, run
from haven.core import clock, ids
from haven.safety import auditlog
from haven.safety.policy import REASONS, Action
from haven.safety.records import audit_entry
from haven.server.console import credentials
from haven.store.stores import stores_at

account_app = typer.Typer(
    help="Account actions and appeals (through the running server's operator API).",
    no_args_is_help=True,
)

Server = Annotated[
    str | None,
    typer.Option("--server", help="The server's URL (default: from the config's host/port)."),
]
TokenFile = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        help="File holding your operator token (else $HAVEN_OPERATOR_TOKEN).",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
_REASON_HELP = ", ".join(r.code for r in REASONS)


def _console_password(file: Path | None) -> str | None:
    """From --password-file, else typed twice at a terminal; None when neither is possible
    (a script without --password-file gets an API token only, as before)."""
    if file is not None:
        try:
            password = file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            fail(f"cannot read {file}: {exc.strerror}")
    elif sys.stdin.isatty():
        password = typer.prompt(
            "Console password", hide_input=True, confirmation_prompt=True, err=True
        )
    else:
        return None
    try:
        credentials.check_new_password(password)
    except credentials.PasswordRejected as exc:
        fail(str(exc), code=2)
    return password


def create_admin(
    name_argument: Annotated[
        str | None,
        typer.Argument(metavar="NAME", help="Who this operator is (or give --name)."),
    ] = None,
    name_option: Annotated[
        str | None,
        typer.Option("--name", help="Who this operator is (shown in the audit log)."),
    ] = None,
    role: Annotated[
        str, typer.Option("--role", help="admin or moderator.", show_default=True)
    ] = "moderator",
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file",
            help="File holding their web console password (else it is asked for twice).",
        ),
    ] = None,
    totp: Annotated[
        bool,
        typer.Option(
            "--totp", help="Also require a code from an authenticator app at console sign-in."
        ),
    ] = False,
    data_dir: DataDir = None,
    db: DbUrl = None,
    config_file: ConfigFile = None,
) -> None:
    """Create an operator: their API token is shown once (only its hash is kept), and they
    get a web console password (Argon2id), with a TOTP second factor if --totp."""
    name = name_option if name_option is not None else name_argument
    if name is None or (name_option is not None and name_argument is not None):
        raise typer.BadParameter("give the name once, as NAME or --name", param_hint="--name")
    if role not in ("admin", "moderator"):
        raise typer.BadParameter("admin or moderator", param_hint="--role")
    if not name.isprintable() or not 1 <= len(name) <= 100:
        raise typer.BadParameter("1-100 printable characters", param_hint="NAME")
    cfg = load_config(config_file, data_dir=data_dir, db=db)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    password = _console_password(password_file)
    if totp and password is None:
        fail("--totp needs a console password: give --password-file", code=2)
    password_hash = None if password is None else credentials.hash_password(password)
    totp_secret = credentials.new_totp_secret() if totp else None
    operator_id = ids.new_id()
    token = ids.operator_token(operator_id)

    async def create() -> None:
        async with stores_at(cfg.database_url) as stores:
            now = clock.now_ms()
            await stores.operators.create(operator_id, name, role, ids.token_digest(token), now)
            if password_hash is not None:
                await stores.console.set_password(operator_id, password_hash, totp_secret, now)

    run(create())
    out.print(token, highlight=False, soft_wrap=True)
    err.print(f"{role} {escape(name)!r} created; keep the token above safe (it is shown once)",
              highlight=False)  # fmt: skip
    if password_hash is None:
        err.print("no console password set (give --password-file to set one)", highlight=False)
    else:
        err.print(f"they sign in to the web console at http://{cfg.host}:{cfg.port}/admin",
                  highlight=False)  # fmt: skip
    if totp_secret is not None:
        uri = credentials.totp_uri(totp_secret, name)
        err.print("Scan this in an authenticator app (or enter the URI); it is shown once:",
                  highlight=False)  # fmt: skip
        err.print(uri, highlight=False, soft_wrap=True, markup=False)
        err.print(qr.terminal(uri), highlight=False, markup=False)


def _token(file: Path | None) -> str:
    if file is not None:
        try:
            return file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            fail(f"cannot read {file}: {exc.strerror}")
    token = os.environ.get("HAVEN_OPERATOR_TOKEN", "").strip()
    if not token:
        fail("give --token-file or set HAVEN_OPERATOR_TOKEN (see `haven admin create-admin`)")
    return token


def _call(
    method: str, path: str, server: str | None, token_file: Path | None, body: Any = None
) -> Any:
    cfg = load_config(None)
    base = server or f"http://{cfg.host}:{cfg.port}"
    headers = {"Authorization": f"Bearer {_token(token_file)}"}
    try:
        response = httpx.request(method, base + path, json=body, headers=headers, timeout=30)
    except httpx.TransportError as exc:
        fail(f"cannot reach the server at {base}: {exc}")
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        fail(f"the server refused ({response.status_code}): {message}")
    return response.json()


@account_app.command("action")
def action(
    account: Annotated[str, typer.Argument(help="The account id.")],
    what: Annotated[
        Action,
        typer.Option("--action", help="warn, restrict, suspend, ban, revoke_device, restore."),
    ],
    reason: Annotated[str, typer.Option("--reason", help=f"A published reason: {_REASON_HELP}.")],
    note: Annotated[str, typer.Option("--note", help="Internal note (not shown to them).")] = "",
    device: Annotated[
        str | None, typer.Option("--device", help="The device, for revoke_device.")
    ] = None,
    server: Server = None,
    token_file: TokenFile = None,
    as_json: Json = False,
) -> None:
    """Act on an account, citing a reason from the published policy. Recorded in the
    audit log; suspensions and bans take effect at once."""
    body = {"action": what.value, "reason": reason, "note": note, "device_id": device}
    done = _call("POST", f"/v1/admin/accounts/{account}/actions", server, token_file, body)
    if as_json:
        typer.echo(json.dumps(done, sort_keys=True))
    else:
        err.print(f"action {done['action_id']}: {what.value} ({reason}) on {account}")


@account_app.command("show")
def show(
    account: Annotated[str, typer.Argument(help="The account id.")],
    server: Server = None,
    token_file: TokenFile = None,
    as_json: Json = False,
) -> None:
    """An account's standing, actions and appeals."""
    review = _call("GET", f"/v1/admin/accounts/{account}", server, token_file)
    if as_json:
        typer.echo(json.dumps(review, sort_keys=True))
        return
    out.print(f"standing: [bold]{escape(review['standing'])}[/]")
    table = Table("id", "action", "reason", "by", "note")
    for a in review["actions"]:
        table.add_row(str(a["action_id"]), a["action"], a["reason"], a["actor"], a["note"])
    out.print(table)


@account_app.command("appeals")
def appeals(
    status: Annotated[str, typer.Option("--status", help="open, upheld or reversed.")] = "open",
    server: Server = None,
    token_file: TokenFile = None,
    as_json: Json = False,
) -> None:
    """Appeals (waiting ones by default), oldest first."""
    found = _call("GET", f"/v1/admin/appeals?status={status}", server, token_file)
    if as_json:
        for item in found:
            typer.echo(json.dumps(item, sort_keys=True))
        return
    table = Table("appeal", "account", "action", "reason", "their words")
    for item in found:
        table.add_row(
            str(item["appeal"]["appeal_id"]), item["account_id"][:8], item["action"]["action"],
            item["action"]["reason"], item["appeal"]["text"],
        )  # fmt: skip
    out.print(table)


@account_app.command("decide")
def decide(
    appeal: Annotated[int, typer.Argument(help="The appeal id.")],
    reverse: Annotated[
        bool, typer.Option("--reverse/--uphold", help="Reverse the action, or uphold it.")
    ],
    note: Annotated[str, typer.Option("--note", help="Why (kept in the record).")] = "",
    server: Server = None,
    token_file: TokenFile = None,
) -> None:
    """Decide an appeal; the person sees the outcome in their standing."""
    outcome = "reverse" if reverse else "uphold"
    body = {"outcome": outcome, "note": note}
    done = _call("POST", f"/v1/admin/appeals/{appeal}/decision", server, token_file, body)
    err.print(f"appeal {appeal}: {done['status']}")


notice_app = typer.Typer(
    help="Signed notices to people believed targeted by government-backed or mercenary attackers.",
    no_args_is_help=True,
)


@notice_app.command("templates")
def notice_templates(
    preview: Annotated[bool, typer.Option("--preview", help="Show each text in full.")] = False,
    server: Server = None,
    token_file: TokenFile = None,
) -> None:
    """The notice templates and their languages (translate one by adding a file)."""
    for item in _call("GET", "/v1/admin/notices/templates", server, token_file):
        out.print(
            f"[bold]{escape(item['template'])}[/] ({escape(item['language'])}): "
            f"{escape(item['title'])}",
            highlight=False,
        )
        if preview:
            out.print(escape(item["body"]), highlight=False)


@notice_app.command("send")
def notice_send(
    accounts: Annotated[list[str], typer.Argument(help="Account ids to notify.")],
    template: Annotated[str, typer.Option("--template", help="e.g. state_sponsored.")],
    language: Annotated[str, typer.Option("--language", help="Template language.")] = "en",
    server: Server = None,
    token_file: TokenFile = None,
) -> None:
    """Send a signed notice to each account (the audit log records who and which template,
    never more)."""
    body = {"accounts": accounts, "template": template, "language": language}
    sent = _call("POST", "/v1/admin/notices", server, token_file, body)
    err.print(f"{len(sent['notice_ids'])} notice(s) sent")


def legal_request(
    authority: Annotated[str, typer.Option("--authority", help="Who asked (court, agency).")],
    request: Annotated[
        str, typer.Option("--request", help="What was asked for, in general terms.")
    ],
    response: Annotated[str, typer.Option("--response", help="complied, refused or partial.")],
    accounts: Annotated[
        int, typer.Option("--accounts", min=0, help="How many accounts it concerned.")
    ] = 0,
    data_dir: DataDir = None,
    db: DbUrl = None,
    config_file: ConfigFile = None,
) -> None:
    """Record a government or legal request and the response given. It goes into the
    audit log under a new signed head, and into the transparency report's counts."""
    if response not in ("complied", "refused", "partial"):
        raise typer.BadParameter("complied, refused or partial", param_hint="--response")
    for label, value in (("--authority", authority), ("--request", request)):
        if not value.strip() or len(value) > 300 or not value.isprintable():
            raise typer.BadParameter("1-300 printable characters", param_hint=label)
    cfg = load_config(config_file, data_dir=data_dir, db=db)
    try:
        key = auditlog.load_or_create_key(cfg.data_dir)
    except auditlog.AuditKeyError as exc:
        fail(str(exc))

    async def record() -> int:
        now = clock.now_ms()
        entry = audit_entry(
            "legal_request", now, authority=authority, request=request, response=response,
            accounts=accounts,
        )  # fmt: skip
        async with stores_at(cfg.database_url) as stores:
            position = await stores.audit.append(entry)
            await auditlog.seal(stores, key, now)
        return position

    err.print(f"recorded as audit entry {run(record())}")
