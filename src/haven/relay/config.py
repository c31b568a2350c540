"""The relay's settings: where it listens, its one upstream, and every limit it enforces."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from haven.core.relaylink import DEFAULT_WINDOW_SECONDS, is_loopback
from haven.relay.handshake import DEFAULT_SLOTS


class RelayConfigError(ValueError):
    """A setting is unusable; the message says which and why."""


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_address(text: str, what: str, default_port: int | None = None) -> Address:
    """HOST:PORT, [V6]:PORT, or HOST alone when a default port is given."""
    text = text.strip()
    host, sep, port_text = text.rpartition(":")
    if text.startswith("[") and "]" in text:
        close = text.index("]")
        host, rest = text[1:close], text[close + 1 :]
        sep, port_text = (":", rest[1:]) if rest.startswith(":") else ("", "")
    elif not sep or ":" in host:
        host, port_text = text, ""
    if not port_text:
        if default_port is None:
            raise RelayConfigError(f"{what} must be HOST:PORT, got {text!r}")
        port_text = str(default_port)
    if not host or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise RelayConfigError(f"{what} must be HOST:PORT with a port 1-65535, got {text!r}")
    return Address(host, int(port_text))


@dataclass(frozen=True)
class RelayConfig:
    upstream: Address
    listen: Address
    data_dir: Path
    cert: Path | None = None
    key: Path | None = None
    decoy: Path | None = None
    workers: int = 1
    websocket: bool = False
    stats: Address | None = Address("127.0.0.1", 9464)
    # Limits. A slow client gets this long from connecting to finishing TLS and its request
    # head (and again for each further request on a keep-alive decoy connection).
    handshake_timeout: float = 10.0
    idle_timeout: float = 300.0
    max_connections: int = 10_000
    per_ip_connections: int = 64
    drain_timeout: float = 30.0
    proof_window: int = DEFAULT_WINDOW_SECONDS
    replay_slots: int = DEFAULT_SLOTS
    backlog: int = 1024

    def __post_init__(self) -> None:
        if self.workers < 1 or self.workers > 64:
            raise RelayConfigError("--workers must be between 1 and 64")
        if (self.cert is None) != (self.key is None):
            raise RelayConfigError("give both --cert and --key, or neither")
        if self.stats is not None and not is_loopback(self.stats.host):
            raise RelayConfigError("--stats must listen on a loopback address (127.0.0.1 or ::1)")
        for name in ("handshake_timeout", "idle_timeout", "drain_timeout"):
            if getattr(self, name) <= 0:
                raise RelayConfigError(f"{name.replace('_', '-')} must be positive")
        if self.max_connections < 1 or self.per_ip_connections < 1:
            raise RelayConfigError("connection limits must be at least 1")
        if self.replay_slots & (self.replay_slots - 1) or self.replay_slots < 64:
            raise RelayConfigError("--replay-slots must be a power of two of at least 64")
