"""Linking a new device to an account, without the server learning anything it could misuse.

1. The new device makes its identity and a one-off Curve25519 key pair, and shows a link code
   (its identity keys and the one-off public key).
2. The existing device registers exactly those identity keys with the server and seals the
   new device's credentials to the one-off key (vodozemac's PK encryption), shown as an
   approval code.
3. The new device opens the approval with its one-off secret key.

Both screens show the same check digits, derived from the link code, so the person can see
that the device they approve is the one in their hand.
"""

from __future__ import annotations

import hashlib
import json

import vodozemac

from haven.core import b64
from haven.crypto.errors import CryptoError

LINK_PREFIX = "HAVEN-LINK1:"
APPROVAL_PREFIX = "HAVEN-APPROVAL1:"


def new_link_secret() -> str:
    secret: str = vodozemac.Curve25519SecretKey().to_base64()
    return secret


def link_code(identity_keys: dict[str, str], link_secret: str) -> str:
    public = vodozemac.Curve25519SecretKey.from_base64(link_secret).public_key().to_base64()
    body = json.dumps({"keys": identity_keys, "box": public}, sort_keys=True, separators=(",", ":"))
    return LINK_PREFIX + b64.encode(body.encode())


def check_digits(code: str) -> str:
    """Six digits both devices show: equal means the approved device is this one."""
    digest = hashlib.sha256(code.strip().encode()).digest()
    number = int.from_bytes(digest[:8], "big") % 1_000_000
    return f"{number // 1000:03d} {number % 1000:03d}"


def parse_link_code(code: str) -> tuple[dict[str, str], str]:
    """(identity keys, one-off public key) from a link code."""
    text = code.strip()
    if not text.startswith(LINK_PREFIX):
        raise CryptoError("this is not a Haven link code")
    try:
        body = json.loads(b64.decode(text.removeprefix(LINK_PREFIX)))
        keys = {
            "curve25519": str(body["keys"]["curve25519"]),
            "ed25519": str(body["keys"]["ed25519"]),
        }
        box = str(body["box"])
        vodozemac.Curve25519PublicKey.from_base64(box)
    except (ValueError, KeyError, TypeError, b64.Base64Error):
        raise CryptoError("the link code is damaged: copy it again") from None
    return keys, box


def seal_approval(box_public_key: str, credentials: dict[str, str]) -> str:
    message = vodozemac.PkEncryption.from_key(
        vodozemac.Curve25519PublicKey.from_base64(box_public_key)
    ).encrypt(json.dumps(credentials).encode())
    parts = (message.ciphertext, message.mac, message.ephemeral_key)
    return APPROVAL_PREFIX + ".".join(b64.encode(bytes(p)) for p in parts)


def open_approval(link_secret: str, approval: str) -> dict[str, str]:
    text = approval.strip()
    if not text.startswith(APPROVAL_PREFIX):
        raise CryptoError("this is not a Haven approval code")
    try:
        ciphertext, mac, ephemeral = text.removeprefix(APPROVAL_PREFIX).split(".")
        box = vodozemac.PkDecryption.from_key(
            vodozemac.Curve25519SecretKey.from_base64(link_secret)
        )
        plaintext = box.decrypt(vodozemac.Message.from_base64(ciphertext, mac, ephemeral))
        credentials = json.loads(plaintext)
    except (ValueError, TypeError, b64.Base64Error):
        raise CryptoError("the approval code is damaged or was made for another device") from None
    if not isinstance(credentials, dict):
        raise CryptoError("the approval code is damaged")
    return {str(k): str(v) for k, v in credentials.items()}
