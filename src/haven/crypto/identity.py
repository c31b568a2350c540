"""A device's long-term identity: a vodozemac Olm account (Curve25519 for key agreement,
Ed25519 for signatures), its signed one-time keys and fallback key."""

from __future__ import annotations

from dataclasses import dataclass

import vodozemac

from haven.core import b64
from haven.core.wire import key_signing_message
from haven.crypto.errors import BadSignature, CryptoError, DecryptionFailed


@dataclass(frozen=True)
class SignedKey:
    key_id: str
    key: str
    signature: str

    def to_wire(self) -> dict[str, str]:
        return {"key_id": self.key_id, "key": self.key, "signature": self.signature}


def verify_key_signature(ed25519: str, key: str, signature: str) -> None:
    """Check that a device's identity key vouches for one of its Curve25519 keys."""
    try:
        signer = vodozemac.Ed25519PublicKey.from_base64(ed25519)
        signer.verify_signature(
            key_signing_message(b64.decode(key)), vodozemac.Ed25519Signature.from_base64(signature)
        )
    except (vodozemac.SignatureException, vodozemac.KeyException, b64.Base64Error, ValueError):
        raise BadSignature("the key is not signed by the device's identity key") from None


class DeviceIdentity:
    def __init__(self, account: vodozemac.Account) -> None:
        self._account = account

    @classmethod
    def create(cls) -> DeviceIdentity:
        return cls(vodozemac.Account())

    @property
    def curve25519(self) -> str:
        key: str = self._account.curve25519_key.to_base64()
        return key

    @property
    def ed25519(self) -> str:
        key: str = self._account.ed25519_key.to_base64()
        return key

    def identity_keys(self) -> dict[str, str]:
        return {"curve25519": self.curve25519, "ed25519": self.ed25519}

    def sign(self, message: bytes) -> str:
        signature: str = self._account.sign(message).to_base64()
        return signature

    def _signed(self, key_id: str, key: vodozemac.Curve25519PublicKey) -> SignedKey:
        raw: bytes = key.to_bytes()
        return SignedKey(key_id, b64.encode(raw), self.sign(key_signing_message(raw)))

    def new_one_time_keys(self, count: int) -> list[SignedKey]:
        """Fresh one-time keys, signed, and marked published (the caller uploads them)."""
        self._account.generate_one_time_keys(count)
        keys = [self._signed(key_id, key) for key_id, key in self._account.one_time_keys.items()]
        self._account.mark_keys_as_published()
        return keys

    def new_fallback_key(self) -> SignedKey:
        # Both exist at run time; vodozemac 0.10's type stubs omit them.
        self._account.generate_fallback_key()  # type: ignore[attr-defined]
        [(key_id, key)] = self._account.fallback_key.items()  # type: ignore[attr-defined]
        signed = self._signed(key_id, key)
        self._account.mark_keys_as_published()
        return signed

    def outbound_session(self, their_curve25519: str, their_key: str) -> vodozemac.Session:
        try:
            return self._account.create_outbound_session(
                vodozemac.Curve25519PublicKey.from_base64(their_curve25519),
                vodozemac.Curve25519PublicKey.from_base64(their_key),
            )
        except (vodozemac.KeyException, ValueError) as exc:
            raise CryptoError(f"cannot start a session with that device: {exc}") from None

    def inbound_session(
        self, their_curve25519: str, pre_key_message: bytes
    ) -> tuple[vodozemac.Session, bytes]:
        try:
            message = vodozemac.AnyOlmMessage.from_parts(0, pre_key_message).to_pre_key()
            if message is None:
                raise DecryptionFailed("not a pre-key message")
            session, plaintext = self._account.create_inbound_session(
                vodozemac.Curve25519PublicKey.from_base64(their_curve25519), message
            )
        except (
            vodozemac.KeyException,
            vodozemac.DecodeException,
            vodozemac.SessionCreationException,
            ValueError,
        ) as exc:
            raise DecryptionFailed(f"could not open a session from that message: {exc}") from None
        return session, bytes(plaintext)

    def pickle(self, pickle_key: bytes) -> str:
        pickled: str = self._account.pickle(pickle_key)
        return pickled

    @classmethod
    def from_pickle(cls, pickled: str, pickle_key: bytes) -> DeviceIdentity:
        try:
            return cls(vodozemac.Account.from_pickle(pickled, pickle_key))
        except vodozemac.PickleException as exc:
            raise CryptoError(f"the device identity could not be restored: {exc}") from None
