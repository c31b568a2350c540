"""`haven relay`: run a censorship-resistant relay in front of one Haven server.

A group, so that `haven relay add LINK --profile DIR` (the client side) can sit beside it:
with no sub-command and --upstream given, it runs the relay.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated

import typer

from haven.cli import qr
from haven.cli.common import DataDir, err, fail, out, setup_logging
from haven.core.relaylink import RelayLink, is_ip_literal
from haven.relay import certs, workers
from haven.relay.config import Address, RelayConfig, RelayConfigError, parse_address
from haven.relay.decoy import DecoyError
from haven.relay.handshake import DEFAULT_SLOTS

app = typer.Typer(invoke_without_command=True)

UNSPECIFIED = {"0.0.0.0", "::", ""}


def _link_host(listen: Address, public: str | None) -> Address:
    if public:
        return parse_address(public, "--public-host", default_port=listen.port)
    if listen.host in UNSPECIFIED:
        name = socket.getfqdn()
        err.print(
            f"[yellow]warning:[/] the relay listens on every address; the invite link uses "
            f"{name!r}. Pass --public-host with the name or address people can reach.",
            highlight=False,
        )
        return Address(name, listen.port)
    return listen


def _show_link(link: RelayLink, png: Path | None, print_it: bool) -> None:
    url = link.to_url()
    if print_it:
        out.print("[bold]Relay invite link[/] (share it only with people you trust):")
        out.print(url, highlight=False, soft_wrap=True)
        out.print(qr.terminal(url), highlight=False)
    else:
        out.print(
            "The invite link is unchanged since the first start (show it with --show-link).",
            highlight=False,
        )
    if png is not None:
        qr.save_png(url, png)
        png.chmod(0o600)
        out.print(f"QR code written to {png}", highlight=False)


def _write_link(path: Path, url: str) -> None:
    try:
        path.unlink(missing_ok=True)
        path.touch(mode=0o600)  # the invite secret is in it: private before it is written
        path.write_text(url + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")


@app.callback()
def relay(
    ctx: typer.Context,
    upstream: Annotated[
        str | None,
        typer.Option(
            "--upstream",
            help="HOST:PORT of the Haven server this relay serves: the only place it ever "
            "connects to.",
        ),
    ] = None,
    listen: Annotated[
        str, typer.Option("--listen", help="HOST:PORT to accept clients on (TLS).")
    ] = "0.0.0.0:443",
    data_dir: DataDir = None,
    cert: Annotated[
        Path | None,
        typer.Option("--cert", help="PEM certificate (chain); default: a self-signed one."),
    ] = None,
    key: Annotated[Path | None, typer.Option("--key", help="PEM private key for --cert.")] = None,
    decoy: Annotated[
        Path | None,
        typer.Option("--decoy", help="Directory of the web site shown to everyone else."),
    ] = None,
    workers_: Annotated[
        int, typer.Option("--workers", help="Processes, each with its own SO_REUSEPORT listener.")
    ] = 1,
    websocket: Annotated[
        bool,
        typer.Option(
            "--websocket",
            help="Invite clients to carry the stream in WebSocket frames (for relays behind an "
            "HTTP reverse proxy). The relay accepts both forms either way.",
        ),
    ] = False,
    qr_png: Annotated[
        Path | None, typer.Option("--qr", help="Also write the invite as a QR code PNG here.")
    ] = None,
    stats: Annotated[
        str,
        typer.Option("--stats", help="Loopback HOST:PORT for Prometheus counters; 'off' for none."),
    ] = "127.0.0.1:9464",
    public_host: Annotated[
        str | None,
        typer.Option(
            "--public-host",
            help="HOST[:PORT] people reach this relay at, for the invite link "
            "(default: the --listen address).",
        ),
    ] = None,
    show_link: Annotated[
        bool, typer.Option("--show-link", help="Print the invite link even after the first start.")
    ] = False,
    link_file: Annotated[
        Path | None,
        typer.Option(
            "--link-file",
            help="Also write the invite link to this file (private to you); `haven up` uses it "
            "to show the link in the operator console.",
        ),
    ] = None,
    handshake_timeout: Annotated[
        float,
        typer.Option(help="Seconds a client gets to finish TLS and its request (slowloris)."),
    ] = 10.0,
    idle_timeout: Annotated[
        float, typer.Option(help="Seconds a stream may carry nothing before it is closed.")
    ] = 300.0,
    max_connections: Annotated[int, typer.Option(help="Open connections at most.")] = 10_000,
    per_ip: Annotated[
        int, typer.Option(help="Open connections per client address (counted in memory only).")
    ] = 64,
    drain_timeout: Annotated[
        float, typer.Option(help="Seconds open streams get to finish after SIGTERM.")
    ] = 30.0,
    replay_slots: Annotated[
        int,
        typer.Option(
            help="Slots of the replay cache (a power of two, 24 bytes each): about "
            "slots / 242 handshakes a second fit; the log says when it is full."
        ),
    ] = DEFAULT_SLOTS,
) -> None:
    """Run a relay: clients that hold its invite link are spliced to the one --upstream
    server; everyone else (browsers, scanners, censors' probes) sees an ordinary web site.
    The first start makes the invite secret and a self-signed certificate in --data-dir and
    prints the invite link and its QR code. Client addresses are never logged or forwarded.
    """
    if ctx.invoked_subcommand is not None:
        return
    if upstream is None:
        fail("give --upstream HOST:PORT: the Haven server this relay serves", code=2)
    directory = data_dir or Path("haven-data")
    try:
        config = RelayConfig(
            upstream=parse_address(upstream, "--upstream"),
            listen=parse_address(listen, "--listen"),
            data_dir=directory,
            cert=cert,
            key=key,
            decoy=decoy,
            workers=workers_,
            websocket=websocket,
            stats=None if stats == "off" else parse_address(stats, "--stats"),
            handshake_timeout=handshake_timeout,
            idle_timeout=idle_timeout,
            max_connections=max_connections,
            per_ip_connections=per_ip,
            drain_timeout=drain_timeout,
            replay_slots=replay_slots,
        )
        public = _link_host(config.listen, public_host)
    except RelayConfigError as exc:
        fail(str(exc), code=2)
    setup_logging("info")
    name = public.host if not is_ip_literal(public.host) else certs.DEFAULT_NAME
    try:
        identity = certs.load_or_create(directory, cert, key, name=name)
    except (certs.IdentityError, OSError) as exc:
        fail(str(exc))
    sni = (identity.dns_name or certs.DEFAULT_NAME) if is_ip_literal(public.host) else None
    link = RelayLink(public.host, public.port, identity.pin, identity.secret, sni, websocket)
    _show_link(link, qr_png, identity.created or show_link)
    if link_file is not None:
        _write_link(link_file, link.to_url())
    stats_note = f", stats on http://{config.stats}/metrics" if config.stats else ""
    out.print(
        f"Relay listening on {config.listen} for {config.upstream} "
        f"({config.workers} worker{'s' if config.workers > 1 else ''}{stats_note}). "
        "Stop with Ctrl-C or SIGTERM.",
        highlight=False,
    )
    out.file.flush()  # before serving forever: under systemd or a pipe the link must show
    try:
        status = workers.run(config, identity)
    except DecoyError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot listen on {config.listen}: {exc.strerror or exc}")
    raise typer.Exit(status)
