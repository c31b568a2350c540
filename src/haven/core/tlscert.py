"""TLS identities made on first start: a self-signed ECDSA P-256 certificate (fast handshakes;
RSA-4096 costs ~5 ms of CPU each) whose public key a client pins, kept 0600 in a data dir.

The relay uses one for its invite link and the server one for clients that reach it through
a relay without a certificate authority in the way: either way the pin, not a CA, is what
the client checks (`haven.core.relaylink.spki_pin`)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from haven.core.relaylink import is_ip_literal, spki_pin

VALIDITY = dt.timedelta(days=3650)


class CertificateError(Exception):
    """A stored certificate or key cannot be used; the message names the file."""


def write_private(path: Path, data: bytes) -> None:
    """O_EXCL with mode 0600 from the start: never readable by others, even briefly, and
    two processes starting at once cannot overwrite each other's."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def self_signed(name: str, addresses: tuple[str, ...] = ()) -> tuple[bytes, bytes]:
    """(certificate PEM, PKCS#8 key PEM) for `name` and any IP `addresses`."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    alt: list[x509.GeneralName] = [x509.DNSName(name)]
    alt += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses if is_ip_literal(a)]
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def load_certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise CertificateError(f"cannot read the certificate {path}: {exc}") from None


def pin_of(cert: x509.Certificate) -> bytes:
    return spki_pin(cert.public_bytes(serialization.Encoding.DER))


def first_dns_name(cert: x509.Certificate) -> str | None:
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    dns = names.get_values_for_type(x509.DNSName)
    return next((n for n in dns if "*" not in n), None)


def ensure_pair(
    cert: Path, key: Path, name: str, addresses: tuple[str, ...] = ()
) -> x509.Certificate:
    """The certificate at `cert` (its key at `key`), made self-signed when either is
    missing; a damaged or missing file is a CertificateError naming it."""
    if not cert.exists() or not key.exists():
        cert_pem, key_pem = self_signed(name, addresses)
        key.unlink(missing_ok=True)
        write_private(key, key_pem)
        cert.unlink(missing_ok=True)
        write_private(cert, cert_pem)
    return check_pair(cert, key)


def check_pair(cert: Path, key: Path) -> x509.Certificate:
    """The certificate at `cert`, after checking that `key` exists and is the private key
    of that certificate, so a mismatch fails at start and not at the first handshake."""
    loaded = load_certificate(cert)
    try:
        private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    except FileNotFoundError:
        raise CertificateError(f"the key file {key} does not exist") from None
    except (OSError, ValueError, TypeError) as exc:
        raise CertificateError(f"cannot read the key file {key}: {exc}") from None
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if private.public_key().public_bytes(*spki) != loaded.public_key().public_bytes(*spki):
        raise CertificateError(f"the key file {key} does not belong to the certificate {cert}")
    return loaded
