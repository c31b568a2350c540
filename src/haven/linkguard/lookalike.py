"""Warn (never block) when a link's host imitates a protected name with look-alike
characters: `paypal.com` with a Cyrillic `a` (U+0430) in it, `google.com` with Cyrillic
`o`s, `signaI.org` with a capital I.

Each character is replaced by the character Unicode's confusables data (confusables.txt,
as packaged by confusable-homoglyphs) says it is confused with, giving a "skeleton" as in
Unicode TS #39; a host whose registrable domain has the same skeleton as a protected name
but is not that name is a look-alike.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

import idna
import publicsuffixlist
from confusable_homoglyphs import confusables  # type: ignore[import-untyped]

# Services people are most often phished for; the operator's own domain is added by the
# caller (the client knows its server).
COMMON_NAMES = (
    "accessnow.org", "amazon.com", "amnesty.org", "apple.com", "citizenlab.ca",
    "dropbox.com", "facebook.com", "github.com", "gmail.com", "google.com", "icloud.com",
    "instagram.com", "linkedin.com", "live.com", "microsoft.com", "outlook.com",
    "paypal.com", "proton.me", "protonmail.com", "riseup.net", "signal.org",
    "telegram.org", "tutanota.com", "twitter.com", "whatsapp.com", "wikipedia.org",
    "x.com", "youtube.com",
)  # fmt: skip


@dataclass(frozen=True)
class Lookalike:
    host: str
    imitates: str


@functools.cache
def _suffixes() -> publicsuffixlist.PublicSuffixList:
    return publicsuffixlist.PublicSuffixList()


@functools.cache
def _prototype(character: str) -> str:
    if character.isascii():
        return character
    for glyph in confusables.confusables_data.get(character, ()):
        candidate = str(glyph["c"]).casefold()
        if candidate.isascii():
            return candidate
    return character


def skeleton(text: str) -> str:
    """`text` with every character replaced by its ASCII look-alike where it has one."""
    folded = text.casefold()
    mapped = "".join(_prototype(c) for c in folded)
    # Digits and letters people misread for each other once the script is plain ASCII.
    return mapped.translate(_ASCII_CONFUSIONS)


_ASCII_CONFUSIONS = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l"})


def _unicode_host(host: str) -> str:
    try:
        return idna.decode(host)
    except (idna.IDNAError, UnicodeError, ValueError):
        return host.casefold()


def _registrable(host: str) -> str:
    found = _suffixes().privatesuffix(host)
    return str(found) if found else host


class LookalikeGuard:
    def __init__(self, protected: Iterable[str] = COMMON_NAMES) -> None:
        names = {_registrable(name.strip(".").casefold()) for name in protected if name}
        self._by_skeleton: dict[str, str] = {}
        for name in sorted(names):
            self._by_skeleton.setdefault(skeleton(_unicode_host(name)), name)
        self._protected = names

    def check(self, host: str) -> Lookalike | None:
        """The protected name `host` imitates, or None (also for the real thing)."""
        if not host or len(host) > 253:
            return None
        readable = _unicode_host(host.strip(".").casefold())
        registrable = _registrable(readable)
        try:
            ascii_registrable = idna.encode(registrable, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            ascii_registrable = registrable
        if registrable in self._protected or ascii_registrable in self._protected:
            return None
        imitated = self._by_skeleton.get(skeleton(registrable))
        return None if imitated is None else Lookalike(host, imitated)
