"""Private PostgreSQL and Redis servers for fault tests: started in a temporary directory on
a free port, and stopped, crashed or restarted at will.

Fault tests never touch the shared servers on 5432 and 6379: other test runs use them at
the same time. Each instance here belongs to one test (or module) and is gone after it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.processes import free_port

START_WITHIN = 60.0  # seconds: a deadline for a broken set-up, not a speed claim


class ServiceUnavailable(RuntimeError):
    """The binaries (or the user to run them as) are not on this machine."""


def _wait_for_port(port: int, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + START_WITHIN
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"exited with status {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {START_WITHIN:.0f}s")


def _postgres_bin(name: str) -> str:
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_key)
    found = versions[-1] if versions else shutil.which(name)
    if not found:
        raise ServiceUnavailable(f"PostgreSQL's {name} is not installed")
    return found


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parent.parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


class PrivatePostgres:
    """A PostgreSQL cluster of its own. initdb and postgres refuse to run as root, so as
    root they run as the `postgres` user (through runuser) in a directory it owns."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
        self._as: list[str] = []
        owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise ServiceUnavailable("running as root, and there is no postgres user") from None
            if runuser is None:
                raise ServiceUnavailable("running as root, and runuser is not installed")
            self._as = [runuser, "-u", "postgres", "--"]
        # Under /tmp rather than pytest's tmp_path: that one is private to root.
        self.dir = Path(tempfile.mkdtemp(prefix="haven-pg-"))
        if owner is not None:
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.starts = 0

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self._as, *args], check=True, capture_output=True, timeout=START_WITHIN, cwd=self.dir
        )

    def start(self) -> PrivatePostgres:
        if not self.data.exists():
            self._run(self.initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust",
                      "-E", "UTF8", "--no-sync")  # fmt: skip
        # fsync off: a crash of the server process (what these tests do) loses nothing that
        # reached the operating system; only a crash of the machine would.
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
            "-c full_page_writes=off -c max_connections=100"
        )
        self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", str(int(START_WITHIN)), "start")  # fmt: skip
        self.starts += 1
        return self

    def crash(self) -> None:
        """Stop at once, as a crash would: every connection dropped, no checkpoint; the next
        start recovers from the write-ahead log."""
        self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def restart(self) -> None:
        self.crash()
        self.start()

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """A Redis of its own, in memory only (no snapshots, no append-only file)."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceUnavailable("redis-server is not installed")
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_for_port(self.port, self.process)
        self.starts += 1
        return self

    def kill(self) -> None:
        """SIGKILL: every subscriber's connection drops at once."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=START_WITHIN)

    def close(self) -> None:
        self.kill()


class SmallFilesystem:
    """A tmpfs of `size` mounted on a fresh directory: a disk that fills up for real.

    Needs the right to mount (root, or CAP_SYS_ADMIN); without it, ServiceUnavailable."""

    def __init__(self, size: str = "8m") -> None:
        self.path = Path(tempfile.mkdtemp(prefix="haven-small-fs-"))
        self.filler = self.path / "filler"
        mount = shutil.which("mount")
        if mount is None:
            raise ServiceUnavailable("mount is not installed")
        done = subprocess.run(
            [mount, "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(self.path)],
            capture_output=True, text=True, timeout=START_WITHIN,
        )  # fmt: skip
        if done.returncode != 0:
            self.path.rmdir()
            raise ServiceUnavailable(f"cannot mount a tmpfs here: {done.stderr.strip()}")

    def fill(self) -> int:
        """Take every free byte; returns how many."""
        written = 0
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            # Big writes while they fit, then smaller ones for the last few bytes.
            for size in (65536, 4096, 512, 1):
                with contextlib.suppress(OSError):
                    while n := os.write(fd, bytes(size)):
                        written += n
        finally:
            os.close(fd)
        return written

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def close(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], capture_output=True, timeout=START_WITHIN)
        shutil.rmtree(self.path, ignore_errors=True)
