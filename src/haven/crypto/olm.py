"""Olm 1:1 channels between devices: several sessions per peer device, newest first.

A pre-key message (type 0) may start a new inbound session; a normal message (type 1) must
match an existing one. Olm authenticates the peer's Curve25519 key: whatever decrypts here
came from the holder of that key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import vodozemac

from haven.crypto.errors import DecryptionFailed
from haven.crypto.identity import DeviceIdentity

PRE_KEY = 0
NORMAL = 1
MAX_SESSIONS_PER_DEVICE = 5


@dataclass
class OlmSessions:
    sessions: dict[str, list[vodozemac.Session]] = field(default_factory=dict)

    def has_session(self, their_curve25519: str) -> bool:
        return bool(self.sessions.get(their_curve25519))

    def add(self, their_curve25519: str, session: vodozemac.Session) -> None:
        kept = [session, *self.sessions.get(their_curve25519, [])]
        self.sessions[their_curve25519] = kept[:MAX_SESSIONS_PER_DEVICE]

    def encrypt(self, their_curve25519: str, plaintext: bytes) -> tuple[int, bytes]:
        [session, *_] = self.sessions[their_curve25519]
        message_type, ciphertext = session.encrypt(plaintext).to_parts()
        return int(message_type), bytes(ciphertext)

    def decrypt(
        self, identity: DeviceIdentity, their_curve25519: str, message_type: int, ciphertext: bytes
    ) -> bytes:
        try:
            message = vodozemac.AnyOlmMessage.from_parts(message_type, ciphertext)
        except (vodozemac.DecodeException, ValueError) as exc:
            raise DecryptionFailed(f"malformed Olm message: {exc}") from None
        pre_key = message.to_pre_key() if message_type == PRE_KEY else None
        for session in self.sessions.get(their_curve25519, []):
            if pre_key is not None and not session.session_matches(pre_key):
                continue
            try:
                plaintext = bytes(session.decrypt(message))
            except vodozemac.OlmDecryptionException:
                continue
            self._promote(their_curve25519, session)
            return plaintext
        if message_type != PRE_KEY:
            raise DecryptionFailed("no session with that device can decrypt this message")
        session, plaintext = identity.inbound_session(their_curve25519, ciphertext)
        self.add(their_curve25519, session)
        return plaintext

    def _promote(self, their_curve25519: str, session: vodozemac.Session) -> None:
        rest = [s for s in self.sessions[their_curve25519] if s is not session]
        self.sessions[their_curve25519] = [session, *rest]

    def pickle(self, pickle_key: bytes) -> dict[str, list[str]]:
        return {k: [s.pickle(pickle_key) for s in v] for k, v in self.sessions.items()}

    @classmethod
    def from_pickle(cls, pickled: dict[str, list[str]], pickle_key: bytes) -> OlmSessions:
        return cls(
            {
                k: [vodozemac.Session.from_pickle(p, pickle_key) for p in v]
                for k, v in pickled.items()
            }
        )
