"""The relay's long-lived identity in its data directory: the invite secret and the TLS key
and certificate whose public key the invite link pins. Created once, reused on restart."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from haven.core.relaylink import SECRET_BYTES, spki_pin

SECRET_FILE = "relay-secret"  # noqa: S105 - a file name, not a secret
CERT_FILE = "relay-cert.pem"
KEY_FILE = "relay-key.pem"
DEFAULT_NAME = "localhost"
VALIDITY = dt.timedelta(days=3650)


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


def _write_private(path: Path, data: bytes) -> None:
    # O_EXCL with mode 0600 from the start: the secret is never readable by others, even
    # briefly, and two relays starting at once cannot overwrite each other's.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _self_signed(name: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _secret(data_dir: Path) -> tuple[bytes, bool]:
    path = data_dir / SECRET_FILE
    if path.exists():
        secret = path.read_bytes()
        if len(secret) != SECRET_BYTES:
            raise IdentityError(f"{path} is not a relay secret ({SECRET_BYTES} bytes)")
        return secret, False
    secret = secrets.token_bytes(SECRET_BYTES)
    _write_private(path, secret)
    return secret, True


def _certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise IdentityError(f"cannot read the certificate {path}: {exc}") from None


def _first_dns_name(cert: x509.Certificate) -> str | None:
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    dns = names.get_values_for_type(x509.DNSName)
    return next((n for n in dns if "*" not in n), None)


def load_or_create(
    data_dir: Path, cert: Path | None = None, key: Path | None = None, name: str = DEFAULT_NAME
) -> RelayIdentity:
    """The relay's secret and certificate; a self-signed ECDSA P-256 certificate for `name`
    is made when the operator gives none."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret, created = _secret(data_dir)
    if cert is None or key is None:
        cert, key = data_dir / CERT_FILE, data_dir / KEY_FILE
        if not cert.exists() or not key.exists():
            cert_pem, key_pem = _self_signed(name)
            key.unlink(missing_ok=True)
            _write_private(key, key_pem)
            cert.unlink(missing_ok=True)
            _write_private(cert, cert_pem)
    loaded = _certificate(cert)
    if not key.exists():
        raise IdentityError(f"the key file {key} does not exist")
    der = loaded.public_bytes(serialization.Encoding.DER)
    return RelayIdentity(secret, cert, key, spki_pin(der), _first_dns_name(loaded), created)
