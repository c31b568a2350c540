"""The server's HTTPS identity and the pin it prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from haven.core.config import Config
from haven.core.relaylink import b64url_encode
from haven.core.tlscert import CertificateError, ensure_pair, pin_of
from haven.server.tls import CERT_FILE, KEY_FILE, server_tls


def test_plain_http_has_no_identity(tmp_path: Path) -> None:
    assert server_tls(Config(data_dir=tmp_path)) is None
    assert not (tmp_path / CERT_FILE).exists()


def test_a_self_signed_identity_is_made_once_and_its_pin_stays(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path, tls=True)
    first = server_tls(config)
    assert first is not None
    assert first.cert == tmp_path / CERT_FILE
    assert first.key == tmp_path / KEY_FILE
    again = server_tls(config)
    assert again is not None
    assert again.pin == first.pin
    assert len(first.pin) == 43


def test_the_operators_certificate_is_used_and_checked(tmp_path: Path) -> None:
    cert, key = tmp_path / "mine.pem", tmp_path / "mine.key"
    made = ensure_pair(cert, key, "haven.example.org")
    tls = server_tls(Config(data_dir=tmp_path / "d", tls_cert=cert, tls_key=key))
    assert tls is not None
    assert tls.pin == b64url_encode(pin_of(made))
    ensure_pair(tmp_path / "b.pem", tmp_path / "b.key", "x")
    with pytest.raises(CertificateError, match="does not belong"):
        server_tls(Config(data_dir=tmp_path / "d", tls_cert=cert, tls_key=tmp_path / "b.key"))
