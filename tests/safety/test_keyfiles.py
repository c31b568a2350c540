from __future__ import annotations

from pathlib import Path

import pytest

from haven.safety import keyfiles


def test_keys_are_made_private_and_then_reused(tmp_path: Path) -> None:
    key, made = keyfiles.signing_key(tmp_path / "sign.key")
    assert made
    assert (tmp_path / "sign.key").stat().st_mode & 0o777 == 0o600
    again, made_again = keyfiles.signing_key(tmp_path / "sign.key")
    assert not made_again
    assert again.private_bytes_raw() == key.private_bytes_raw()
    secret = keyfiles.secret_key(tmp_path / "mac.key")
    assert keyfiles.secret_key(tmp_path / "mac.key") == secret
    assert len(secret) == 32


def test_readable_or_damaged_key_files_are_refused(tmp_path: Path) -> None:
    keyfiles.signing_key(tmp_path / "sign.key")
    (tmp_path / "sign.key").chmod(0o640)
    with pytest.raises(keyfiles.KeyFileError, match="readable by other users"):
        keyfiles.signing_key(tmp_path / "sign.key")
    short = tmp_path / "short.key"
    short.write_bytes(b"too short")
    short.chmod(0o600)
    with pytest.raises(keyfiles.KeyFileError, match="not an Ed25519 key"):
        keyfiles.signing_key(short)
    with pytest.raises(keyfiles.KeyFileError, match="not a 32-byte key"):
        keyfiles.secret_key(short)
