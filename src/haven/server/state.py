"""What one server process holds while it runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.requests import HTTPConnection

from haven.core.config import Config
from haven.linkguard.updates import ListUpdates
from haven.safety.keylog import KeyLog
from haven.server.bus import LocalBus
from haven.server.credentials import CredentialCache
from haven.server.lockguard import AddressBackoff
from haven.server.metrics import Metrics
from haven.server.presence import LastSeen
from haven.server.ratelimit import RateLimits
from haven.store.stores import Stores


@dataclass
class ServerState:
    config: Config
    stores: Stores
    bus: LocalBus
    limits: RateLimits
    metrics: Metrics
    credentials: CredentialCache
    link_lists: ListUpdates
    audit_key: Ed25519PrivateKey
    notice_key: Ed25519PrivateKey
    key_log: KeyLog
    stamp_key: bytes  # delivery stamps (franking); a MAC key, never a decryption key
    lock_backoff: AddressBackoff = field(default_factory=AddressBackoff)  # registration locks
    last_seen: LastSeen = field(default_factory=LastSeen)


def get_state(connection: HTTPConnection) -> ServerState:
    state: ServerState = connection.app.state.haven
    return state
