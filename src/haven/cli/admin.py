"""`haven admin ...`: operator tasks run against the database directly."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.table import Table

from haven.cli.common import ConfigFile, DataDir, DbUrl, fail, load_config, out, run
from haven.core import clock, ids, limits
from haven.linkguard.building import ensure_current, expression_for_input, rebuild
from haven.store.stores import stores_at

app = typer.Typer(help="Operator tasks: invites, TAXII peers, link blocking.", no_args_is_help=True)
invite_app = typer.Typer(help="Invite codes for invite-only registration.", no_args_is_help=True)
app.add_typer(invite_app, name="invite")


def _when(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@invite_app.command("create")
def invite_create(
    uses: Annotated[
        int,
        typer.Option(min=1, max=limits.MAX_INVITE_USES, help="How many accounts it can register."),
    ] = 1,
    days: Annotated[
        float, typer.Option(min=0.01, max=365, help="Days until it expires.")
    ] = limits.INVITE_TTL_SECONDS / 86400,
    note: Annotated[str, typer.Option(max=200, help="Who it is for (kept with the invite).")] = "",
    data_dir: DataDir = None,
    db: DbUrl = None,
    config_file: ConfigFile = None,
) -> None:
    """Create an invite code. It is shown once: the server keeps only its hash."""
    cfg = load_config(config_file, data_dir=data_dir, db=db)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    code = ids.new_token()
    now = clock.now_ms()
    expires = now + int(days * 86400 * 1000)

    async def create() -> None:
        async with stores_at(cfg.database_url) as stores:
            await stores.invites.create(ids.token_digest(code), now, expires, uses, note)

    run(create())
    out.print(code, highlight=False, soft_wrap=True)
    typer.echo(f"valid for {uses} registration(s) until {_when(expires)}", err=True)


@invite_app.command("list")
def invite_list(data_dir: DataDir = None, db: DbUrl = None, config_file: ConfigFile = None) -> None:
    """Invites that can still be used (codes are not shown: only their hashes are kept)."""
    cfg = load_config(config_file, data_dir=data_dir, db=db)

    async def fetch() -> list[tuple[str, str, int, str]]:
        async with stores_at(cfg.database_url) as stores:
            found = await stores.invites.list(clock.now_ms())
        return [(_when(i.created_at), _when(i.expires_at), i.uses_left, i.note) for i in found]

    table = Table("created", "expires", "uses left", "note")
    for row in run(fetch()):
        table.add_row(row[0], row[1], str(row[2]), row[3])
    out.print(table)


peer_app = typer.Typer(
    help="TAXII peers: organisations allowed to pull shared intel.", no_args_is_help=True
)
app.add_typer(peer_app, name="peer")


@peer_app.command("create")
def peer_create(
    name: Annotated[str, typer.Argument(help="The peer organisation's name (its TAXII user).")],
    data_dir: DataDir = None,
    db: DbUrl = None,
    config_file: ConfigFile = None,
) -> None:
    """Create a peer; its token is shown once (only its hash is kept)."""
    if not name.isprintable() or not 1 <= len(name) <= 100 or ":" in name:
        raise typer.BadParameter("1-100 printable characters, no ':'", param_hint="NAME")
    cfg = load_config(config_file, data_dir=data_dir, db=db)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    token = ids.new_token()

    async def create() -> None:
        async with stores_at(cfg.database_url) as stores:
            await stores.peers.create(name, ids.token_digest(token), clock.now_ms())

    run(create())
    out.print(token, highlight=False, soft_wrap=True)
    typer.echo(
        f"TAXII user {name!r}; give the token above to the peer over a safe channel", err=True
    )


@peer_app.command("list")
def peer_list(data_dir: DataDir = None, db: DbUrl = None, config_file: ConfigFile = None) -> None:
    """The configured peers."""
    cfg = load_config(config_file, data_dir=data_dir, db=db)

    async def names() -> list[str]:
        async with stores_at(cfg.database_url) as stores:
            return await stores.peers.names()

    for name in run(names()):
        out.print(name, highlight=False)


@peer_app.command("remove")
def peer_remove(
    name: Annotated[str, typer.Argument(help="The peer to remove.")],
    data_dir: DataDir = None,
    db: DbUrl = None,
    config_file: ConfigFile = None,
) -> None:
    """Remove a peer: its token stops working on the next request."""
    cfg = load_config(config_file, data_dir=data_dir, db=db)

    async def remove() -> bool:
        async with stores_at(cfg.database_url) as stores:
            return await stores.peers.remove(name)

    if not run(remove()):
        fail(f"no peer called {name!r} (see `haven admin peer list`)")
    typer.echo(f"peer {name!r} removed", err=True)


links_app = typer.Typer(
    help="Link blocking: the list clients check links against, and the allowlist.",
    no_args_is_help=True,
)
app.add_typer(links_app, name="links")
LinkTarget = Annotated[str, typer.Argument(help="A domain (example.org) or a URL.")]


def _expression(target: str) -> str:
    expression = expression_for_input(target)
    if expression is None:
        raise typer.BadParameter("not a domain or an http(s) URL", param_hint="TARGET")
    return expression


@links_app.command("allow")
def links_allow(
    target: LinkTarget,
    note: Annotated[str, typer.Option(max=200, help="Why (kept with the entry).")] = "",
    data_dir: DataDir = None,
    db: DbUrl = None,
    config_file: ConfigFile = None,
) -> None:
    """Never block this domain or URL, whatever the intel says (takes effect in the next
    list version, built now)."""
    expression = _expression(target)
    cfg = load_config(config_file, data_dir=data_dir, db=db)

    async def allow() -> tuple[bool, int, int]:
        async with stores_at(cfg.database_url) as stores:
            added = await stores.linkguard.allow(expression, note, clock.now_ms())
            built = await rebuild(stores)
        return added, built.version, built.entries

    added, version, entries = run(allow())
    if not added:
        fail(f"{expression} is already allowed")
    typer.echo(f"allowed {expression}; list version {version}, {entries} entries", err=True)


@links_app.command("disallow")
def links_disallow(
    target: LinkTarget,
    data_dir: DataDir = None,
    db: DbUrl = None,
    config_file: ConfigFile = None,
) -> None:
    """Remove an allowlist entry (the intel applies again)."""
    expression = _expression(target)
    cfg = load_config(config_file, data_dir=data_dir, db=db)

    async def disallow() -> tuple[bool, int]:
        async with stores_at(cfg.database_url) as stores:
            removed = await stores.linkguard.disallow(expression)
            built = await rebuild(stores)
        return removed, built.version

    removed, version = run(disallow())
    if not removed:
        fail(f"{expression} is not on the allowlist")
    typer.echo(f"{expression} no longer allowed; list version {version}", err=True)


@links_app.command("show")
def links_show(data_dir: DataDir = None, db: DbUrl = None, config_file: ConfigFile = None) -> None:
    """The current list version and the allowlist (rebuilding the list if intel changed)."""
    cfg = load_config(config_file, data_dir=data_dir, db=db)

    async def show() -> tuple[int, int, list[tuple[str, str, str]]]:
        async with stores_at(cfg.database_url) as stores:
            current = await ensure_current(stores)
            allowed = await stores.linkguard.allowlist()
        rows = [(a.expression, a.note, _when(a.created_at)) for a in allowed]
        return current.version, current.entries, rows

    version, entries, rows = run(show())
    out.print(f"list version {version}: {entries} blocked expressions", highlight=False)
    table = Table("allowed", "note", "since")
    for row in rows:
        table.add_row(*row)
    out.print(table)
