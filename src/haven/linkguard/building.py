"""The block list, built from intel: a domain indicator lists its host expression
(`evil.example/`, which every URL on that host or below it expands to); a URL indicator
lists exactly its own host+path expression and never its bare domain, so a report about
one file on `drive.google.com` blocks that file, not Google Drive. The operator's allowlist
overrides both; indicators only TLP:RED sources vouch for are not shipped to clients."""

from __future__ import annotations

import re

from haven.core import clock
from haven.linkguard.canonical import url_expressions
from haven.linkguard.prefixes import expression_hash
from haven.store.interfaces import BlockableIndicator, LinkguardEntry, LinkguardVersion
from haven.store.stores import Stores

_REBUILD_ATTEMPTS = 3


def expression_of(kind: str, value: str) -> str | None:
    """The one expression an indicator (or an allowlist entry) lists, or None if it
    names nothing a link check can match."""
    if kind == "domain":
        expressions = url_expressions(f"http://{value}/")
    elif kind == "url":
        expressions = url_expressions(value)
    else:
        return None
    return expressions[0] if expressions else None


_HOSTNAME = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}|\d{1,3}(?:\.\d{1,3}){3}"
)


def expression_for_input(text: str) -> str | None:
    """What an operator typed (a domain or a URL) as the expression it lists, or None
    when it names no host."""
    text = text.strip()
    if not text or any(c.isspace() for c in text):
        return None
    expression = expression_of("url" if "/" in text or ":" in text else "domain", text)
    if expression is None or not _HOSTNAME.fullmatch(expression.split("/", 1)[0]):
        return None
    return expression


def wanted_entries(
    indicators: list[BlockableIndicator], allowed: set[str]
) -> dict[bytes, LinkguardEntry]:
    behind: dict[str, list[int]] = {}
    for indicator in indicators:
        if indicator.tlps == {"red"}:
            continue  # TLP:RED stays with its named recipients, never on user devices
        expression = expression_of(indicator.kind, indicator.value)
        if expression is not None and expression not in allowed:
            behind.setdefault(expression, []).append(indicator.indicator_id)
    entries = {}
    for expression, ids in behind.items():
        full_hash = expression_hash(expression)
        entries[full_hash] = LinkguardEntry(full_hash, expression, tuple(sorted(ids)))
    return entries


async def rebuild(stores: Stores, now: int | None = None) -> LinkguardVersion:
    """Bring the list in line with the intel and the allowlist, as one new version."""
    for _ in range(_REBUILD_ATTEMPTS):
        current = await stores.linkguard.current()
        intel_version = await stores.intel.version()
        allowed = {entry.expression for entry in await stores.linkguard.allowlist()}
        wanted = wanted_entries(await stores.intel.blockable(), allowed)
        have = await stores.linkguard.active_entries()
        added = [entry for full_hash, entry in wanted.items() if full_hash not in have]
        removed = [full_hash for full_hash in have if full_hash not in wanted]
        changed = [
            entry
            for full_hash, entry in wanted.items()
            if full_hash in have and have[full_hash] != entry.indicator_ids
        ]
        built = await stores.linkguard.record(
            current.version if current else 0,
            intel_version,
            added,
            removed,
            changed,
            clock.now_ms() if now is None else now,
        )
        if built is not None:
            return built
    # Other builders kept winning: theirs is as current as ours would have been.
    latest = await stores.linkguard.current()
    if latest is None:  # record() only loses to a version that committed
        raise RuntimeError("the link list could not be built")
    return latest


async def ensure_current(stores: Stores) -> LinkguardVersion:
    """The current list, rebuilt first if intel changed since it was built (imports run
    from the CLI straight into the database, not through a server)."""
    current = await stores.linkguard.current()
    if current is not None and current.intel_version >= await stores.intel.version():
        return current
    return await rebuild(stores)
