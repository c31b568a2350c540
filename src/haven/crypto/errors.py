"""Failures the client shows a person, each with a sentence that says what happened."""

from __future__ import annotations


class CryptoError(Exception):
    """Something cryptographic failed; the message is safe to show."""


class WrongPassphrase(CryptoError):
    def __init__(self) -> None:
        super().__init__("wrong passphrase (or the file was altered): nothing was changed")


class DecryptionFailed(CryptoError):
    """A message could not be decrypted or authenticated: show a marker, never the bytes."""


class ReplayedMessage(DecryptionFailed):
    """A message that was already decrypted once arrived again."""


class BadSignature(CryptoError):
    """A signature did not verify against the key it claims."""


class IntegrityError(CryptoError):
    """Data did not match the digest or commitment that came with it."""
