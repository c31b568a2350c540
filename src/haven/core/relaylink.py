"""What a relay and its clients share: the invite link and the proof of knowing its secret.

Invite link::

    haven://relay?host=H&port=P&pin=<b64url sha256(cert SPKI)>&secret=<b64url 32 bytes>
                  [&sni=NAME][&ws=1]

Proof: the client's first HTTP request goes to ``/<token>`` with
``token = b64url(nonce[16] || ts[8, big-endian unix seconds] || mac[32])`` and
``mac = HMAC-SHA256(secret, "haven-relay-v1" || nonce || ts)``. The relay accepts a token
only inside a time window and only once (its replay cache holds the nonce); anything else
gets the decoy site. The secret never crosses the wire, and the token is inside TLS that the
client has pinned, so an observer cannot replay it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import re
import secrets
import struct
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SCHEME = "haven"
KIND = "relay"
SECRET_BYTES = 32
PIN_BYTES = 32
NONCE_BYTES = 16
MAC_BYTES = 32
PROOF_LABEL = b"haven-relay-v1"
PROOF_BYTES = NONCE_BYTES + 8 + MAC_BYTES
PROOF_CHARS = 75  # unpadded base64url of PROOF_BYTES
DEFAULT_WINDOW_SECONDS = 120

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
# One label at a time: the single regex this replaced backtracked exponentially on a long
# run of digits (a crafted link could hang the client, found by fuzzing).
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_PORT = re.compile(r"[0-9]{1,5}")


class RelayLinkError(ValueError):
    """The text is not a usable relay invite link; the message says what is wrong."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str) -> bytes:
    """Strict unpadded base64url; raises ValueError on anything else."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def spki_pin(cert_der: bytes) -> bytes:
    """SHA-256 of the certificate's SubjectPublicKeyInfo: survives re-issuing the certificate
    for the same key (e.g. a CA-signed one replacing the self-signed one)."""
    cert = x509.load_der_x509_certificate(cert_der)
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).digest()


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _valid_host(host: str) -> bool:
    return is_ip_literal(host) or _is_hostname(host)


def _is_hostname(host: str) -> bool:
    if not 1 <= len(host) <= 253:
        return False
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    return all(_LABEL.fullmatch(label) for label in labels)


@dataclass(frozen=True)
class RelayLink:
    host: str
    port: int
    pin: bytes
    secret: bytes
    sni: str | None = None
    websocket: bool = False

    def __post_init__(self) -> None:
        if not _valid_host(self.host):
            raise RelayLinkError(f"the relay host {self.host!r} is not a host name or address")
        if not 1 <= self.port <= 65535:
            raise RelayLinkError(f"the relay port {self.port} is not between 1 and 65535")
        if len(self.pin) != PIN_BYTES:
            raise RelayLinkError("the certificate pin must be a 32-byte SHA-256 digest")
        if len(self.secret) != SECRET_BYTES:
            raise RelayLinkError("the relay secret must be 32 bytes")
        if self.sni is not None and (is_ip_literal(self.sni) or not _valid_host(self.sni)):
            raise RelayLinkError(f"the TLS server name {self.sni!r} is not a host name")

    @property
    def server_name(self) -> str | None:
        """The name the client sends in TLS SNI: the relay answers TLS without SNI with its
        decoy, and an IP address cannot go in SNI, so links to an address carry a name."""
        if self.sni:
            return self.sni
        return None if is_ip_literal(self.host) else self.host

    def __repr__(self) -> str:
        # Never let the secret reach a log line or a traceback through repr().
        return f"RelayLink(host={self.host!r}, port={self.port}, websocket={self.websocket})"

    def to_url(self) -> str:
        query = {
            "host": self.host,
            "port": str(self.port),
            "pin": b64url_encode(self.pin),
            "secret": b64url_encode(self.secret),
        }
        if self.sni:
            query["sni"] = self.sni
        if self.websocket:
            query["ws"] = "1"
        return f"{SCHEME}://{KIND}?{urlencode(query, safe=':')}"


def _field(fields: dict[str, str], name: str) -> str:
    value = fields.get(name)
    if value is None or value == "":
        raise RelayLinkError(f"the relay link has no {name}")
    return value


def _b64_field(fields: dict[str, str], name: str, size: int, what: str) -> bytes:
    text = _field(fields, name)
    try:
        raw = b64url_decode(text)
    except ValueError:
        raise RelayLinkError(f"the {what} in the relay link is not valid base64url") from None
    if len(raw) != size:
        raise RelayLinkError(f"the {what} in the relay link must be {size} bytes")
    return raw


def parse(text: str) -> RelayLink:
    """The relay behind an invite link; RelayLinkError (and nothing else) for a bad one."""
    text = text.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        raise RelayLinkError("this is not a link") from None
    if parts.scheme.lower() != SCHEME:
        raise RelayLinkError("a relay link starts with haven://relay?")
    if parts.netloc.lower() != KIND or parts.path not in ("", "/"):
        raise RelayLinkError("this haven:// link is not a relay invite (haven://relay?...)")
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise RelayLinkError("the relay link's parameters are malformed") from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            raise RelayLinkError(f"the relay link gives {key} twice")
        fields[key] = value
    port_text = _field(fields, "port")
    if not _PORT.fullmatch(port_text):
        raise RelayLinkError(f"the relay port {port_text!r} is not a number")
    ws = fields.get("ws", "0")
    if ws not in ("0", "1"):
        raise RelayLinkError("ws in the relay link must be 0 or 1")
    return RelayLink(
        host=_field(fields, "host"),
        port=int(port_text),
        pin=_b64_field(fields, "pin", PIN_BYTES, "certificate pin"),
        secret=_b64_field(fields, "secret", SECRET_BYTES, "secret"),
        sni=fields.get("sni") or None,
        websocket=ws == "1",
    )


def _mac(secret: bytes, nonce: bytes, stamp: bytes) -> bytes:
    return hmac.new(secret, PROOF_LABEL + nonce + stamp, hashlib.sha256).digest()


def make_proof(secret: bytes, now: float | None = None, nonce: bytes | None = None) -> str:
    """A fresh token for the path of the client's first request (``GET /<token>``)."""
    nonce = secrets.token_bytes(NONCE_BYTES) if nonce is None else nonce
    stamp = struct.pack(">Q", int(time.time() if now is None else now))
    return b64url_encode(nonce + stamp + _mac(secret, nonce, stamp))


@dataclass(frozen=True)
class Proof:
    nonce: bytes
    timestamp: int


def looks_like_proof(token: str) -> bool:
    return len(token) == PROOF_CHARS and bool(_B64URL.fullmatch(token))


def check_proof(
    secret: bytes, token: str, now: float, window: int = DEFAULT_WINDOW_SECONDS
) -> Proof | None:
    """The proof if `token` was made with `secret` within `window` seconds of `now`; None
    otherwise. Whether its nonce was seen before is the caller's replay cache's business."""
    if not looks_like_proof(token):
        return None
    try:
        raw = b64url_decode(token)
    except ValueError:
        return None
    nonce, stamp, mac = raw[:NONCE_BYTES], raw[NONCE_BYTES:-MAC_BYTES], raw[-MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(secret, nonce, stamp)):
        return None
    (timestamp,) = struct.unpack(">Q", stamp)
    if abs(timestamp - now) > window:
        return None
    return Proof(nonce, timestamp)
