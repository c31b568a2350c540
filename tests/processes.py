"""Real `haven server` processes on loopback ports, for whole-system tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from haven.core.relaylink import b64url_encode
from haven.core.tlscert import load_certificate, pin_of
from haven.server.tls import CERT_FILE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """One `haven server` subprocess; its output goes to a log file for post-mortems."""

    def __init__(
        self, data_dir: Path, db: str, redis: str | None = None, tls: bool = False, **env: str
    ) -> None:
        self.data_dir = data_dir
        self.db = db
        self.redis = redis
        self.tls = tls  # self-signed, made in data_dir; `pin` is what clients check
        self.env = env
        self.port = free_port()
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.log = data_dir / f"server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        args = [
            sys.executable, "-m", "haven", "server",
            "--data-dir", str(self.data_dir), "--db", self.db,
            "--host", "127.0.0.1", "--port", str(self.port),
        ]  # fmt: skip
        if self.redis:
            args += ["--redis", self.redis]
        if self.tls:
            args.append("--tls")
        env = {**os.environ, "HAVEN_RATE_LIMITS": "false", **self.env}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        self.wait_healthy()
        return self

    @property
    def pin(self) -> str:
        """The pin `haven server --tls` printed for the certificate it made."""
        return b64url_encode(pin_of(load_certificate(self.data_dir / CERT_FILE)))

    def wait_healthy(self, within: float = 60) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                # The pin, not a CA, vouches for a test server's self-signed certificate.
                health = httpx.get(self.url + "/v1/health", timeout=1, verify=False)  # noqa: S501
                if health.status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server not healthy in {within}s: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing: what a crash or power-cycle of the
        process looks like."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
