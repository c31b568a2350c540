"""`haven up` and `haven server`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from haven.cli.common import (
    ConfigFile,
    DataDir,
    DbUrl,
    fail,
    load_config,
    out,
    run,
    setup_logging,
)
from haven.core import clock
from haven.core.config import Config
from haven.core.relaylink import is_loopback
from haven.core.tlscert import CertificateError
from haven.intel import bundled
from haven.intel.importing import store_collection
from haven.intel.merge import collect
from haven.linkguard.building import ensure_current
from haven.safety.keyfiles import KeyFileError
from haven.server.app import load_keys
from haven.server.console import firstrun, relayfile
from haven.server.runner import serve
from haven.server.tls import ServerTls, server_tls
from haven.store.stores import stores_at

Host = Annotated[
    str | None, typer.Option("--host", help="Address to listen on.", show_default="127.0.0.1")
]
Port = Annotated[int | None, typer.Option("--port", help="Port to listen on.", show_default="8080")]
Tls = Annotated[
    bool,
    typer.Option(
        "--tls/--no-tls",
        help="Serve HTTPS. Without --tls-cert/--tls-key a self-signed certificate is made in "
        "the data dir; clients then need the printed server pin (--server-pin).",
    ),
]
TlsCert = Annotated[
    Path | None,
    typer.Option("--tls-cert", help="PEM certificate (chain) to serve HTTPS with; implies --tls."),
]
TlsKey = Annotated[Path | None, typer.Option("--tls-key", help="PEM private key of --tls-cert.")]
Redis = Annotated[
    str | None,
    typer.Option("--redis", help="redis:// URL: lets several server processes share PostgreSQL."),
]


def _prepare(cfg: Config) -> ServerTls | None:
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    cfg.data_dir.chmod(0o700)  # the database and the signing keys live here
    setup_logging(cfg.log_level)
    try:
        load_keys(cfg.data_dir)
        tls = server_tls(cfg)
    except (CertificateError, KeyFileError) as exc:
        fail(str(exc), code=2)
    if tls is None and not is_loopback(cfg.host):
        out.print(
            "[yellow]Warning:[/] serving plain HTTP on a public address: tokens cross the "
            "network readable. Use --tls (or a TLS reverse proxy in front).",
            highlight=False,
        )
    return tls


def _tls_lines(tls: ServerTls | None) -> list[tuple[str, str]]:
    if tls is None:
        return []
    return [("Server pin", f"{tls.pin} (give it as --server-pin)"), ("Certificate", str(tls.cert))]


async def _with_bundled_feed(cfg: Config) -> None:
    """On the first start, load the indicator sets Haven ships (attribution in
    `haven intel feeds`); later starts leave the operator's feed as it is."""
    async with stores_at(cfg.database_url) as stores:
        if await stores.intel.version() == 0:
            out.print("Loading the bundled threat-intelligence feed (first start)...")
            collection = collect(bundled.files())
            summary = await store_collection(
                stores.intel, collection, "bundled feed", clock.now_ms()
            )
            out.print(f"  {summary.new_indicators} indicators, feed version {summary.version}")
        links = await ensure_current(stores)
        out.print(f"  link blocking: list version {links.version}, {links.entries} entries")


async def _first_run_link(cfg: Config, base: str) -> str | None:
    async with stores_at(cfg.database_url) as stores:
        return await firstrun.issue_link(stores, base)


RelayPort = Annotated[
    int,
    typer.Option(
        "--relay-port", min=0, max=65535,
        help="Port of the relay started beside the server (0: no relay).",
    ),
]  # fmt: skip


def _start_relay(cfg: Config, relay_port: int) -> subprocess.Popen[bytes] | None:
    """The relay people use when the server itself is blocked, as its own process (as an
    operator would run it elsewhere); it prints its invite link and QR code."""
    link_file = relayfile.path(cfg.data_dir)
    link_file.unlink(missing_ok=True)  # the console must never show a relay that is not running
    if not relay_port:
        return None
    command = [
        sys.executable, "-m", "haven", "relay",
        "--upstream", f"{cfg.host}:{cfg.port}", "--listen", f"{cfg.host}:{relay_port}",
        "--data-dir", str(cfg.data_dir / "relay"), "--show-link", "--stats", "off",
        "--link-file", str(link_file),
    ]  # fmt: skip
    if cfg.host in ("127.0.0.1", "localhost", "::1"):
        command += ["--public-host", f"127.0.0.1:{relay_port}"]
    return subprocess.Popen(command)  # noqa: S603 - our own interpreter and arguments


def _stop(child: subprocess.Popen[bytes] | None) -> None:
    if child is not None and child.poll() is None:
        child.terminate()  # SIGTERM: the relay drains open streams, then exits
        try:
            child.wait(15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def up(
    data_dir: DataDir = None,
    host: Host = None,
    port: Port = None,
    relay_port: RelayPort = 8443,
    tls: Tls = False,
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
    config_file: ConfigFile = None,
) -> None:
    """Run Haven on this machine: the server on an embedded SQLite store, with the bundled
    threat-intelligence feed loaded on first start, and a relay in front of it whose
    invite link is printed. Ctrl-C stops both."""
    cfg = load_config(
        config_file, data_dir=data_dir, host=host, port=port,
        tls=tls or None, tls_cert=tls_cert, tls_key=tls_key,
    )  # fmt: skip
    identity = _prepare(cfg)
    run(_with_bundled_feed(cfg))
    base = f"{cfg.scheme}://{cfg.host}:{cfg.port}"
    stream = "wss" if cfg.serves_tls else "ws"
    out.print("[bold]Haven is starting[/]")
    for label, value in (
        ("API", f"{base}/v1"),
        ("OpenAPI", f"{base}/v1/openapi.json"),
        ("Stream", f"{stream}://{cfg.host}:{cfg.port}/v1/stream"),
        ("Health", f"{base}/v1/health"),
        ("Console", f"{base}/admin"),
        ("Data", f"{cfg.data_dir.resolve()} (SQLite)"),
        ("Registration", f"{cfg.registration.value}"),
        ("Relay", f"{cfg.host}:{relay_port} (TLS)" if relay_port else "off"),
        *_tls_lines(identity),
    ):
        out.print(f"  {label:<13}{value}", highlight=False, soft_wrap=True)
    first_run = run(_first_run_link(cfg, base))
    if first_run is not None:
        out.print(
            "  No operator can sign in to the console yet. Open this one-time link within the "
            "hour to choose the first admin's name and password:",
            highlight=False,
        )
        out.print(f"  {first_run}", highlight=False, soft_wrap=True, markup=False)
    out.print("  Stop with Ctrl-C.")
    out.file.flush()
    relay = _start_relay(cfg, relay_port)
    try:
        serve(cfg)
    finally:
        _stop(relay)


def server(
    data_dir: DataDir = None,
    host: Host = None,
    port: Port = None,
    db: DbUrl = None,
    redis: Redis = None,
    tls: Tls = False,
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
    config_file: ConfigFile = None,
) -> None:
    """Run one server process. Several can share PostgreSQL (--db) and Redis (--redis)."""
    cfg = load_config(
        config_file, data_dir=data_dir, host=host, port=port, db=db, redis=redis,
        tls=tls or None, tls_cert=tls_cert, tls_key=tls_key,
    )  # fmt: skip
    identity = _prepare(cfg)
    for label, value in _tls_lines(identity):
        out.print(f"  {label:<13}{value}", highlight=False, soft_wrap=True)
    out.file.flush()
    serve(cfg)
