"""An operator's link test: is this URL on the block list the server hands clients, and
why? Unlike a client's check (hash prefixes first, so the server never learns the link),
the operator typed the link into their own server, so it is looked up directly: the same
expressions and full hashes a client computes, against the current list version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from haven.core import limits
from haven.linkguard.building import ensure_current
from haven.linkguard.canonical import canonicalize, url_expressions
from haven.linkguard.lookalike import LookalikeGuard
from haven.linkguard.prefixes import expression_hash
from haven.store.interfaces import LinkguardMatch
from haven.store.stores import Stores

Status = Literal["clean", "blocked", "invalid"]
_CHECKED_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class UrlCheck:
    url: str
    status: Status
    reason: str
    list_version: int
    canonical: str = ""
    matches: tuple[LinkguardMatch, ...] = ()  # the listed expressions it hit, with their intel
    lookalike: str | None = None  # the well-known name the host imitates, if any


async def check_url(stores: Stores, url: str) -> UrlCheck:
    """The verdict clients would reach for `url` with the current list (never raises for
    bad input: a defined verdict)."""
    current = await ensure_current(stores)
    shown = url[:500]
    if len(url) > limits.MAX_LINK_CHARS:
        return UrlCheck(shown, "invalid", "longer than a link can be", current.version)
    canonical = canonicalize(url)
    scheme = canonical.split("://", 1)[0] if "://" in canonical else ""
    if not canonical or scheme not in _CHECKED_SCHEMES:
        return UrlCheck(
            shown, "invalid", "not a web link (only http and https are checked)", current.version
        )
    imitated = LookalikeGuard().check(urlsplit(canonical).hostname or "")
    lookalike = None if imitated is None else imitated.imitates
    hits: list[LinkguardMatch] = []
    for expression in url_expressions(url):
        full = expression_hash(expression)
        for match in await stores.linkguard.matches(full[: limits.LINK_PREFIX_MIN_BYTES]):
            if match.full_hash == full:
                hits.append(match)
    if not hits:
        return UrlCheck(shown, "clean", "not on the block list", current.version, canonical,
                        lookalike=lookalike)  # fmt: skip
    listed = ", ".join(m.expression for m in hits[:3])
    return UrlCheck(
        shown, "blocked", f"listed as {listed}", current.version, canonical, tuple(hits),
        lookalike,
    )  # fmt: skip
