"""Self-signed TLS identities: made once, private from the start, checked on every start."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509

from haven.core.tlscert import CertificateError, check_pair, ensure_pair, first_dns_name, pin_of


def test_a_pair_is_made_once_with_private_files_and_reused(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    first = ensure_pair(cert, key, "haven.example.org", ("127.0.0.1",))
    for path in (cert, key):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = ensure_pair(cert, key, "other.example.org")
    assert pin_of(again) == pin_of(first)
    assert first_dns_name(again) == "haven.example.org"
    names = first.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


def test_a_missing_half_makes_a_new_pair(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    first = ensure_pair(cert, key, "localhost")
    key.unlink()
    assert pin_of(ensure_pair(cert, key, "localhost")) != pin_of(first)


def test_unusable_files_are_named(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    ensure_pair(cert, key, "localhost")
    other_cert, other_key = tmp_path / "c2.pem", tmp_path / "k2.pem"
    ensure_pair(other_cert, other_key, "localhost")
    with pytest.raises(CertificateError, match="does not belong to the certificate"):
        check_pair(cert, other_key)
    with pytest.raises(CertificateError, match="does not exist"):
        check_pair(cert, tmp_path / "nope.pem")
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(CertificateError, match="cannot read the certificate"):
        check_pair(tmp_path / "junk.pem", key)
    with pytest.raises(CertificateError, match="cannot read the key file"):
        check_pair(cert, tmp_path / "junk.pem")
