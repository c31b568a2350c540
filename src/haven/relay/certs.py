"""The relay's long-lived identity in its data directory: the invite secret and the TLS key
and certificate whose public key the invite link pins. Created once, reused on restart."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from haven.core.relaylink import SECRET_BYTES
from haven.core.tlscert import (
    CertificateError,
    check_pair,
    ensure_pair,
    first_dns_name,
    pin_of,
    write_private,
)

SECRET_FILE = "relay-secret"  # noqa: S105 - a file name, not a secret
CERT_FILE = "relay-cert.pem"
KEY_FILE = "relay-key.pem"
DEFAULT_NAME = "localhost"


class IdentityError(Exception):
    """The stored secret or certificate cannot be used; the message says which file."""


@dataclass(frozen=True)
class RelayIdentity:
    secret: bytes
    cert_path: Path
    key_path: Path
    pin: bytes
    dns_name: str | None  # for TLS SNI when the link points at an address
    created: bool  # the secret was made on this start

    def __repr__(self) -> str:
        return f"RelayIdentity(cert_path={self.cert_path!s}, created={self.created})"


def _secret(data_dir: Path) -> tuple[bytes, bool]:
    path = data_dir / SECRET_FILE
    if path.exists():
        secret = path.read_bytes()
        if len(secret) != SECRET_BYTES:
            raise IdentityError(f"{path} is not a relay secret ({SECRET_BYTES} bytes)")
        return secret, False
    secret = secrets.token_bytes(SECRET_BYTES)
    write_private(path, secret)
    return secret, True


def load_or_create(
    data_dir: Path, cert: Path | None = None, key: Path | None = None, name: str = DEFAULT_NAME
) -> RelayIdentity:
    """The relay's secret and certificate; a self-signed ECDSA P-256 certificate for `name`
    is made when the operator gives none."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret, created = _secret(data_dir)
    try:
        if cert is None or key is None:
            loaded = ensure_pair(data_dir / CERT_FILE, data_dir / KEY_FILE, name)
            cert, key = data_dir / CERT_FILE, data_dir / KEY_FILE
        else:
            loaded = check_pair(cert, key)
    except CertificateError as exc:
        raise IdentityError(str(exc)) from None
    return RelayIdentity(secret, cert, key, pin_of(loaded), first_dns_name(loaded), created)
