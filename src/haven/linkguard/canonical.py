"""URL canonicalisation and suffix/prefix expressions, after Google Safe Browsing v4
"URLs and Hashing" (https://developers.google.com/safe-browsing/v4/urls-hashing).

The spec's steps, in its order: drop tab/CR/LF, trim leading and trailing whitespace, drop
the fragment, percent-unescape the whole URL until nothing changes, then split it and
normalise the host (dots, IPv4 spellings, case) and the path (dot segments, slash runs),
and finally percent-escape bytes <= 0x20, >= 0x7F, ``#`` and ``%`` with upper-case hex.
The whole URL is unescaped *before* it is split, as the spec (and Chromium's
V4ProtocolManagerUtil) do, so ``%2F``, ``%3F`` and ``%40`` become structure.

What the spec leaves open, and what this module does:

- Input is a ``str``; it is encoded as UTF-8 with ``surrogateescape``, so the lone surrogates
  U+DC80..U+DCFF stand for the raw bytes 0x80..0xFF (how Python decodes bytes that are not
  UTF-8). The spec's byte-string example ``"http://\\x01\\x80.com/"`` is therefore written
  ``"http://\\x01\\udc80.com/"`` in Python; a real U+0080 character is UTF-8 ``%C2%80``. Any
  other lone surrogate is encoded with ``surrogatepass``. Nothing raises.
- No scheme means ``http``. ``host:port`` and ``user:password@host`` without a scheme
  (``www.google.com:80/``, ``localhost:8080``) are read as an authority, not as a scheme.
- For http and https (as in browsers) any run of ``/`` or ``\\`` after ``scheme:`` is
  skipped, and ``\\`` in the path counts as ``/``. Other ``scheme://`` URLs are parsed the same
  way but only on ``/``; ``scheme:`` without ``//`` (``data:``, ``javascript:``, ``mailto:``)
  is opaque: it comes out as the lower-case scheme, ``:`` and the escaped rest.
- User info and the port are dropped (the spec's ``http://www.gotaport.com:1234/`` gives
  ``http://www.gotaport.com/``).
- IPv4 hosts in any inet_aton spelling (decimal, octal, hex, one to four parts) become a
  dotted quad; a numeric-looking host that overflows stays an ordinary host name.
  A bracketed IPv6 literal becomes its RFC 5952 form in brackets (``[::1]``), except that
  IPv4-mapped (``::ffff:a.b.c.d``) and NAT64 (``64:ff9b::a.b.c.d``) addresses become the
  IPv4 address, as the Safe Browsing v5 reference says.
- A non-ASCII host name is converted to Punycode label by label (stdlib IDNA 2003); a label
  that IDNA refuses, a host that is not UTF-8 or is over 512 bytes, is kept as bytes and
  escaped.
- A URL with no host (``""``, ``http:///``, ``http://user@/``) has no canonical form:
  ``canonicalize`` returns ``""`` and ``url_expressions`` returns ``[]``.
- Length: the result is at most ``MAX_URL_LENGTH`` (8 KiB) characters. When the input, or
  its canonical form, is longer, the path and query are dropped and only ``scheme://host/``
  is returned (computed from the first 8 KiB of the input), so the host-level expressions
  still catch a blocked domain however long the URL is padded; if there is no such short
  form, the result is ``""``.

``canonicalize`` is idempotent and never raises on any ``str``. ``url_expressions`` returns
``[]`` for anything that is not an http(s) URL with a host.
"""

from __future__ import annotations

import ipaddress
import re
from encodings import idna
from string import hexdigits
from typing import Final

MAX_URL_LENGTH: Final = 8 * 1024
"""Longest canonical URL, in characters (the canonical form is ASCII, so also bytes)."""

MAX_HOST_SUFFIXES: Final = 4
MAX_PATH_PREFIXES: Final = 4

# scheme, host, path, query (None when there is no "?"), host is an IP address.
# Host, path and query are already percent-escaped.
_Parts = tuple[str, str, str, str | None, bool]

_SPECIAL_SCHEMES: Final = frozenset({b"http", b"https"})
_CHECKED_SCHEMES: Final = frozenset({"http", "https"})
# Never a host name, even when followed by digits ("tel:5551234").
_OPAQUE_SCHEMES: Final = frozenset(
    b"about blob data file javascript mailto sms tel urn vbscript".split()
)

_OCTET: Final = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# Plain ASCII http(s) URLs skip the byte-level parser: no escapes, no whitespace, and a host
# that is either an address already in dotted-quad form or a name that does not start with
# a digit (every other IPv4 spelling does). Case, user info, a port, a trailing dot and a
# fragment are still handled here; dot segments and "//" in the path are checked after the
# match. Possessive quantifiers keep a failed match cheap.
_FAST = re.compile(
    r"(?:([Hh][Tt][Tt][Pp][Ss]?)://(?:[A-Za-z0-9\-._~!$&'()*+,;=:]*+@)?+)?+"
    r"(?:(" + _OCTET + r"(?:\." + _OCTET + r"){3})|"
    r"([A-Za-z_\-][A-Za-z0-9_\-]*+(?:\.[A-Za-z0-9_\-]++)++))\.?+"
    r"(?::[0-9]*+)?+"
    r"(/[!\"$&->@-\[\]-~]*+)?+"
    r"(?:\?([!\"$&-~]*+))?+"
    r"(?:#.*+)?+",
    re.DOTALL,
)

# How what follows "scheme:" is read.
_SPECIAL: Final = 0  # http(s) or no scheme: authority after any run of "/" or "\\"
_GENERIC: Final = 1  # "scheme://authority/path"
_OPAQUE: Final = 2  # "scheme:anything", kept as it is apart from escaping

_TAB_CR_LF: Final = b"\t\r\n"
_C0_AND_SPACE: Final = bytes(range(0x21))
_SCHEME = re.compile(rb"([A-Za-z][A-Za-z0-9+.\-]*):")
_PORT_ONLY = re.compile(rb"[0-9]*(?:[/?]|\Z)")
_USER_INFO = re.compile(rb"[^/?\\@]*@")
_SPECIAL_AUTHORITY_END = re.compile(rb"[/?\\]")
_AUTHORITY_END = re.compile(rb"[/?]")
_LDH = re.compile(rb"[a-z0-9_\-]+")
_DOT_RUNS = re.compile(rb"\.{2,}")
_IPV4 = re.compile(rb"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}")
_UNSAFE = re.compile(rb"[\x00-\x20\x7f-\xff#%]")
_IDN_DOTS: Final = {0x3002: ".", 0xFF0E: ".", 0xFF61: "."}
# A DNS name is at most 253 ASCII characters; its Unicode spelling in UTF-8 is rarely even
# twice that. Longer non-ASCII hosts are left as bytes rather than IDNA-converted, which
# bounds the time a hostile host name can cost.
_MAX_IDNA_HOST: Final = 512

_HEX_PAIRS: Final = {
    (a + b).encode(): bytes([int(a + b, 16)]) for a in hexdigits for b in hexdigits
}
_HEX_VALUE: Final = {ord(c): int(c, 16) for c in hexdigits}
_ESCAPED: Final = {byte: f"%{byte:02X}".encode() for byte in range(256)}
# Unescaping passes are cheap C-level splits; nesting deeper than this (only seen in
# hostile input such as "%252525...") is finished by the linear algorithm instead.
_UNESCAPE_PASSES: Final = 4


def canonicalize(url: str) -> str:
    """The canonical form of `url` per Safe Browsing "URLs and Hashing".

    Returns ``""`` when `url` has no host; never raises. See the module docstring for the
    choices the spec leaves open.
    """
    parsed = _parse(url)
    if isinstance(parsed, str):
        return parsed
    scheme, host, path, query, _ = parsed
    if query is None:
        return f"{scheme}://{host}{path}"
    return f"{scheme}://{host}{path}?{query}"


def url_expressions(url: str) -> list[str]:
    """The host-suffix/path-prefix expressions to hash for `url`, in the spec's order.

    Hosts: the exact host, then up to four suffixes taken from the last five labels by
    dropping the leading one, never the bare top-level domain; an IP host only exactly.
    Paths: the exact path with its query, without it, then ``/`` and up to three more
    directory prefixes, each ending in ``/``. Duplicates are dropped and no scheme is
    included, so there are at most 30. Returns ``[]`` for anything that is not an http or
    https URL with a host (opaque schemes, ``ftp://``, empty input); never raises.
    """
    parsed = _parse(url)
    if isinstance(parsed, str) or parsed[0] not in _CHECKED_SCHEMES:
        return []
    _, host, path, query, is_ip = parsed
    paths = _path_prefixes(path, query)
    return [h + p for h in _host_suffixes(host, is_ip) for p in paths]


def _host_suffixes(host: str, is_ip: bool) -> list[str]:
    hosts = [host]
    if is_ip:
        return hosts
    labels = host.split(".")
    count = len(labels)
    for start in range(max(1, count - MAX_HOST_SUFFIXES - 1), count - 1):
        hosts.append(".".join(labels[start:]))
    return hosts


def _path_prefixes(path: str, query: str | None) -> list[str]:
    paths = [path] if query is None else [f"{path}?{query}", path]
    if path == "/":
        return paths
    paths.append("/")
    prefix = "/"
    # "/a/b/c/d/e" splits (at most 4 times) into ['', 'a', 'b', 'c', 'd/e']: up to three
    # directories sit between the leading '' and the last item, which is the rest of the
    # path (a file name, '' after a trailing slash, or deeper directories).
    for directory in path.split("/", MAX_PATH_PREFIXES)[1:-1]:
        prefix = f"{prefix}{directory}/"
        if prefix != path:
            paths.append(prefix)
    return paths


def _parse(url: str) -> _Parts | str:
    """Canonical parts of `url`, or a finished string (opaque form, or "" for no host)."""
    if len(url) > MAX_URL_LENGTH:
        parsed = _parse_bytes(_encode(url[:MAX_URL_LENGTH]), truncated=True)
        return "" if isinstance(parsed, str) else _host_only(parsed)
    parsed = _parse_fast(url) or _parse_bytes(_encode(url), truncated=False)
    if isinstance(parsed, str):
        return parsed if len(parsed) <= MAX_URL_LENGTH else ""
    # Escaping (or an added "http://") can take a URL under the cap over it.
    return parsed if _length(parsed) <= MAX_URL_LENGTH else _host_only(parsed)


def _parse_fast(url: str) -> _Parts | None:
    fast = _FAST.fullmatch(url)
    if fast is None:
        return None
    scheme, address, name, path, query = fast.groups()
    if path is not None and ("//" in path or "/." in path):
        return None
    return (
        "http" if scheme is None else scheme.lower(),
        address or name.lower(),
        path or "/",
        query,
        address is not None,
    )


def _length(parts: _Parts) -> int:
    scheme, host, path, query, _ = parts
    length = len(scheme) + 3 + len(host) + len(path)
    return length if query is None else length + 1 + len(query)


def _host_only(parts: _Parts) -> _Parts | str:
    scheme, host, _, _, is_ip = parts
    if len(scheme) + 3 + len(host) + 1 > MAX_URL_LENGTH:
        return ""
    return scheme, host, "/", None, is_ip


def _encode(url: str) -> bytes:
    try:
        return url.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return url.encode("utf-8", "surrogatepass")


def _parse_bytes(raw: bytes, *, truncated: bool) -> _Parts | str:
    raw = raw.translate(None, _TAB_CR_LF).strip(_C0_AND_SPACE)
    fragment = raw.find(b"#")
    if fragment != -1:
        raw = raw[:fragment]
    if b"%" in raw:
        raw = unescape_fully(raw)
    if not raw:
        return ""
    scheme, rest, kind = _split_scheme(raw)
    if kind == _OPAQUE:
        return "" if truncated else f"{scheme.decode('ascii')}:{_escape(rest)}"
    if kind == _SPECIAL:
        rest = rest.lstrip(b"/\\")
        end = _SPECIAL_AUTHORITY_END.search(rest)
    else:
        end = _AUTHORITY_END.search(rest)
    if end is None:
        if truncated:
            return ""
        authority, tail = rest, b""
    else:
        authority, tail = rest[: end.start()], rest[end.start() :]
    host, is_ip = _host(authority.rpartition(b"@")[2])
    if not host:
        return ""
    path, question, query = tail.partition(b"?")
    if kind == _SPECIAL and b"\\" in path:
        path = path.replace(b"\\", b"/")
    return (
        scheme.decode("ascii"),
        _escape(host),
        _escape(_normalise_path(path)),
        _escape(query) if question else None,
        is_ip,
    )


def _split_scheme(raw: bytes) -> tuple[bytes, bytes, int]:
    """(lower-case scheme, what follows its colon, kind); a missing scheme is http."""
    match = _SCHEME.match(raw)
    if match is None:
        return b"http", raw, _SPECIAL
    scheme = match[1].lower()
    rest = raw[match.end() :]
    if scheme in _SPECIAL_SCHEMES:
        return scheme, rest, _SPECIAL
    if rest.startswith(b"//"):
        return scheme, rest[2:], _GENERIC
    if scheme not in _OPAQUE_SCHEMES and (
        _USER_INFO.match(rest) is not None
        or ((b"." in scheme or rest[:1].isdigit()) and _PORT_ONLY.match(rest) is not None)
    ):
        return b"http", raw, _SPECIAL
    return scheme, rest, _OPAQUE


def _host(hostport: bytes) -> tuple[bytes, bool]:
    """Canonical host bytes (unescaped) and whether they are an IP address."""
    if hostport.startswith(b"["):
        close = hostport.find(b"]")
        if close != -1:
            return _ipv6_host(hostport[: close + 1])
    host = _collapse_dots(hostport.partition(b":")[0].lower())
    # Dots are collapsed before the size limit is checked: padding a host with a run of
    # dots must not push it past IDNA (found by fuzzing), and again after, since IDNA
    # turns ideographic full stops into dots.
    if not host.isascii() and len(host) <= _MAX_IDNA_HOST:
        host = _collapse_dots(_idna(host))
    if host[:1].isdigit():
        address = _ipv4(host)
        if address is not None:
            return address, True
    if host.startswith(b"[") and b"]" in host:
        # Dropping dots exposed a bracket ("。[x]"): read it as the next parse will.
        return _host(host)
    return host, False


def _collapse_dots(host: bytes) -> bytes:
    host = host.strip(b".")
    return _DOT_RUNS.sub(b".", host) if b".." in host else host


def _ipv6_host(bracketed: bytes) -> tuple[bytes, bool]:
    inside = bracketed[1:-1]
    if b"%" in inside or not inside.isascii():
        return bracketed.lower(), False
    try:
        address = ipaddress.IPv6Address(inside.decode("ascii"))
    except ValueError:
        return bracketed.lower(), False
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped).encode("ascii"), True
    if address in _NAT64:
        return str(ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)).encode("ascii"), True
    return f"[{address.compressed}]".encode("ascii"), True


_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")


def _idna(host: bytes) -> bytes:
    """Punycode for each non-ASCII label; labels IDNA refuses keep their UTF-8 bytes."""
    try:
        text = host.decode("utf-8")
    except UnicodeDecodeError:
        return host
    labels = []
    for label in text.translate(_IDN_DOTS).split("."):
        if label.isascii():
            labels.append(label.encode("ascii"))
            continue
        try:
            ascii_label = idna.ToASCII(label).lower()
        except (UnicodeError, ValueError):
            ascii_label = b""
        # Nameprep can map characters onto "%", "." or hex digits (full-width "%41" becomes
        # an ASCII "%41"), which the next parse would read as structure or an escape; such
        # a label stays raw.
        labels.append(ascii_label if _LDH.fullmatch(ascii_label) else label.encode("utf-8"))
    return b".".join(labels)


def _ipv4(host: bytes) -> bytes | None:
    """Dotted quad for an inet_aton spelling of an IPv4 address, else None."""
    if _IPV4.fullmatch(host) is None:
        return None
    values = []
    for part in host.split(b"."):
        if part.startswith(b"0x"):
            digits, base = part[2:], 16
        elif len(part) > 1 and part.startswith(b"0"):
            digits, base = part[1:], 8
        else:
            digits, base = part, 10
        digits = digits.lstrip(b"0") or b"0"
        if len(digits) > 11:  # more than 32 bits in any base; also keeps int() cheap
            return None
        try:
            values.append(int(digits, base))
        except ValueError:  # 8 or 9 in an octal part
            return None
    last = values.pop()
    if any(value > 0xFF for value in values) or last >= 1 << (8 * (4 - len(values))):
        return None
    address = last
    for index, value in enumerate(values):
        address |= value << (24 - 8 * index)
    return str(ipaddress.IPv4Address(address)).encode("ascii")


def _normalise_path(path: bytes) -> bytes:
    """Resolve "." and ".." segments and collapse slash runs; "" becomes "/"."""
    if not path:
        return b"/"
    if b"//" not in path and b"/." not in path:
        return path
    segments: list[bytes] = []
    for segment in path.split(b"/"):
        if segment == b"..":
            if segments:
                segments.pop()
        elif segment and segment != b".":
            segments.append(segment)
    if not segments:
        return b"/"
    joined = b"/" + b"/".join(segments)
    if path.endswith((b"/", b"/.", b"/..")):
        return joined + b"/"
    return joined


def _escape(raw: bytes) -> str:
    if _UNSAFE.search(raw) is None:
        return raw.decode("ascii")
    return _UNSAFE.sub(_escape_match, raw).decode("ascii")


def _escape_match(match: re.Match[bytes]) -> bytes:
    return _ESCAPED[match[0][0]]


def unescape_once(raw: bytes) -> bytes:
    """Decode every ``%XX`` (either case) once, left to right; a stray ``%`` stays."""
    chunks = raw.split(b"%")
    out = [chunks[0]]
    for chunk in chunks[1:]:
        byte = _HEX_PAIRS.get(chunk[:2])
        if byte is None:
            out += (b"%", chunk)
        else:
            out += (byte, chunk[2:])
    return b"".join(out)


def unescape_fully(raw: bytes) -> bytes:
    """Percent-unescape until nothing changes, in time linear in ``len(raw)``."""
    for _ in range(_UNESCAPE_PASSES):
        decoded = unescape_once(raw)
        if len(decoded) == len(raw) or b"%" not in decoded:
            return decoded
        raw = decoded
    return _unescape_linear(raw)


def _unescape_linear(raw: bytes) -> bytes:
    """Same result as repeated passes: a decoded byte can only form a new escape with the
    bytes just before or after it, so re-checking the tail after each byte finds them all
    (and escapes never overlap, so the order of decoding cannot change the result)."""
    out = bytearray()
    for byte in raw:
        out.append(byte)
        while len(out) >= 3 and out[-3] == 0x25 and out[-2] in _HEX_VALUE and out[-1] in _HEX_VALUE:
            value = _HEX_VALUE[out[-2]] * 16 + _HEX_VALUE[out[-1]]
            del out[-3:]
            out.append(value)
    return bytes(out)
