"""The server's own keys, each in a file of the data directory: made on first start with
mode 0600, and refused when others can read the file (whoever holds a signing key can
forge what it vouches for: audit history, notices, the key log, delivery stamps)."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


class KeyFileError(Exception):
    """A key file cannot be used: readable by others, or not a key of the right kind."""


def _load_or_create(path: Path, make: bytes) -> tuple[bytes, bool]:
    """The file's bytes, and whether it was just made (from `make`)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(make)
        return make, True
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"{path} is readable by other users: chmod 600 it and restart")
    return path.read_bytes(), False


def signing_key(path: Path) -> tuple[Ed25519PrivateKey, bool]:
    """An Ed25519 key, and whether it was just made."""
    raw, made = _load_or_create(path, Ed25519PrivateKey.generate().private_bytes_raw())
    try:
        return Ed25519PrivateKey.from_private_bytes(raw), made
    except ValueError:
        raise KeyFileError(f"{path} is not an Ed25519 key") from None


def secret_key(path: Path, size: int = 32) -> bytes:
    raw, _ = _load_or_create(path, secrets.token_bytes(size))
    if len(raw) != size:
        raise KeyFileError(f"{path} is not a {size}-byte key")
    return raw
