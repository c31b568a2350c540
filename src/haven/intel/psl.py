"""The Public Suffix List, ICANN and private sections, from the snapshot bundled with the
`publicsuffixlist` package: no network at run time."""

from __future__ import annotations

import functools
from pathlib import Path

import publicsuffixlist


@functools.cache
def _list() -> publicsuffixlist.PublicSuffixList:
    return publicsuffixlist.PublicSuffixList()


@functools.cache
def top_level_domains() -> frozenset[str]:
    """Every TLD the list names (A-labels), so `example.notatld` can be refused."""
    data = Path(publicsuffixlist.__file__).with_name("public_suffix_list.dat")
    tlds = set()
    for line in data.read_text(encoding="utf-8").splitlines():
        rule = line.strip().lstrip("!*.")
        if rule and not rule.startswith("//"):
            tlds.add(rule.rsplit(".", 1)[-1].encode("idna").decode("ascii"))
    return frozenset(tlds)


def registrable_domain(host: str) -> str | None:
    """The part of `host` someone registered (`foo.github.io`, `bar.co.uk`), or None when
    the host is itself a public suffix."""
    found: str | None = _list().privatesuffix(host)
    return found


def snapshot_date() -> str:
    """The list's version, as the package names it (for the feed's provenance)."""
    from importlib.metadata import version

    return version("publicsuffixlist").rsplit(".", 1)[-1]
