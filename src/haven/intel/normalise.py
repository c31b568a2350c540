"""From whatever a report wrote to one canonical indicator, or a reason it is not one.

Real files defang (`evil[.]com`, `hxxps://`, `user[at]mail`), carry zero-width and
non-breaking characters, notes and prose in indicator columns, trailing dots, mixed case and
Unicode domain names. The rules here are the single place those are undone. Two invariants
the tests hold it to: normalising is idempotent, and a URL indicator stays a URL (blocking
`drive.google.com/d/...` must never block Google Drive).
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

import idna

from haven.intel import psl


class Kind(StrEnum):
    DOMAIN = "domain"
    URL = "url"
    IPV4 = "ipv4"
    IPV6 = "ipv6"
    EMAIL = "email"
    SHA256 = "sha256"
    SHA1 = "sha1"
    MD5 = "md5"
    FILENAME = "filename"
    PROCESS = "process"
    APP_ID = "app-id"


class Indicator(NamedTuple):  # a NamedTuple: cheap to build, hash and sort by (kind, value)
    kind: Kind
    value: str


class Rejected(ValueError):
    """Not an indicator; `reason` says why (shown in the import's rejected-lines report)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


MAX_LENGTH = 2048
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = dict.fromkeys(map(ord, "\u00a0\u202f\u2007\u3000\t"), " ")
_DEFANGS = [
    (re.compile(r"^hxxp(s?)", re.IGNORECASE), r"http\1"),
    (re.compile(r"^h\[tt\]p(s?)", re.IGNORECASE), r"http\1"),
    (re.compile(r"^fxp", re.IGNORECASE), "ftp"),
    (re.compile(r"\[:\]//|\[://\]|:\[//\]"), "://"),
    (re.compile(r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\\\.", re.IGNORECASE), "."),
    (re.compile(r"\[:\]"), ":"),
    (re.compile(r"\[at\]|\(at\)|\[@\]|\{at\}", re.IGNORECASE), "@"),
]
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_HASH_KINDS = {64: Kind.SHA256, 40: Kind.SHA1, 32: Kind.MD5}
# A bundle or package name (com.example.app), or an App Store id (digits).
_APP_ID = re.compile(r"^([A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+|\d{6,12})$")
_URL_PREFIXES = ("http://", "https://", "ftp://")
_HOST = re.compile(r"^(?:(?!-)[a-z0-9-]{1,63}(?<!-)\.)+(?!-)[a-z0-9-]{1,63}(?<!-)$")


def clean(text: str) -> str:
    """Drop invisible characters, make odd spaces plain, trim; a value broken across lines
    (a cell with an embedded newline) is joined back without a gap."""
    if text.isascii() and text.isprintable():  # the common case: nothing to translate
        return text.strip().strip("`'\"<>").strip()
    flat = text.translate(_INVISIBLE).translate(_SPACES)
    flat = "".join(part.strip() for part in flat.splitlines())
    return flat.strip().strip("`'\"<>").strip()


_DEFANG_MARKS = re.compile(r"[\[\({\\]|^(hxxp|h\[tt\]p|fxp)", re.IGNORECASE)


def refang(text: str) -> str:
    if not _DEFANG_MARKS.search(text):
        return text  # most values carry no defanging: skip the substitutions
    for pattern, replacement in _DEFANGS:
        text = pattern.sub(replacement, text)
    return text


# Hints under which a plain domain name stays a domain (see _compatible).
_DOMAIN_HINTS = frozenset({None, Kind.DOMAIN, Kind.URL, Kind.IPV4, Kind.IPV6})


def normalise(raw: str, hint: Kind | None = None) -> Indicator:
    """The canonical indicator for `raw`; `hint` is the type the source column declared."""
    # Most published indicators are already-clean lower-case domain names: the full path
    # below would give the same answer, only slower.
    if (
        hint in _DOMAIN_HINTS
        and _HOST.match(raw)
        and len(raw) <= 253
        and raw[raw.rfind(".") + 1 :] in psl.top_level_domains()
    ):
        return Indicator(Kind.DOMAIN, raw)
    text = refang(clean(raw))
    if not text:
        raise Rejected("empty")
    if len(text) > MAX_LENGTH:
        raise Rejected(f"longer than {MAX_LENGTH} characters")
    if hint in (Kind.FILENAME, Kind.PROCESS):
        return Indicator(hint, text)
    if hint is Kind.APP_ID:
        if not _APP_ID.match(text):
            raise Rejected("not an app id")
        return Indicator(hint, text)
    if " " in text:
        raise Rejected("prose or a note, not an indicator")
    found = _detect(text)
    if hint is not None and hint is not found.kind and not _compatible(hint, found.kind):
        raise Rejected(f"declared {hint.value} but looks like {found.kind.value}")
    return found


def _compatible(hint: Kind, found: Kind) -> bool:
    # Sources call URLs "domains" and the reverse; the value decides, never widening a URL.
    # An address listed among domains is an address: either way nothing is widened.
    return {hint, found} <= {Kind.DOMAIN, Kind.URL} or {hint, found} <= {
        Kind.IPV4,
        Kind.IPV6,
        Kind.DOMAIN,
    }


def _detect(text: str) -> Indicator:
    if _HEX.match(text) and len(text) in _HASH_KINDS:
        return Indicator(_HASH_KINDS[len(text)], text.lower())
    address = _ip(text)
    if address is not None:
        return address
    lowered = text.lower()
    if lowered.startswith(_URL_PREFIXES):
        return Indicator(Kind.URL, _url(text))
    if "@" in text and "/" not in text:
        local, _, domain = text.rpartition("@")
        if not local or any(c.isspace() for c in local):
            raise Rejected("not an email address")
        return Indicator(Kind.EMAIL, f"{local}@{_domain(domain)}")
    if "/" in text:
        # A host with a path but no scheme is still a URL: keep every character of the path.
        return Indicator(Kind.URL, _url("http://" + text))
    return Indicator(Kind.DOMAIN, _domain(text))


_MAYBE_IP = re.compile(r"^\[?[0-9a-fA-F:.]+\]?$")


def _ip(text: str) -> Indicator | None:
    if not _MAYBE_IP.match(text) or ("." not in text and ":" not in text):
        return None  # most values are names: skip the exception-driven parse
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    kind = Kind.IPV4 if address.version == 4 else Kind.IPV6
    return Indicator(kind, address.compressed)


def _domain(text: str) -> str:
    host = text.strip().rstrip(".").lower()
    if not host or "." not in host:
        raise Rejected("not a domain name (no dot)")
    if host.isascii():
        ascii_host = host  # already A-labels (or plain ASCII): the LDH check below decides
    else:
        try:
            ascii_host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise Rejected(f"not a valid domain name: {exc}") from None
    if len(ascii_host) > 253 or not _HOST.match(ascii_host):
        raise Rejected("not a valid domain name")
    tld = ascii_host.rsplit(".", 1)[-1]
    if tld not in psl.top_level_domains():
        raise Rejected(f"unknown top-level domain .{tld}")
    return ascii_host


def _url(text: str) -> str:
    try:
        parts = urlsplit(text)
    except ValueError:
        raise Rejected("not a valid URL") from None
    host = parts.hostname or ""
    address = _ip(host)
    canonical_host = address.value if address else _domain(host)
    if address and address.kind is Kind.IPV6:
        canonical_host = f"[{canonical_host}]"
    netloc = canonical_host if parts.port is None else f"{canonical_host}:{parts.port}"
    # Scheme and host are case-insensitive; path and query are not, and are kept exactly.
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))
