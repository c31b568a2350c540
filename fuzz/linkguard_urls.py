"""URL canonicalisation for link checks (`haven.linkguard.canonicalize`, `url_expressions`).

Every link in every message a device sends or shows goes through these, so they are the
part of link blocking a hostile sender controls completely. Their documented contract
(haven/linkguard/canonical.py): nothing raises on any `str`; `canonicalize` is idempotent,
ASCII, at most `MAX_URL_LENGTH` characters; `url_expressions` gives at most 30 distinct
expressions, the same for a URL and its canonical form, the first being the canonical URL
without its scheme. Bytes are read as the module reads them: UTF-8, with the bytes that are
not UTF-8 kept as lone surrogates (`surrogateescape`).
"""

from __future__ import annotations

from haven.linkguard import MAX_URL_LENGTH, canonicalize, url_expressions

MAX_EXPRESSIONS = 30


def TestOneInput(data: bytes) -> None:
    url = data.decode("utf-8", "surrogateescape")
    canonical = canonicalize(url)
    assert canonical.isascii()
    assert len(canonical) <= MAX_URL_LENGTH
    assert canonicalize(canonical) == canonical, "canonicalize is not idempotent"
    expressions = url_expressions(url)
    assert len(expressions) <= MAX_EXPRESSIONS
    assert len(set(expressions)) == len(expressions)
    assert url_expressions(canonical) == expressions
    if expressions:
        assert canonical.split("://", 1)[1] == expressions[0]
