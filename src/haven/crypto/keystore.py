"""Files encrypted under a passphrase: Argon2id (RFC 9106) derives the key, AES-256-GCM
seals the content; the KDF parameters and salt travel in the authenticated header.

Writes are atomic (temporary file, fsync, rename), so a crash or a wrong passphrase never
leaves a half-written or overwritten file behind.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from haven.core import argon2
from haven.crypto.errors import CryptoError, WrongPassphrase

MAGIC = b"HAVEN-KS1\n"
_NONCE_BYTES = 12


@dataclass(frozen=True)
class KdfParams:
    """RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes)."""

    memory_kib: int = 64 * 1024
    iterations: int = 3
    lanes: int = 4

    @classmethod
    def from_header(cls, raw: object) -> KdfParams:
        """Parameters read from a file are bounded: a doctored header must not be able to
        make unlocking take gigabytes or hours."""
        if not isinstance(raw, dict) or set(raw) != {"memory_kib", "iterations", "lanes"}:
            raise CryptoError("damaged keystore header")
        values = {k: raw[k] for k in ("memory_kib", "iterations", "lanes")}
        if not all(isinstance(v, int) for v in values.values()):
            raise CryptoError("damaged keystore header")
        if not (
            8 * 1024 <= values["memory_kib"] <= 1024 * 1024
            and 1 <= values["iterations"] <= 16
            and 1 <= values["lanes"] <= 16
        ):
            raise CryptoError("keystore parameters out of range")
        return cls(**values)

    def derive(self, passphrase: str, salt: bytes) -> bytes:
        return argon2.derive(
            passphrase.encode("utf-8"), salt=salt, iterations=self.iterations,
            lanes=self.lanes, memory_kib=self.memory_kib,
        )  # fmt: skip


class SealedKey:
    """The key derived from a passphrase for one profile, so it is derived once per run."""

    def __init__(self, key: bytes, salt: bytes, params: KdfParams) -> None:
        self._aead = AESGCM(key)
        self.salt = salt
        self.params = params

    @classmethod
    def create(cls, passphrase: str, params: KdfParams | None = None) -> SealedKey:
        chosen = params or KdfParams()
        salt = secrets.token_bytes(16)
        return cls(chosen.derive(passphrase, salt), salt, chosen)

    @classmethod
    def unlock(cls, passphrase: str, sample: Path) -> SealedKey:
        """Derive the key for an existing profile from the header of one of its files, and
        prove it right by opening that file."""
        header, _, _ = _split(sample.read_bytes())
        params = KdfParams.from_header(header["kdf"])
        salt = bytes.fromhex(str(header["salt"]))
        key = cls(params.derive(passphrase, salt), salt, params)
        key.read(sample)
        return key

    def seal(self, plaintext: bytes) -> bytes:
        header = json.dumps(
            {"kdf": dataclasses.asdict(self.params), "salt": self.salt.hex()}, sort_keys=True
        ).encode()
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, MAGIC + header)
        return MAGIC + len(header).to_bytes(4, "big") + header + nonce + sealed

    def open(self, blob: bytes) -> bytes:
        header, raw_header, rest = _split(blob)
        if header["salt"] != self.salt.hex():
            raise CryptoError("this file belongs to another profile")
        nonce, sealed = rest[:_NONCE_BYTES], rest[_NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, sealed, MAGIC + raw_header)
        except InvalidTag:
            raise WrongPassphrase from None

    def write(self, path: Path, plaintext: bytes) -> None:
        atomic_write(path, self.seal(plaintext))

    def read(self, path: Path) -> bytes:
        return self.open(path.read_bytes())


def _split(blob: bytes) -> tuple[dict[str, Any], bytes, bytes]:
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 4:
        raise CryptoError("not a Haven keystore file")
    offset = len(MAGIC)
    length = int.from_bytes(blob[offset : offset + 4], "big")
    raw_header = blob[offset + 4 : offset + 4 + length]
    try:
        header = json.loads(raw_header)
    except ValueError:
        raise CryptoError("damaged keystore header") from None
    if not isinstance(header, dict) or "salt" not in header or "kdf" not in header:
        raise CryptoError("damaged keystore header")
    return header, raw_header, blob[offset + 4 + length :]


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves either the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
