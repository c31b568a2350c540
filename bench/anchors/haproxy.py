"""HAProxy as the anchor for the relay benchmark: a TLS-terminating TCP proxy in C, the
usual way to put TLS in front of a service. Installed from Debian's packages when missing.

It gets the relay's own certificate and key (ECDSA P-256), TLS 1.3 only, one thread, and
forwards to the same upstream, so both proxies do the same work per byte; HAProxy does not
check a proof or keep a decoy, so per connection it does a little less.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from bench.common import may_install, not_installing

INSTALL_TIMEOUT_S = 600


class AnchorUnavailable(RuntimeError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def ensure_haproxy() -> str:
    found = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )
    if found:
        return found
    if not may_install("heavy"):
        raise AnchorUnavailable(not_installing("haproxy"))
    try:
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "haproxy"]):
            subprocess.run(
                cmd, check=True, capture_output=True, timeout=INSTALL_TIMEOUT_S,
                env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
            )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        raise AnchorUnavailable(f"cannot install haproxy with apt-get: {exc}") from None
    found = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(found).exists():
        raise AnchorUnavailable("apt-get installed haproxy but there is no haproxy binary")
    return found


def version(binary: str) -> str:
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10).stdout
    return out.split("\n", 1)[0].replace("HAProxy version ", "").split(" ")[0]


CONFIG = """global
    nbthread 1
    maxconn 9000
    log stdout format raw local0 err

defaults
    mode tcp
    timeout connect 5s
    timeout client 300s
    timeout server 300s

frontend relay
    bind 127.0.0.1:{port} ssl crt {pem} ssl-min-ver TLSv1.3 alpn http/1.1
    default_backend upstream

backend upstream
    server up 127.0.0.1:{upstream}
"""


@contextlib.contextmanager
def start_haproxy(
    binary: str, workdir: Path, port: int, upstream: int, cert: Path, key: Path
) -> Iterator[subprocess.Popen[bytes]]:
    workdir.mkdir(parents=True, exist_ok=True)
    pem = workdir / "haproxy.pem"
    pem.write_bytes(cert.read_bytes() + key.read_bytes())
    pem.chmod(0o600)
    config = workdir / "haproxy.cfg"
    config.write_text(CONFIG.format(port=port, pem=pem, upstream=upstream))
    log = (workdir / "haproxy.log").open("wb")
    proc = subprocess.Popen([binary, "-db", "-f", str(config)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise AnchorUnavailable(f"haproxy exited; see {workdir / 'haproxy.log'}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline:
                raise AnchorUnavailable("haproxy did not start listening in 20 s")
            time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
