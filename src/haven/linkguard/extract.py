"""Links in message text, found the way a chat app would make them clickable: with
linkify-it (the link finder markdown-it uses), which handles bare domains, Unicode and
punycode hosts and trailing punctuation. Its list of top-level domains is replaced by the
Public Suffix List's, so `2y4nothing.xyz` is a link and `report.pdf` is not (`.zip` and
`.mov`, sadly, are top-level domains too)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import publicsuffixlist
from linkify_it import LinkifyIt  # type: ignore[import-untyped]

from haven.core import limits


@functools.cache
def _tlds() -> list[str]:
    data = Path(publicsuffixlist.__file__).with_name("public_suffix_list.dat")
    found: set[str] = set()
    for line in data.read_text(encoding="utf-8").splitlines():
        rule = line.strip().lstrip("!*.")
        if rule and not rule.startswith("//"):
            found.add(rule.rsplit(".", 1)[-1])
    return sorted(found)


@functools.cache
def _finder() -> Any:
    return LinkifyIt().tlds(_tlds())


def find_links(text: str) -> list[str]:
    """The links in `text`, in order, as written (without a `mailto:` scheme's addresses:
    an e-mail address is not a link to check)."""
    try:
        matches = _finder().match(text) or []
    except (ValueError, RecursionError, UnicodeError):
        return []  # a finder failure must never stop a message; the text is still checked
    links = [m.raw for m in matches if m.schema != "mailto:"]
    return links[: limits.MAX_LINKS_PER_MESSAGE]
