"""Link checks on the client: Safe Browsing style URL canonicalisation, hash prefixes and
prefix-list diffs.

Follows Google Safe Browsing v4 "URLs and Hashing"
(https://developers.google.com/safe-browsing/v4/urls-hashing): a URL is canonicalised, expanded
into at most 30 host-suffix/path-prefix expressions, each expression is hashed with SHA-256,
and the first four bytes of each hash are looked up in a local `PrefixSet`. Only on a hit does
a client ask the server for the full hashes behind that prefix, so the server never learns
the link. Lists are shipped and updated as Rice-Golomb coded deltas (`haven.linkguard.rice`).
"""

from __future__ import annotations

from haven.linkguard.canonical import MAX_URL_LENGTH, canonicalize, url_expressions
from haven.linkguard.prefixes import (
    PREFIX_BYTES,
    PrefixSet,
    expression_hash,
    prefix_checksum,
    url_hashes,
)
from haven.linkguard.rice import (
    ChecksumMismatch,
    PrefixDiff,
    RiceDeltas,
    RiceError,
    apply,
    decode,
    diff,
    encode,
)

__all__ = [
    "MAX_URL_LENGTH",
    "PREFIX_BYTES",
    "ChecksumMismatch",
    "PrefixDiff",
    "PrefixSet",
    "RiceDeltas",
    "RiceError",
    "apply",
    "canonicalize",
    "decode",
    "diff",
    "encode",
    "expression_hash",
    "prefix_checksum",
    "url_expressions",
    "url_hashes",
]
