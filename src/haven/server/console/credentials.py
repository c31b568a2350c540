"""Console passwords (Argon2id, stored as PHC strings) and TOTP second factors (RFC 6238),
both from pyca/cryptography. Hashing is deliberately slow: callers in the event loop run
it in a thread (`asyncio.to_thread`)."""

from __future__ import annotations

import functools
import os

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from haven.core import argon2, limits

# RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes).
ARGON2_MEMORY_KIB = 64 * 1024
ARGON2_ITERATIONS = 3
ARGON2_LANES = 4
TOTP_DIGITS = 6
TOTP_STEP_SECONDS = 30
TOTP_SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends
TOTP_ISSUER = "Haven"


class PasswordRejected(ValueError):
    """A new password breaks a rule; the message says which."""


def check_new_password(password: str) -> None:
    if len(password) < limits.CONSOLE_MIN_PASSWORD_CHARS:
        raise PasswordRejected(
            f"a console password has at least {limits.CONSOLE_MIN_PASSWORD_CHARS} characters"
        )
    if len(password) > limits.CONSOLE_MAX_PASSWORD_CHARS:
        raise PasswordRejected(
            f"a console password has at most {limits.CONSOLE_MAX_PASSWORD_CHARS} characters"
        )


def hash_password(password: str) -> str:
    return argon2.derive_phc_encoded(
        password.encode("utf-8"), salt=os.urandom(16), iterations=ARGON2_ITERATIONS,
        lanes=ARGON2_LANES, memory_kib=ARGON2_MEMORY_KIB,
    )  # fmt: skip


@functools.cache
def _decoy_hash() -> str:
    """Checked when the name is unknown, so a wrong name costs as long as a wrong password."""
    return hash_password(os.urandom(16).hex())


def password_matches(password: str, stored: str | None) -> bool:
    """Constant work whether or not there is a stored hash (the comparison inside
    `verify_phc_encoded` is constant-time)."""
    if len(password) > limits.CONSOLE_MAX_PASSWORD_CHARS:
        password = password[: limits.CONSOLE_MAX_PASSWORD_CHARS]
    try:
        argon2.verify_phc_encoded(password.encode("utf-8"), stored or _decoy_hash())
    except (InvalidKey, ValueError):
        return False
    return stored is not None


def new_totp_secret() -> bytes:
    return os.urandom(TOTP_SECRET_BYTES)


def _totp(secret: bytes) -> TOTP:
    return TOTP(secret, TOTP_DIGITS, SHA1(), TOTP_STEP_SECONDS)  # noqa: S303 - RFC 6238's default; authenticator apps expect it


def totp_uri(secret: bytes, account_name: str) -> str:
    """The otpauth:// URI an authenticator app scans."""
    return _totp(secret).get_provisioning_uri(account_name, TOTP_ISSUER)


def totp_code(secret: bytes, at_seconds: float) -> str:
    return _totp(secret).generate(int(at_seconds)).decode("ascii")


def totp_step(secret: bytes, code: str, at_seconds: float) -> int | None:
    """The time step `code` is valid for, allowing one step of clock drift either way;
    None if it is not valid now."""
    code = code.strip().replace(" ", "")
    if len(code) != TOTP_DIGITS or not code.isascii() or not code.isdigit():
        return None
    now_step = int(at_seconds) // TOTP_STEP_SECONDS
    totp = _totp(secret)
    for step in (now_step, now_step - 1, now_step + 1):
        try:
            totp.verify(code.encode("ascii"), step * TOTP_STEP_SECONDS)
        except InvalidToken:
            continue
        return step
    return None
