"""Matrix Synapse as an anchor for the delivery benchmark.

Haven's delivery numbers mean little on their own, so the benchmark runs the same
workload against a well-known server on the same machine: Synapse's to-device
messages, which are the closest Matrix analogue to Haven's per-device envelope queues
(one sender device -> one recipient device, delivered by long-poll ``/sync``).

Synapse lives in its own venv so its pinned dependencies (Twisted, psycopg2, ...)
never touch Haven's. Every wait is bounded and every request goes to 127.0.0.1.

Harness use::

    python = ensure_synapse(ANCHORS_DIR)
    with start_synapse(python, ANCHORS_DIR / "synapse-sqlite", "sqlite") as server:
        users = register_users(server.base_url, server.shared_secret, 16)
        result = asyncio.run(measure_to_device(server.base_url, users, 8, 100))

Standalone: ``python bench/anchors/synapse.py --backend sqlite --senders 8 --messages 200``.

Stalls: on PostgreSQL, Synapse (seen with 1.163.2) can miss the /sync wake-up for a
to-device message whose stream id is written while a lower one is still in flight in another
request: sendToDevice notifies with the id generator's current (lower) position, so the
recipient sleeps until its long-poll times out, sometimes twice. Under steady traffic the
next message to that device wakes it; at the end of a burst nothing does, so a run can end
with a 30-60 s straggler. ``Result.stalled`` counts such messages; ``msgs_per_s`` includes
them, as a user would be waiting for them too.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import hashlib
import hmac
import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple
from urllib.parse import unquote, urlsplit

import httpx

SYNAPSE_VERSION = "1.163.2"
SERVER_NAME = "bench.local"
ANCHORS_DIR = Path(__file__).resolve().parents[1] / ".anchors"
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
EVENT_TYPE = "org.haven.bench.ping"
BASE_PYTHON = "python3.11"

Backend = Literal["sqlite", "postgresql"]

INSTALL_TIMEOUT_S = 900.0
STARTUP_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0
SYNC_TIMEOUT_MS = 30_000
# Synapse's rate limiters would otherwise cap the benchmark at a few requests per second.
UNLIMITED = {"per_second": 1_000_000, "burst_count": 1_000_000}
RATE_LIMITERS = [
    "rc_message",
    "rc_registration",
    "rc_login.address",
    "rc_login.account",
    "rc_login.failed_attempts",
    "rc_joins.local",
    "rc_joins.remote",
    "rc_joins_per_room",
    "rc_key_requests",
    "rc_invites.per_room",
    "rc_invites.per_user",
    "rc_invites.per_issuer",
    "rc_presence.per_user",
    "rc_delayed_event_mgmt",
    "rc_room_creation",
    "rc_user_directory",
    "rc_profile",
]
# Asks /sync for to-device messages only: no rooms, presence or account data to build.
TO_DEVICE_ONLY_FILTER = json.dumps(
    {
        "room": {"rooms": []},
        "presence": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
    },
    separators=(",", ":"),
)
# Run by the Synapse venv's interpreter, whose psycopg2 is there whenever PostgreSQL is.
_PG_EXECUTE = (
    "import sys, psycopg2\n"
    "conn = psycopg2.connect(sys.argv[1])\n"
    "conn.autocommit = True\n"
    "conn.cursor().execute(sys.argv[2])\n"
    "conn.close()\n"
)


class AnchorUnavailable(RuntimeError):
    """Synapse cannot be installed or started here; the harness reports a skip."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DeliveryIncomplete(RuntimeError):
    """Not every message reached its recipient before the deadline.

    The server still holds the undelivered backlog, so start a fresh one before measuring
    again.
    """


class User(NamedTuple):
    user_id: str
    access_token: str
    device_id: str


@dataclass(frozen=True)
class Result:
    """One measurement; latency is send start -> receipt by the recipient's /sync."""

    messages: int
    seconds: float
    msgs_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    mode: Literal["saturation", "paced"]
    offered_rate: float | None
    stalled: int
    """Messages that took a whole long-poll timeout or more (module docstring: stalls)."""


# --- install ---------------------------------------------------------------------------


def ensure_synapse(root: Path) -> Path:
    """Return the python of ``root/synapse-venv``, installing the pinned Synapse if needed.

    Raises AnchorUnavailable when the venv or the install fails (e.g. no PyPI access).
    """
    venv = root / "synapse-venv"
    python = venv / "bin" / "python"
    if python.exists() and _installed_synapse(python) == SYNAPSE_VERSION:
        return python
    # bench.common.INSTALL_ENV; read here too, as this file also runs on its own.
    policy = os.environ.get("HAVEN_BENCH_INSTALL", "all")
    if policy != "all":
        raise AnchorUnavailable(
            f"Synapse {SYNAPSE_VERSION} is not installed and HAVEN_BENCH_INSTALL={policy} "
            "says not to (a smoke run installs no Synapse: `make bench` does)"
        )
    root.mkdir(parents=True, exist_ok=True)
    if not python.exists():
        _run_install_step([BASE_PYTHON, "-m", "venv", str(venv)], "create the venv")
    _run_install_step(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            f"matrix-synapse[postgres]=={SYNAPSE_VERSION}",
        ],
        f"pip install matrix-synapse[postgres]=={SYNAPSE_VERSION}",
    )
    return python


def _installed_synapse(python: Path) -> str | None:
    """Ask the venv itself, since a half-finished install can leave an importable stub."""
    probe = "import importlib.metadata as m; print(m.version('matrix-synapse'))"
    done = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else None


def _run_install_step(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AnchorUnavailable(f"could not {what}: {exc}") from exc
    if done.returncode != 0:
        raise AnchorUnavailable(f"could not {what}: {_tail(done.stdout + done.stderr)}")


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# --- server ----------------------------------------------------------------------------


@dataclass
class SynapseServer:
    """A running homeserver; ``stop()`` (or leaving the ``with`` block) ends it."""

    base_url: str
    shared_secret: str
    python: Path
    workdir: Path
    pg_admin_url: str
    database: str | None
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def __enter__(self) -> SynapseServer:
        return self

    @property
    def pid(self) -> int:
        """The homeserver process, for CPU accounting."""
        assert self._process is not None
        return self._process.pid

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT_S; then drop the PostgreSQL database."""
        if self._process is not None:
            _terminate(self._process)
            self._process = None
        if self.database is not None:
            drop = f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)"
            _execute_sql(self.python, self.pg_admin_url, drop)
            self.database = None

    def _launch(self, config: Path, startup_timeout_s: float) -> None:
        out = (self.workdir / "synapse.out").open("wb")
        with out:
            self._process = subprocess.Popen(
                [str(self.python), "-m", "synapse.app.homeserver", "-c", str(config)],
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self._wait_healthy(startup_timeout_s)

    def _wait_healthy(self, timeout_s: float) -> None:
        """Poll /health; fail early, with Synapse's own output, if the process dies."""
        assert self._process is not None
        deadline = time.monotonic() + timeout_s
        with httpx.Client(base_url=self.base_url, timeout=5.0) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise AnchorUnavailable(f"Synapse exited at startup:\n{self._output()}")
                try:
                    if client.get("/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.25)
        raise AnchorUnavailable(f"Synapse not healthy after {timeout_s:.0f} s:\n{self._output()}")

    def _output(self) -> str:
        text = ""
        for name in ("synapse.out", "homeserver.log"):
            path = self.workdir / name
            if path.exists():
                text += path.read_text(errors="replace")
        return _tail(text)


def start_synapse(
    python: Path,
    workdir: Path,
    backend: Backend,
    pg_admin_url: str = DEFAULT_PG_ADMIN_URL,
    *,
    startup_timeout_s: float = STARTUP_TIMEOUT_S,
) -> SynapseServer:
    """Start a fresh homeserver (empty database) on a free 127.0.0.1 port and wait for it.

    For PostgreSQL a new database is created with the C locale Synapse insists on, and
    dropped again by ``stop()``. Raises AnchorUnavailable if it does not come up.
    """
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    database: str | None = None
    if backend == "postgresql":
        database = f"synapse_bench_{secrets.token_hex(6)}"
        _execute_sql(python, pg_admin_url, _create_database_sql(database))
        db_section = _postgres_section(pg_admin_url, database)
    else:
        db_section = _sqlite_section(workdir)
    server = SynapseServer(
        base_url=f"http://127.0.0.1:{port}",
        shared_secret=secrets.token_urlsafe(32),
        python=python,
        workdir=workdir,
        pg_admin_url=pg_admin_url,
        database=database,
    )
    config = _write_config(workdir, port, server.shared_secret, db_section)
    try:
        server._launch(config, startup_timeout_s)
    except BaseException:
        server.stop()
        raise
    return server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


def _create_database_sql(database: str) -> str:
    return (
        f"CREATE DATABASE {database} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
    )


def _execute_sql(python: Path, admin_url: str, sql: str) -> None:
    """Run one statement as the admin; needs no PostgreSQL driver in the caller's venv."""
    try:
        done = subprocess.run(
            [str(python), "-c", _PG_EXECUTE, admin_url, sql],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AnchorUnavailable(f"PostgreSQL did not answer: {sql}") from exc
    if done.returncode != 0:
        raise AnchorUnavailable(f"PostgreSQL refused {sql!r}: {_tail(done.stderr, 3)}")


def _postgres_section(admin_url: str, database: str) -> dict[str, Any]:
    """Connect Synapse to ``database`` with the admin URL's host, port and credentials."""
    url = urlsplit(admin_url)
    args: dict[str, Any] = {
        "user": unquote(url.username or "postgres"),
        "database": database,
        "host": url.hostname or "127.0.0.1",
        "port": url.port or 5432,
        "cp_min": 5,
        "cp_max": 10,
    }
    if url.password:
        args["password"] = unquote(url.password)
    return {"name": "psycopg2", "args": args}


def _sqlite_section(workdir: Path) -> dict[str, Any]:
    """Every start gets an empty SQLite file, as every PostgreSQL start gets a new database."""
    database = workdir / "homeserver.db"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return {"name": "sqlite3", "args": {"database": str(database)}}


def _write_config(workdir: Path, port: int, shared_secret: str, db: dict[str, Any]) -> Path:
    """Write homeserver.yaml and its log config as JSON, which YAML parsers read as-is."""
    log_config = workdir / "log.yaml"
    log_config.write_text(json.dumps(_log_config(workdir / "homeserver.log"), indent=2))
    config = workdir / "homeserver.yaml"
    config.write_text(
        json.dumps(_homeserver_config(workdir, port, shared_secret, db, log_config), indent=2)
    )
    return config


def _homeserver_config(
    workdir: Path, port: int, shared_secret: str, db: dict[str, Any], log_config: Path
) -> dict[str, Any]:
    """Client API only on loopback; no federation, media, presence or phoning home.

    Presence is off because Haven has none and it would add work to every /sync.
    """
    config: dict[str, Any] = {
        "server_name": SERVER_NAME,
        "pid_file": str(workdir / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": db,
        "log_config": str(log_config),
        "signing_key_path": str(workdir / "signing.key"),
        "media_store_path": str(workdir / "media_store"),
        "enable_media_repo": False,
        "url_preview_enabled": False,
        "registration_shared_secret": shared_secret,
        "enable_registration": False,
        "macaroon_secret_key": secrets.token_urlsafe(32),
        "form_secret": secrets.token_urlsafe(32),
        "bcrypt_rounds": 4,
        "report_stats": False,
        "enable_metrics": False,
        "presence": {"enabled": False},
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
    }
    for key in RATE_LIMITERS:
        top, _, sub = key.partition(".")
        if sub:
            config.setdefault(top, {})[sub] = UNLIMITED
        else:
            config[top] = UNLIMITED
    return config


def _log_config(path: Path) -> dict[str, Any]:
    return {
        "version": 1,
        "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "formatter": "plain",
                "filename": str(path),
                "encoding": "utf8",
            }
        },
        "root": {"level": "WARNING", "handlers": ["file"]},
        "disable_existing_loggers": False,
    }


# --- users -----------------------------------------------------------------------------


def register_users(base_url: str, shared_secret: str, n: int) -> list[User]:
    """Register ``n`` users, one device each, through the shared-secret admin API.

    Names carry a random tag so repeated calls against one server never collide.
    """
    tag = secrets.token_hex(3)
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        return [_register(client, shared_secret, f"bench-{tag}-{i}") for i in range(n)]


def _register(client: httpx.Client, shared_secret: str, username: str) -> User:
    nonce_response = client.get("/_synapse/admin/v1/register")
    nonce_response.raise_for_status()
    nonce: str = nonce_response.json()["nonce"]
    password = secrets.token_urlsafe(16)
    mac = hmac.new(shared_secret.encode(), digestmod=hashlib.sha1)
    mac.update(b"\x00".join([nonce.encode(), username.encode(), password.encode(), b"notadmin"]))
    response = client.post(
        "/_synapse/admin/v1/register",
        json={
            "nonce": nonce,
            "username": username,
            "password": password,
            "admin": False,
            "mac": mac.hexdigest(),
        },
    )
    response.raise_for_status()
    body = response.json()
    return User(body["user_id"], body["access_token"], body["device_id"])


# --- measurement -----------------------------------------------------------------------


@dataclass
class _Tally:
    """Receipts of one run; times are perf_counter_ns() offsets from the run's epoch."""

    epoch: int
    latencies_ns: list[int] = field(default_factory=list)
    last_receipt: int = 0

    def now(self) -> int:
        return time.perf_counter_ns() - self.epoch

    def received(self, sent_at: int, received_at: int) -> None:
        self.latencies_ns.append(received_at - sent_at)
        self.last_receipt = max(self.last_receipt, received_at)


@dataclass(frozen=True)
class _Run:
    """What every sender and receiver of one measurement shares."""

    client: httpx.AsyncClient
    tag: str
    padding: str
    sync_timeout_ms: int
    tally: _Tally


async def measure_to_device(
    base_url: str,
    users: Sequence[User],
    senders: int,
    messages_per_sender: int,
    *,
    recipients: int | None = None,
    rate: float | None = None,
    payload_bytes: int = 256,
    connections: int | None = None,
    sync_timeout_ms: int = SYNC_TIMEOUT_MS,
    timeout_s: float = 120.0,
) -> Result:
    """Send to-device messages and time their arrival at the recipients' long-poll /sync.

    ``users[:senders]`` send and the next ``recipients`` (default: as many as senders)
    receive, sender i writing to recipient ``i % recipients``. With ``rate=None``
    (saturation) each sender awaits each PUT before the next; with ``rate`` (total
    msgs/s) every sender fires on a fixed schedule whether or not earlier PUTs have
    returned, so a slow server shows up as latency rather than as a lower offered load.
    ``connections`` caps the keep-alive pool (default: one per sender and recipient).
    ``sync_timeout_ms`` is the long-poll timeout, 30 s as Matrix clients use.
    Raises DeliveryIncomplete if anything is still missing after ``timeout_s``.
    """
    recipients = senders if recipients is None else recipients
    if len(users) < senders + recipients:
        raise ValueError(f"need {senders + recipients} users, got {len(users)}")
    sending, receiving = users[:senders], users[senders : senders + recipients]
    pool = connections or senders + recipients
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
    timeout = httpx.Timeout(sync_timeout_ms / 1000 + 30, pool=timeout_s)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client:
        tally = _Tally(time.perf_counter_ns())
        run = _Run(client, secrets.token_hex(4), "x" * payload_bytes, sync_timeout_ms, tally)
        tokens = await asyncio.gather(*(_initial_sync(run, user) for user in receiving))
        expected = [
            len(range(r, senders, recipients)) * messages_per_sender for r in range(recipients)
        ]
        try:
            async with asyncio.timeout(timeout_s), asyncio.TaskGroup() as group:
                for user, since, count in zip(receiving, tokens, expected, strict=True):
                    group.create_task(_receive(run, user, since, count))
                start = tally.now()
                for i, user in enumerate(sending):
                    target = receiving[i % recipients]
                    pacing = None if rate is None else (senders / rate, i / rate)
                    group.create_task(_send(run, user, target, messages_per_sender, pacing))
        except TimeoutError as exc:
            got = len(tally.latencies_ns)
            raise DeliveryIncomplete(
                f"{got} of {sum(expected)} delivered in {timeout_s} s"
            ) from exc
    return _result(tally, start, rate, stall_ns=sync_timeout_ms * 1_000_000)


async def _send(
    run: _Run, sender: User, target: User, count: int, pacing: tuple[float, float] | None
) -> None:
    """Saturation: one PUT after another. Paced: (interval, offset) in seconds, open loop."""
    if pacing is None:
        for seq in range(count):
            await _put(run, sender, target, seq)
        return
    interval, offset = pacing
    begin = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for seq in range(count):
            delay = begin + offset + seq * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            group.create_task(_put(run, sender, target, seq))


async def _put(run: _Run, sender: User, target: User, seq: int) -> None:
    content = {"tag": run.tag, "seq": seq, "t": run.tally.now(), "pad": run.padding}
    response = await run.client.put(
        f"/_matrix/client/v3/sendToDevice/{EVENT_TYPE}/{run.tag}.{seq}",
        json={"messages": {target.user_id: {target.device_id: content}}},
        headers=_auth(sender),
    )
    response.raise_for_status()


async def _initial_sync(run: _Run, user: User) -> str:
    """Take a since token before sending, so the receivers' next /sync is a long-poll."""
    body = await _sync(run.client, user, since=None, timeout_ms=0)
    token: str = body["next_batch"]
    return token


async def _receive(run: _Run, user: User, since: str, expected: int) -> None:
    """Long-poll until ``expected`` distinct messages of this run have arrived.

    Passing each ``next_batch`` back acknowledges the batch before it; messages left
    unacknowledged by an earlier run (or the initial sync) are skipped by their tag.
    """
    seen: set[tuple[str, int]] = set()
    while len(seen) < expected:
        body = await _sync(run.client, user, since=since, timeout_ms=run.sync_timeout_ms)
        received_at = run.tally.now()
        since = body["next_batch"]
        for event in body.get("to_device", {}).get("events", []):
            content = event.get("content", {})
            key = (event.get("sender", ""), content.get("seq", -1))
            if event.get("type") != EVENT_TYPE or content.get("tag") != run.tag or key in seen:
                continue
            seen.add(key)
            run.tally.received(content["t"], received_at)


async def _sync(
    client: httpx.AsyncClient, user: User, since: str | None, timeout_ms: int
) -> dict[str, Any]:
    params = {
        "filter": TO_DEVICE_ONLY_FILTER,
        "timeout": str(timeout_ms),
        "set_presence": "offline",
    }
    if since is not None:
        params["since"] = since
    response = await client.get("/_matrix/client/v3/sync", params=params, headers=_auth(user))
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _auth(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.access_token}"}


def _result(tally: _Tally, start: int, rate: float | None, stall_ns: int) -> Result:
    latencies = sorted(tally.latencies_ns)
    seconds = (tally.last_receipt - start) / 1e9
    return Result(
        messages=len(latencies),
        seconds=round(seconds, 3),
        msgs_per_s=round(len(latencies) / seconds, 1),
        p50_ms=round(_percentile(latencies, 50) / 1e6, 2),
        p99_ms=round(_percentile(latencies, 99) / 1e6, 2),
        max_ms=round(latencies[-1] / 1e6, 2),
        mode="saturation" if rate is None else "paced",
        offered_rate=rate,
        stalled=sum(latency >= stall_ns for latency in latencies),
    )


def _percentile(ordered: Sequence[int], p: float) -> int:
    """Nearest-rank percentile: always an observed value, never an interpolation."""
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# --- standalone ------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    """Install if needed, start a fresh server, warm it up, measure once, print JSON."""
    args = _parse_args(argv)
    python = ensure_synapse(args.root)
    workdir = args.root / f"synapse-{args.backend}"
    recipients = args.recipients or args.senders
    with start_synapse(python, workdir, args.backend, args.pg_admin_url) as server:
        users = register_users(server.base_url, server.shared_secret, args.senders + recipients)
        measure = functools.partial(
            measure_to_device,
            server.base_url,
            users,
            args.senders,
            recipients=recipients,
            payload_bytes=args.payload_bytes,
        )
        if args.warmup:
            asyncio.run(measure(args.warmup))
        result = asyncio.run(measure(args.messages, rate=args.rate))
    report = {"synapse_version": SYNAPSE_VERSION, "backend": args.backend, **asdict(result)}
    print(json.dumps(report, indent=2))


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--messages", type=int, default=200, help="per sender")
    parser.add_argument("--recipients", type=int, default=None, help="default: --senders")
    parser.add_argument("--rate", type=float, default=None, help="total msgs/s (paced mode)")
    parser.add_argument("--payload-bytes", type=int, default=256)
    parser.add_argument("--warmup", type=int, default=20, help="untimed messages per sender")
    parser.add_argument("--root", type=Path, default=ANCHORS_DIR)
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    return parser.parse_args(argv)


if __name__ == "__main__":
    try:
        main()
    except AnchorUnavailable as exc:
        sys.exit(f"synapse anchor unavailable: {exc.reason}")
