"""Verifying that a contact's keys are really theirs.

- Safety numbers: Signal's numeric fingerprint construction (iterated SHA-512 over a version,
  the identity keys and the account id, 5200 rounds, 30 digits per side), computed over every
  device key of each account. Both sides compute the same 60 digits: compare them in person
  or over another channel.
- SAS (short authentication strings): vodozemac's X25519 exchange, shown as the 7 emoji of
  the Matrix specification's table, for comparing on two screens side by side.
"""

from __future__ import annotations

import vodozemac
from cryptography.hazmat.primitives import hashes

from haven.core import b64
from haven.crypto.errors import BadSignature

FINGERPRINT_VERSION = b"\x00\x00"
ITERATIONS = 5200

# The Matrix specification's SAS emoji table (index -> emoji, name).
EMOJI: tuple[tuple[str, str], ...] = (
    ("🐶", "Dog"), ("🐱", "Cat"), ("🦁", "Lion"), ("🐎", "Horse"), ("🦄", "Unicorn"),
    ("🐷", "Pig"), ("🐘", "Elephant"), ("🐰", "Rabbit"), ("🐼", "Panda"), ("🐓", "Rooster"),
    ("🐧", "Penguin"), ("🐢", "Turtle"), ("🐟", "Fish"), ("🐙", "Octopus"), ("🦋", "Butterfly"),
    ("🌷", "Flower"), ("🌳", "Tree"), ("🌵", "Cactus"), ("🍄", "Mushroom"), ("🌏", "Globe"),
    ("🌙", "Moon"), ("☁️", "Cloud"), ("🔥", "Fire"), ("🍌", "Banana"), ("🍎", "Apple"),
    ("🍓", "Strawberry"), ("🌽", "Corn"), ("🍕", "Pizza"), ("🎂", "Cake"), ("❤️", "Heart"),
    ("😀", "Smiley"), ("🤖", "Robot"), ("🎩", "Hat"), ("👓", "Glasses"), ("🔧", "Spanner"),
    ("🎅", "Santa"), ("👍", "Thumbs Up"), ("☂️", "Umbrella"), ("⌛", "Hourglass"), ("⏰", "Clock"),
    ("🎁", "Gift"), ("💡", "Light Bulb"), ("📕", "Book"), ("✏️", "Pencil"), ("📎", "Paperclip"),
    ("✂️", "Scissors"), ("🔒", "Lock"), ("🔑", "Key"), ("🔨", "Hammer"), ("☎️", "Telephone"),
    ("🏁", "Flag"), ("🚂", "Train"), ("🚲", "Bicycle"), ("✈️", "Aeroplane"), ("🚀", "Rocket"),
    ("🏆", "Trophy"), ("⚽", "Ball"), ("🎸", "Guitar"), ("🎺", "Trumpet"), ("🔔", "Bell"),
    ("⚓", "Anchor"), ("🎧", "Headphones"), ("📁", "Folder"), ("📌", "Pin"),
)  # fmt: skip


def _fingerprint(account_id: str, ed25519_keys: list[str]) -> str:
    keys = b"".join(b64.decode(k) for k in sorted(ed25519_keys))
    digest = FINGERPRINT_VERSION + keys + account_id.encode()
    for _ in range(ITERATIONS):
        h = hashes.Hash(hashes.SHA512())
        h.update(digest + keys)
        digest = h.finalize()
    chunks = (int.from_bytes(digest[i : i + 5], "big") % 100_000 for i in range(0, 30, 5))
    return "".join(f"{chunk:05d}" for chunk in chunks)


def safety_number(
    my_account: str, my_keys: list[str], their_account: str, their_keys: list[str]
) -> str:
    """60 digits in 12 groups of 5, the same on both sides."""
    sides = sorted([_fingerprint(my_account, my_keys), _fingerprint(their_account, their_keys)])
    digits = "".join(sides)
    return " ".join(digits[i : i + 5] for i in range(0, 60, 5))


class Sas:
    """One side of a short-authentication-string comparison."""

    def __init__(self) -> None:
        self._sas = vodozemac.Sas()
        self._established: vodozemac.EstablishedSas | None = None

    @property
    def public_key(self) -> str:
        key: str = self._sas.public_key.to_base64()
        return key

    def establish(self, their_public_key: str) -> None:
        try:
            self._established = self._sas.diffie_hellman(
                vodozemac.Curve25519PublicKey.from_base64(their_public_key)
            )
        except (vodozemac.KeyException, vodozemac.SasException) as exc:
            raise BadSignature(f"unusable verification key: {exc}") from None

    def _ready(self) -> vodozemac.EstablishedSas:
        if self._established is None:
            raise RuntimeError("establish() the shared secret first")
        return self._established

    def emoji(self, info: str) -> list[tuple[str, str]]:
        """Seven emoji; `info` must name both sides and the exchange, identically on both."""
        return [EMOJI[i] for i in self._ready().bytes(info).emoji_indices]

    def mac(self, value: str, info: str) -> str:
        mac: str = self._ready().calculate_mac(value, info)
        return mac

    def check_mac(self, value: str, info: str, mac: str) -> None:
        try:
            self._ready().verify_mac(value, info, mac)
        except vodozemac.SasException:
            raise BadSignature("the other side's keys do not match what it showed") from None
