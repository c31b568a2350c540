from __future__ import annotations

from pathlib import Path

import pytest

from haven.crypto.errors import CryptoError, WrongPassphrase
from haven.crypto.keystore import MAGIC, KdfParams, SealedKey

FAST = KdfParams(
    memory_kib=8 * 1024, iterations=1, lanes=1
)  # tests only: real profiles use defaults


def test_sealed_file_round_trips_and_reveals_nothing(tmp_path: Path) -> None:
    key = SealedKey.create("correct horse battery staple", FAST)
    path = tmp_path / "state.bin"
    key.write(path, b"the secret plan")
    assert b"secret plan" not in path.read_bytes()
    assert key.read(path) == b"the secret plan"
    assert SealedKey.unlock("correct horse battery staple", path).read(path) == b"the secret plan"


def test_wrong_passphrase_is_a_clear_error_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.bin"
    SealedKey.create("right", FAST).write(path, b"data")
    before = path.read_bytes()
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        SealedKey.unlock("wrong", path)
    assert path.read_bytes() == before


def test_tampering_is_detected(tmp_path: Path) -> None:
    key = SealedKey.create("pw", FAST)
    blob = bytearray(key.seal(b"data"))
    blob[-1] ^= 1
    with pytest.raises(WrongPassphrase):
        key.open(bytes(blob))


def test_doctored_kdf_parameters_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.bin"
    SealedKey.create("pw", FAST).write(path, b"data")
    raw = path.read_bytes()
    length = int.from_bytes(raw[len(MAGIC) : len(MAGIC) + 4], "big")
    header = raw[len(MAGIC) + 4 : len(MAGIC) + 4 + length]
    doctored = header.replace(b'"memory_kib": 8192', b'"memory_kib": 99999999')
    rest = raw[len(MAGIC) + 4 + length :]
    path.write_bytes(MAGIC + len(doctored).to_bytes(4, "big") + doctored + rest)
    with pytest.raises(CryptoError, match="out of range"):
        SealedKey.unlock("pw", path)


def test_not_a_keystore(tmp_path: Path) -> None:
    path = tmp_path / "junk"
    path.write_bytes(b"hello")
    with pytest.raises(CryptoError, match="not a Haven keystore"):
        SealedKey.unlock("pw", path)


def test_a_file_of_another_profile_is_refused(tmp_path: Path) -> None:
    other = SealedKey.create("pw", FAST).seal(b"x")
    with pytest.raises(CryptoError, match="another profile"):
        SealedKey.create("pw", FAST).open(other)


def test_default_parameters_follow_rfc_9106() -> None:
    assert KdfParams() == KdfParams(memory_kib=65536, iterations=3, lanes=4)
