"""A profile directory: the device's keys, sessions, contacts and messages, all sealed under
the user's passphrase (Argon2id + AES-256-GCM). Without the passphrase the directory reveals
nothing but its size; with a wrong one nothing is read or changed."""

from __future__ import annotations

import json
import secrets
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haven.crypto.errors import CryptoError
from haven.crypto.identity import DeviceIdentity
from haven.crypto.keystore import SealedKey
from haven.crypto.megolm import InboundGroups, OutboundGroup
from haven.crypto.olm import OlmSessions

STATE_FILE = "state.haven"
SEEN_ENVELOPES_KEPT = 20_000


class ProfileError(Exception):
    """The profile is missing, already exists, or cannot be opened."""


@dataclass
class Group:
    """A group conversation as this device knows it: membership lives only on clients."""

    name: str
    members: list[str]  # account ids
    version: int
    outbound: OutboundGroup | None = None  # this device's current sending session


@dataclass
class ClientState:
    server: str
    account_id: str
    device_id: str
    token: str
    pickle_key: bytes
    identity: DeviceIdentity
    olm: OlmSessions = field(default_factory=OlmSessions)
    contacts: dict[str, str] = field(default_factory=dict)  # name -> account id
    # account id -> device id -> {"curve25519", "ed25519"}: pinned on first sight
    devices: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    seen_envelopes: deque[str] = field(default_factory=lambda: deque(maxlen=SEEN_ENVELOPES_KEPT))
    seen_messages: deque[str] = field(default_factory=lambda: deque(maxlen=SEEN_ENVELOPES_KEPT))
    # SHA-256 of ciphertexts already opened: a retried send repeats the exact bytes, which
    # Olm/Megolm cannot (and must not) open twice.
    seen_ciphertexts: deque[str] = field(default_factory=lambda: deque(maxlen=SEEN_ENVELOPES_KEPT))
    messages: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[str, Group] = field(default_factory=dict)
    inbound: InboundGroups = field(default_factory=InboundGroups)
    session_groups: dict[str, str] = field(default_factory=dict)  # megolm session -> group
    verified: dict[str, list[str]] = field(default_factory=dict)  # account -> its ed25519 keys
    link_secret: str | None = None  # set while a new device waits for its link approval
    # Sealed envelopes not yet accepted by the server, oldest first: a crash or a lost
    # network between encrypting and sending loses nothing; the next run sends them.
    outbox: list[dict[str, Any]] = field(default_factory=list)
    relays: list[str] = field(default_factory=list)  # invite links, tried when direct fails
    server_pin: str | None = None  # the server certificate's pin, for a self-signed server
    notice_key: str | None = None  # the server's notice-signing key, pinned when we joined
    key_log_key: str | None = None  # the server's key-log signing key, pinned when we joined
    key_log_head: dict[str, Any] | None = None  # the latest key-log head seen: size, root
    # Set while this new device waits for a device of the account to approve it joining:
    # {"request_id", "expires_at"} (haven.client.protection).
    join_request: dict[str, Any] | None = None
    alerts_seen: int = 0  # the highest notice id already shown here as an alert

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "v": 1,
                "server": self.server,
                "account_id": self.account_id,
                "device_id": self.device_id,
                "token": self.token,
                "pickle_key": self.pickle_key.hex(),
                "identity": self.identity.pickle(self.pickle_key),
                "olm": self.olm.pickle(self.pickle_key),
                "contacts": self.contacts,
                "devices": self.devices,
                "seen_envelopes": list(self.seen_envelopes),
                "seen_messages": list(self.seen_messages),
                "seen_ciphertexts": list(self.seen_ciphertexts),
                "messages": self.messages,
                "groups": {
                    gid: {
                        "name": g.name,
                        "members": g.members,
                        "version": g.version,
                        "outbound": None
                        if g.outbound is None
                        else g.outbound.pickle(self.pickle_key),
                    }
                    for gid, g in self.groups.items()
                },
                "inbound": self.inbound.pickle(self.pickle_key),
                "session_groups": self.session_groups,
                "verified": self.verified,
                "link_secret": self.link_secret,
                "outbox": self.outbox,
                "relays": self.relays,
                "server_pin": self.server_pin,
                "notice_key": self.notice_key,
                "key_log_key": self.key_log_key,
                "key_log_head": self.key_log_head,
                "join_request": self.join_request,
                "alerts_seen": self.alerts_seen,
            }
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> ClientState:
        data = json.loads(raw)
        pickle_key = bytes.fromhex(data["pickle_key"])
        return cls(
            server=data["server"],
            account_id=data["account_id"],
            device_id=data["device_id"],
            token=data["token"],
            pickle_key=pickle_key,
            identity=DeviceIdentity.from_pickle(data["identity"], pickle_key),
            olm=OlmSessions.from_pickle(data["olm"], pickle_key),
            contacts=data["contacts"],
            devices=data["devices"],
            seen_envelopes=deque(data["seen_envelopes"], maxlen=SEEN_ENVELOPES_KEPT),
            seen_messages=deque(data["seen_messages"], maxlen=SEEN_ENVELOPES_KEPT),
            seen_ciphertexts=deque(data["seen_ciphertexts"], maxlen=SEEN_ENVELOPES_KEPT),
            messages=data["messages"],
            groups={
                gid: Group(
                    name=g["name"],
                    members=g["members"],
                    version=g["version"],
                    outbound=None
                    if g["outbound"] is None
                    else OutboundGroup.from_pickle(g["outbound"], pickle_key),
                )
                for gid, g in data["groups"].items()
            },
            inbound=InboundGroups.from_pickle(data["inbound"], pickle_key),
            session_groups=data["session_groups"],
            verified=data["verified"],
            link_secret=data["link_secret"],
            outbox=data["outbox"],
            relays=data.get("relays", []),  # profiles from before relays existed have none
            server_pin=data.get("server_pin"),
            notice_key=data.get("notice_key"),
            key_log_key=data.get("key_log_key"),
            key_log_head=data.get("key_log_head"),
            join_request=data.get("join_request"),
            alerts_seen=int(data.get("alerts_seen", 0)),
        )


def new_pickle_key() -> bytes:
    return secrets.token_bytes(32)


class Profile:
    """Where a ClientState lives, and the key that seals it."""

    def __init__(self, directory: Path, key: SealedKey) -> None:
        self.directory = directory
        self._key = key

    @property
    def state_file(self) -> Path:
        return self.directory / STATE_FILE

    @property
    def attachments_dir(self) -> Path:
        return self.directory / "attachments"

    @classmethod
    def create(cls, directory: Path, passphrase: str) -> Profile:
        if (directory / STATE_FILE).exists():
            raise ProfileError(f"{directory} already holds a profile; choose another directory")
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o700)
        return cls(directory, SealedKey.create(passphrase))

    @classmethod
    def open(cls, directory: Path, passphrase: str) -> tuple[Profile, ClientState]:
        path = directory / STATE_FILE
        if not path.exists():
            raise ProfileError(f"no profile in {directory}: create one with `haven account create`")
        try:
            key = SealedKey.unlock(passphrase, path)
            state = ClientState.from_json(key.read(path))
        except CryptoError as exc:
            raise ProfileError(str(exc)) from None
        return cls(directory, key), state

    def save(self, state: ClientState) -> None:
        """Atomically: a crash leaves the previous state or this one, never a mix."""
        self._key.write(self.state_file, state.to_json())
        self.state_file.chmod(0o600)

    def change_passphrase(self, state: ClientState, passphrase: str) -> None:
        """Seal the profile under a new passphrase (a fresh salt); the old one stops working
        the moment the file is replaced."""
        self._key = SealedKey.create(passphrase)
        self.save(state)
