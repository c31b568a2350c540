"""Running the relay: in this process, or as N forked workers, each with its own
SO_REUSEPORT listener so the kernel spreads new connections over them.

The parent forks before it creates any event loop or thread, then only supervises: it
serves the summed stats, restarts a worker that dies, and on SIGTERM/SIGINT passes SIGTERM
on so every worker drains.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import resource
import signal
import time
from collections.abc import Callable

from haven.relay.certs import RelayIdentity
from haven.relay.config import RelayConfig
from haven.relay.decoy import DecoySite
from haven.relay.server import RelayServer, Shared, listening_socket, load_decoy, new_event_loop
from haven.relay.stats import serve_stats

log = logging.getLogger("haven.relay")

EXIT_CANNOT_LISTEN = 3
MAX_RESTARTS_PER_MINUTE = 10


def run(
    config: RelayConfig, identity: RelayIdentity, ready: Callable[[], None] | None = None
) -> int:
    """Serves until SIGTERM/SIGINT and the drain that follows; returns the exit status."""
    _raise_fd_limit(config)
    if config.workers == 1:
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            runner.run(_serve(config, identity, Shared.create(config), 0, None, True, ready))
        return 0
    return _supervise(config, identity, ready)


async def _serve(
    config: RelayConfig,
    identity: RelayIdentity,
    shared: Shared,
    worker: int,
    decoy: DecoySite | None,
    with_stats: bool,
    ready: Callable[[], None] | None,
) -> None:
    server = RelayServer(config, identity, shared, worker, decoy)
    await server.start(serve_stats_too=with_stats)
    await server.run_until_signalled(ready)


def _worker(
    config: RelayConfig, identity: RelayIdentity, shared: Shared, index: int, decoy: DecoySite
) -> None:
    code = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            runner.run(_serve(config, identity, shared, index, decoy, False, None))
    except OSError as exc:
        log.error("worker %d cannot listen on %s: %s", index, config.listen, exc.strerror)
        code = EXIT_CANNOT_LISTEN
    except BaseException:
        log.exception("worker %d failed", index)
        code = 1
    finally:
        os._exit(code)


def _supervise(
    config: RelayConfig, identity: RelayIdentity, ready: Callable[[], None] | None
) -> int:
    # Fail before forking when the address is unusable, with the error in one place.
    listening_socket(config.listen, True, 1).close()
    shared = Shared.create(config, multiprocessing.get_context("fork").Lock())
    decoy = load_decoy(config)
    children: dict[int, int] = {}

    def spawn(index: int) -> None:
        pid = os.fork()
        if pid == 0:
            _worker(config, identity, shared, index, decoy)
        children[pid] = index

    for index in range(config.workers):
        spawn(index)
    with asyncio.Runner() as runner:
        return runner.run(_parent(config, shared, children, spawn, ready))


async def _parent(
    config: RelayConfig,
    shared: Shared,
    children: dict[int, int],
    spawn: Callable[[int], None],
    ready: Callable[[], None] | None,
) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    stats = None
    if config.stats is not None:
        stats = await serve_stats(config.stats.host, config.stats.port, shared.counters)
    if ready is not None:
        ready()
    status = 0
    restarts: list[float] = []
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
        for pid, code in _reaped(children):
            index = children.pop(pid)
            if stop.is_set():
                continue
            if code == EXIT_CANNOT_LISTEN:
                status = 1
                stop.set()
                continue
            now = time.monotonic()
            restarts = [t for t in restarts if now - t < 60] + [now]
            if len(restarts) > MAX_RESTARTS_PER_MINUTE:
                log.error("workers keep failing; stopping")
                status = 1
                stop.set()
                continue
            log.warning("worker %d exited (%s); starting another", index, code)
            spawn(index)
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + config.drain_timeout + 5
    while children and time.monotonic() < deadline:
        for pid, _ in _reaped(children):
            children.pop(pid)
        await asyncio.sleep(0.05)
    for pid in list(children):
        _kill(pid)
    if stats is not None:
        stats.close()
    return status


def _raise_fd_limit(config: RelayConfig) -> None:
    """Each stream holds two sockets; the default soft limit (often 1024) would cap the
    relay far below --max-connections."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * config.max_connections + 64
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _kill(pid: int) -> None:
    """A worker that outlived the drain deadline: SIGKILL is immediate, so the wait is too."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _reaped(children: dict[int, int]) -> list[tuple[int, int]]:
    done = []
    for pid in list(children):
        try:
            got, raw = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done.append((pid, 1))
            continue
        if got:
            done.append((pid, os.waitstatus_to_exitcode(raw)))
    return done
