"""The server's HTTPS identity: the operator's certificate, or a self-signed ECDSA P-256 one
made on first start in the data dir. Either way its pin is printed, so people whose only
way in is a relay can check, through the relay, that they reach this server and not the
relay's operator (docs/relay.md, "What a relay can see")."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from haven.core.config import Config
from haven.core.relaylink import b64url_encode, is_ip_literal
from haven.core.tlscert import check_pair, ensure_pair, pin_of

CERT_FILE = "server-cert.pem"
KEY_FILE = "server-key.pem"


@dataclass(frozen=True)
class ServerTls:
    cert: Path
    key: Path
    pin: str  # base64url SHA-256 of the certificate's public key, as `--server-pin` takes it


def server_tls(config: Config) -> ServerTls | None:
    """None when the server speaks plain HTTP; CertificateError names an unusable file."""
    if not config.serves_tls:
        return None
    if config.tls_cert is not None and config.tls_key is not None:
        cert, key = config.tls_cert, config.tls_key
        loaded = check_pair(cert, key)
    else:
        cert, key = config.data_dir / CERT_FILE, config.data_dir / KEY_FILE
        name = "localhost" if is_ip_literal(config.host) else config.host
        addresses = (config.host,) if is_ip_literal(config.host) else ()
        loaded = ensure_pair(cert, key, name, addresses)
    return ServerTls(cert, key, b64url_encode(pin_of(loaded)))
