"""Signed notices from a server's operator (e.g. "government-backed attackers may be
targeting you"): the format both the server (signing) and the client (verifying) use.

A notice reaches the client through its own endpoint, never as a message, and is shown
only if it carries a valid signature by the notice key the client pinned when it joined
the server; nothing a user sends can ever be displayed as one."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

_CONTEXT = b"haven/notice/v1\x00"


@dataclass(frozen=True)
class Notice:
    notice_id: int
    account_id: str
    template: str
    language: str
    title: str
    body: str
    created_at: int

    def to_bytes(self) -> bytes:
        return _CONTEXT + json.dumps(
            asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Notice:
        """Strict: exactly the fields of a notice, with the right types."""
        fields = {
            "notice_id": int, "account_id": str, "template": str, "language": str,
            "title": str, "body": str, "created_at": int,
        }  # fmt: skip
        if set(data) != set(fields) or any(
            type(data[name]) is not kind for name, kind in fields.items()
        ):
            raise ValueError("not a notice")
        return cls(**data)


class BadNoticeSignature(Exception):
    """The notice is not signed by this server's notice key: it must not be shown."""


def sign(key: Ed25519PrivateKey, notice: Notice) -> bytes:
    return key.sign(notice.to_bytes())


def verify(public: Ed25519PublicKey, notice: Notice, signature: bytes) -> None:
    try:
        public.verify(signature, notice.to_bytes())
    except InvalidSignature:
        raise BadNoticeSignature("the notice's signature does not verify") from None
