"""Megolm group sessions: one outbound session per conversation, its key shared to every
member device over Olm; inbound sessions remember which device shared them and which
message indexes were already decrypted (vodozemac would decrypt a replay again)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import vodozemac

from haven.crypto.errors import DecryptionFailed, ReplayedMessage

ROTATE_AFTER_MESSAGES = 100
ROTATE_AFTER_SECONDS = 7 * 24 * 3600


@dataclass
class OutboundGroup:
    session: vodozemac.GroupSession
    members: frozenset[str]  # the member device ids the key was shared with
    created_at: float
    sent: int = 0

    @classmethod
    def create(cls, members: frozenset[str], now: float | None = None) -> OutboundGroup:
        return cls(vodozemac.GroupSession(), members, time.time() if now is None else now)

    @property
    def session_id(self) -> str:
        session_id: str = self.session.session_id
        return session_id

    @property
    def session_key(self) -> str:
        """The current ratchet state: whoever has it reads from this message on."""
        key: str = self.session.session_key.to_base64()
        return key

    def needs_rotation(self, members: frozenset[str], now: float | None = None) -> bool:
        """A removed member must not read what follows, and keys should not live forever."""
        moment = time.time() if now is None else now
        return (
            not members >= self.members
            or self.sent >= ROTATE_AFTER_MESSAGES
            or moment - self.created_at >= ROTATE_AFTER_SECONDS
        )

    def encrypt(self, plaintext: bytes) -> bytes:
        self.sent += 1
        message: bytes = self.session.encrypt(plaintext).to_bytes()
        return message

    def pickle(self, pickle_key: bytes) -> dict[str, object]:
        return {
            "session": self.session.pickle(pickle_key),
            "members": sorted(self.members),
            "created_at": self.created_at,
            "sent": self.sent,
        }

    @classmethod
    def from_pickle(cls, data: dict[str, object], pickle_key: bytes) -> OutboundGroup:
        members = data["members"]
        assert isinstance(members, list)
        return cls(
            vodozemac.GroupSession.from_pickle(str(data["session"]), pickle_key),
            frozenset(str(m) for m in members),
            float(str(data["created_at"])),
            int(str(data["sent"])),
        )


@dataclass
class InboundGroup:
    session: vodozemac.InboundGroupSession
    sender_device: str  # the device that shared the key over Olm: messages are attributed to it
    seen: set[int] = field(default_factory=set)


@dataclass
class InboundGroups:
    groups: dict[str, InboundGroup] = field(default_factory=dict)

    def add(self, session_key: str, sender_device: str) -> str:
        """Keep a session key a device shared with us; returns its session id. A key for a
        session we already know (re-shared) does not reset what we have seen."""
        try:
            session = vodozemac.InboundGroupSession(vodozemac.SessionKey(session_key))
        except (vodozemac.SessionKeyDecodeException, ValueError) as exc:
            raise DecryptionFailed(f"unusable group session key: {exc}") from None
        session_id: str = session.session_id
        known = self.groups.get(session_id)
        if known is None or known.sender_device != sender_device:
            if known is not None:
                raise DecryptionFailed("a second device claims an existing group session")
            self.groups[session_id] = InboundGroup(session, sender_device)
        return session_id

    def decrypt(self, session_id: str, ciphertext: bytes) -> tuple[bytes, str, int]:
        """(plaintext, sending device, message index); each index is accepted only once."""
        group = self.groups.get(session_id)
        if group is None:
            raise DecryptionFailed("we were not given the key for this group message")
        try:
            decrypted = group.session.decrypt(vodozemac.MegolmMessage.from_bytes(ciphertext))
        except (vodozemac.DecodeException, vodozemac.MegolmDecryptionException, ValueError) as exc:
            raise DecryptionFailed(f"the group message could not be decrypted: {exc}") from None
        index = int(decrypted.message_index)
        if index in group.seen:
            raise ReplayedMessage(f"group message {session_id}/{index} was already received")
        group.seen.add(index)
        return bytes(decrypted.plaintext), group.sender_device, index

    def pickle(self, pickle_key: bytes) -> dict[str, dict[str, object]]:
        return {
            session_id: {
                "session": g.session.pickle(pickle_key),
                "sender_device": g.sender_device,
                "seen": sorted(g.seen),
            }
            for session_id, g in self.groups.items()
        }

    @classmethod
    def from_pickle(cls, data: dict[str, dict[str, object]], pickle_key: bytes) -> InboundGroups:
        groups = {}
        for session_id, raw in data.items():
            seen = raw["seen"]
            assert isinstance(seen, list)
            groups[session_id] = InboundGroup(
                vodozemac.InboundGroupSession.from_pickle(str(raw["session"]), pickle_key),
                str(raw["sender_device"]),
                {int(i) for i in seen},
            )
        return cls(groups)
