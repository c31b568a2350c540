"""URL canonicalisation and expressions against Google Safe Browsing v4 "URLs and Hashing"
(https://developers.google.com/safe-browsing/v4/urls-hashing).

`SPEC_CANONICAL` and `SPEC_EXPRESSIONS` are the page's own examples, verbatim, and
bench/linkguard.py runs the same tables through the gglsbl anchor."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.linkguard import MAX_URL_LENGTH, canonicalize, url_expressions
from haven.linkguard.canonical import (
    _encode,
    _parse,
    _parse_bytes,
    _unescape_linear,
    unescape_fully,
    unescape_once,
)

# Every `Canonicalize("...") = "..."` line of the spec, in its order. The spec writes C
# byte strings: its "http://\x01\x80.com/" has the raw byte 0x80, which Python decodes
# (errors="surrogateescape") to the lone surrogate U+DC80, so that is how it is written here.
SPEC_CANONICAL: list[tuple[str, str]] = [
    ("http://host/%25%32%35", "http://host/%25"),
    ("http://host/%25%32%35%25%32%35", "http://host/%25%25"),
    ("http://host/%2525252525252525", "http://host/%25"),
    ("http://host/asdf%25%32%35asd", "http://host/asdf%25asd"),
    ("http://host/%%%25%32%35asd%%", "http://host/%25%25%25asd%25%25"),
    ("http://www.google.com/", "http://www.google.com/"),
    (
        "http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/"
        "%77%77%77%2E%65%62%61%79%2E%63%6F%6D/",
        "http://168.188.99.26/.secure/www.ebay.com/",
    ),
    (
        "http://195.127.0.11/uploads/%20%20%20%20/.verify/"
        ".eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
        "http://195.127.0.11/uploads/%20%20%20%20/.verify/"
        ".eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
    ),
    (
        "http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833"
        "%252944_55%252B",
        "http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+",
    ),
    ("http://3279880203/blah", "http://195.127.0.11/blah"),
    ("http://www.google.com/blah/..", "http://www.google.com/"),
    ("www.google.com/", "http://www.google.com/"),
    ("www.google.com", "http://www.google.com/"),
    ("http://www.evil.com/blah#frag", "http://www.evil.com/blah"),
    ("http://www.GOOgle.com/", "http://www.google.com/"),
    ("http://www.google.com.../", "http://www.google.com/"),
    ("http://www.google.com/foo\tbar\rbaz\n2", "http://www.google.com/foobarbaz2"),
    ("http://www.google.com/q?", "http://www.google.com/q?"),
    ("http://www.google.com/q?r?", "http://www.google.com/q?r?"),
    ("http://www.google.com/q?r?s", "http://www.google.com/q?r?s"),
    ("http://evil.com/foo#bar#baz", "http://evil.com/foo"),
    ("http://evil.com/foo;", "http://evil.com/foo;"),
    ("http://evil.com/foo?bar;", "http://evil.com/foo?bar;"),
    ("http://\x01\udc80.com/", "http://%01%80.com/"),
    ("http://notrailingslash.com", "http://notrailingslash.com/"),
    ("http://www.gotaport.com:1234/", "http://www.gotaport.com/"),
    ("  http://www.google.com/  ", "http://www.google.com/"),
    ("http:// leadingspace.com/", "http://%20leadingspace.com/"),
    ("http://%20leadingspace.com/", "http://%20leadingspace.com/"),
    ("%20leadingspace.com/", "http://%20leadingspace.com/"),
    ("https://www.securesite.com/", "https://www.securesite.com/"),
    ("http://host.com/ab%23cd", "http://host.com/ab%23cd"),
    ("http://host.com//twoslashes?more//slashes", "http://host.com/twoslashes?more//slashes"),
]

# The spec's suffix/prefix expression examples, in the order the spec lists them.
SPEC_EXPRESSIONS: list[tuple[str, list[str]]] = [
    (
        "http://a.b.c/1/2.html?param=1",
        [
            "a.b.c/1/2.html?param=1",
            "a.b.c/1/2.html",
            "a.b.c/",
            "a.b.c/1/",
            "b.c/1/2.html?param=1",
            "b.c/1/2.html",
            "b.c/",
            "b.c/1/",
        ],
    ),
    (
        "http://a.b.c.d.e.f.g/1.html",
        [
            "a.b.c.d.e.f.g/1.html",
            "a.b.c.d.e.f.g/",
            # b.c.d.e.f.g is skipped: only the last five components are walked
            "c.d.e.f.g/1.html",
            "c.d.e.f.g/",
            "d.e.f.g/1.html",
            "d.e.f.g/",
            "e.f.g/1.html",
            "e.f.g/",
            "f.g/1.html",
            "f.g/",
        ],
    ),
    ("http://1.2.3.4/1/", ["1.2.3.4/1/", "1.2.3.4/"]),
]

# Cases the spec does not list: Chromium's and Google's Go client's behaviour where they
# agree with the spec's rules, and Haven's documented choices where it is silent.
EDGE_CANONICAL: list[tuple[str, str]] = [
    # every IPv4 spelling inet_aton and Chromium accept
    ("http://0xc37f000b/blah", "http://195.127.0.11/blah"),
    ("http://0303.0177.0000.0013/blah", "http://195.127.0.11/blah"),
    ("http://030337600013/blah", "http://195.127.0.11/blah"),
    ("http://0xc3.0x7f.0x00.0x0b/blah", "http://195.127.0.11/blah"),
    ("http://0x7F.0.0.0x1/", "http://127.0.0.1/"),
    ("http://0x7f.1/", "http://127.0.0.1/"),
    ("http://12.0x12.01234/", "http://12.18.2.156/"),
    ("http://022.101.31.153/", "http://18.101.31.153/"),
    ("http://4294967295/", "http://255.255.255.255/"),
    ("http://192.168.0.1:80/index.html", "http://192.168.0.1/index.html"),
    # numeric-looking but not an address: an ordinary host name
    ("http://4294967296/", "http://4294967296/"),
    ("http://276.2.3/", "http://276.2.3/"),
    ("http://1.2.3.09/", "http://1.2.3.09/"),
    ("http://1.2.3.4.5/", "http://1.2.3.4.5/"),
    # IPv6: RFC 5952 in brackets; IPv4-mapped and NAT64 become IPv4 (Safe Browsing v5)
    ("http://[::1]/", "http://[::1]/"),
    ("http://[2001:470:1:18::114]/", "http://[2001:470:1:18::114]/"),
    ("https://[2001:0DB8:0000::1]:443/x", "https://[2001:db8::1]/x"),
    (
        "http://[FEDC:BA98:7654:3210:FEDC:BA98:7654:3210]:80/",
        "http://[fedc:ba98:7654:3210:fedc:ba98:7654:3210]/",
    ),
    ("http://[::ffff:1.2.3.4]/", "http://1.2.3.4/"),
    ("http://[64:ff9b::1.2.3.4]/", "http://1.2.3.4/"),
    ("http://[not-an-address]/x", "http://[not-an-address]/x"),
    # host names
    ("http://google.com./foo.html", "http://google.com/foo.html"),
    ("http://..google.com/foo.html", "http://google.com/foo.html"),
    ("http://google...com/foo.html", "http://google.com/foo.html"),
    ("http://W!eird<>Ho$^.com/", "http://w!eird<>ho$^.com/"),
    ("http://i.have.way.too.many.dots.com/", "http://i.have.way.too.many.dots.com/"),
    ("http://www.ümlat.com/", "http://www.xn--mlat-zra.com/"),
    ("http://ÜMLAUT.com", "http://xn--mlaut-jva.com/"),
    ("http://www.%C3%BCmlat.com/", "http://www.xn--mlat-zra.com/"),
    ("http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", "http://127.0.0.1/"),  # full-width digits
    ("http://a\u3002b.com/", "http://a.b.com/"),  # ideographic full stop separates labels
    ("http://some%1bhost.com/%1b", "http://some%1Bhost.com/%1B"),
    # user info and ports are dropped; scheme and host case folded, path case kept
    ("http://user:pass@evil.com:8080/x", "http://evil.com/x"),
    ("http://a@b@evil.com/", "http://evil.com/"),
    ("HTTP://EXAMPLE.COM/A/B", "http://example.com/A/B"),
    ("www.google.com:80/", "http://www.google.com/"),
    ("localhost:8080/x", "http://localhost/x"),
    ("user:pw@evil.com/x", "http://evil.com/x"),
    ("http%3A%2F%2Fwackyurl.com:80/", "http://wackyurl.com/"),
    # browsers read any run of / and \ after "http:" as the start of the host
    ("http:\\\\evil.com\\a\\b?c\\d", "http://evil.com/a/b?c\\d"),
    ("http:///evil.com", "http://evil.com/"),
    ("http:evil.com/x", "http://evil.com/x"),
    ("//evil.com/x", "http://evil.com/x"),
    ("ftp://ftp.myfiles.com/", "ftp://ftp.myfiles.com/"),
    # paths: dot segments (also escaped ones), slash runs, non-ASCII as UTF-8 escapes
    ("http://a.com/foo/.././bar/./../foo.html", "http://a.com/foo.html"),
    ("http://a.com//a//b///c////", "http://a.com/a/b/c/"),
    ("http://a.com/%2e%2e/b/%2E/", "http://a.com/b/"),
    ("http://a.com/a/b/.", "http://a.com/a/b/"),
    ("http://example.com/é?ü", "http://example.com/%C3%A9?%C3%BC"),
    ("http://example.com/\x80", "http://example.com/%C2%80"),  # U+0080 is a character
    ("http://www.google.com/q?r?s%3F", "http://www.google.com/q?r?s?"),
    # opaque schemes keep their text, escaped
    ("javascript:alert(1)", "javascript:alert(1)"),
    ("JavaScript:alert(%22x%22)", 'javascript:alert("x")'),
    ("data:text/html,%3Cb%3Ehi%20there", "data:text/html,<b>hi%20there"),
    ("mailto:someone@example.com", "mailto:someone@example.com"),
    ("tel:5551234", "tel:5551234"),
    # no host: no canonical form
    ("", ""),
    ("   ", ""),
    ("#ref", ""),
    ("http://", ""),
    ("http:///", ""),
    ("http://#ref", ""),
    ("http://?query", ""),
    ("http://user@/x", ""),
    ("http://.../", ""),
]

# Past the 8 KiB cap only scheme://host/ is kept, so padding cannot hide a blocked host.
LONG_CANONICAL: list[tuple[str, str]] = [
    ("http://evil.example/?" + "a" * 10_000, "http://evil.example/"),
    ("http://evil.example/" + "\x01" * 5_000, "http://evil.example/"),  # escapes triple it
    ("http://evil.example/" + "%2525" * 3_000, "http://evil.example/"),
    ("http://" + "a" * 10_000, ""),
    # under the cap, but "http://" takes it over
    ("a.example/" + "x" * (MAX_URL_LENGTH - 10), "http://a.example/"),
    ("data:text/plain," + "a" * 10_000, ""),
]


@pytest.mark.parametrize(("url", "expected"), SPEC_CANONICAL)
def test_spec_canonicalization_examples(url: str, expected: str) -> None:
    assert canonicalize(url) == expected


@pytest.mark.parametrize(("url", "expected"), SPEC_EXPRESSIONS)
def test_spec_expression_examples_in_spec_order(url: str, expected: list[str]) -> None:
    assert url_expressions(url) == expected


@pytest.mark.parametrize(("url", "expected"), EDGE_CANONICAL)
def test_edge_cases(url: str, expected: str) -> None:
    assert canonicalize(url) == expected


@pytest.mark.parametrize(("url", "expected"), LONG_CANONICAL)
def test_overlong_urls_keep_only_the_host(url: str, expected: str) -> None:
    result = canonicalize(url)
    assert result == expected
    assert len(result) <= MAX_URL_LENGTH


def test_a_url_just_under_the_cap_is_kept_whole() -> None:
    url = "http://evil.example/" + "a" * (MAX_URL_LENGTH - len("http://evil.example/"))
    assert canonicalize(url) == url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "http://a.b.c.d.e/1.html",
            [
                "a.b.c.d.e/1.html",
                "a.b.c.d.e/",
                "b.c.d.e/1.html",
                "b.c.d.e/",
                "c.d.e/1.html",
                "c.d.e/",
                "d.e/1.html",
                "d.e/",
            ],
        ),
        (
            "http://a.b.c/1/2/3/4/5/",
            [
                "a.b.c/1/2/3/4/5/",
                "a.b.c/",
                "a.b.c/1/",
                "a.b.c/1/2/",
                "a.b.c/1/2/3/",
                "b.c/1/2/3/4/5/",
                "b.c/",
                "b.c/1/",
                "b.c/1/2/",
                "b.c/1/2/3/",
            ],
        ),
        ("http://b/", ["b/"]),
        ("http://a.b/", ["a.b/"]),
        ("http://a.b/?", ["a.b/?", "a.b/"]),  # the spec keeps an empty query's "?"
        ("http://1.2.3.4/a/b", ["1.2.3.4/a/b", "1.2.3.4/", "1.2.3.4/a/"]),
        ("http://0x7f.1/a", ["127.0.0.1/a", "127.0.0.1/"]),
        (
            "http://[2001:470:1:18::114]/a/b",
            ["[2001:470:1:18::114]/a/b", "[2001:470:1:18::114]/", "[2001:470:1:18::114]/a/"],
        ),
        ("HTTPS://User@Evil.COM:443/x#f", ["evil.com/x", "evil.com/"]),
    ],
)
def test_more_expressions(url: str, expected: list[str]) -> None:
    assert url_expressions(url) == expected


def test_expressions_stop_at_five_hosts_and_six_paths() -> None:
    got = url_expressions("https://a.b.c.d.e.f.g/1/2/3/4/5.html?q=1")
    assert len(got) == 30
    assert "a.b.c.d.e.f.g/1/2/3/4/5.html?q=1" in got
    assert "f.g/1/2/3/" in got
    assert "b.c.d.e.f.g/" not in got  # only the last five labels are walked
    assert "g/" not in got  # never the bare top-level domain
    assert "a.b.c.d.e.f.g/1/2/3/4/" not in got  # root plus three directories at most


@pytest.mark.parametrize(
    "url",
    ["ftp://ftp.myfiles.com/x", "javascript:alert(1)", "data:text/html,x", "", "http://", "::"],
)
def test_no_expressions_for_anything_but_http_with_a_host(url: str) -> None:
    assert url_expressions(url) == []


# --- properties -------------------------------------------------------------------------

# Text that stresses the parser: structure characters, escapes, IP-ish digits, non-ASCII.
URL_ALPHABET = "abcXYZ019.-_/\\?#%@:[]25eEfFx \t\n\x00\x7f\x80é\u3002\udc80"
url_like = st.builds(
    "".join,
    st.lists(
        st.one_of(
            st.sampled_from(["http://", "https://", "HTTP://", "//", "data:", "ftp://"]),
            st.sampled_from(["%25", "%2e", "%2F", "%3F", "%23", "%41", "%c3%bc", "0x", ".."]),
            st.sampled_from(["[::1]", "[::ffff:1.2.3.4]", "1.2.3.4", "4294967295", ":80"]),
            st.text(alphabet=URL_ALPHABET, max_size=8),
        ),
        max_size=12,
    ),
)
any_text = st.text(alphabet=st.one_of(st.characters(), st.characters(categories=["Cs"])))
long_text = st.builds(
    lambda head, body, times: head + body * times,
    st.sampled_from(["http://evil.example/", "http://", "", "data:"]),
    st.text(alphabet=URL_ALPHABET, min_size=1, max_size=6),
    st.integers(min_value=1, max_value=4_000),
)


@pytest.mark.parametrize(
    "url",
    [
        "%0\u00a10",  # IDNA once turned this label into "xn--%00-3da", an escape next time
        "http://\uff05\uff14\uff11.com/",  # full-width "%41": nameprep makes it an escape
        "http://[a/b]@c/",
        "a.b:xyz",
        "http://%2525252541/",
        "\u3002[]http://",  # a dropped leading dot exposed a bracketed host
    ],
)
def test_canonicalize_is_idempotent_on_past_failures(url: str) -> None:
    once = canonicalize(url)
    assert canonicalize(once) == once


@given(st.one_of(url_like, any_text, long_text))
def test_canonicalize_is_idempotent_and_bounded(url: str) -> None:
    once = canonicalize(url)
    assert canonicalize(once) == once
    assert len(once) <= MAX_URL_LENGTH
    assert once.isascii()


@given(st.one_of(url_like, any_text, long_text))
def test_expressions_are_bounded_and_agree_with_the_canonical_url(url: str) -> None:
    expressions = url_expressions(url)
    assert len(expressions) <= 30
    assert len(set(expressions)) == len(expressions)
    canonical = canonicalize(url)
    assert url_expressions(canonical) == expressions
    if expressions:
        # the first expression is the canonical URL without its scheme
        assert canonical.split("://", 1)[1] == expressions[0]
        host = expressions[0].split("/", 1)[0]
        assert all(host.endswith(e.split("/", 1)[0]) for e in expressions)


label = st.text(alphabet="abzAZ09-_", min_size=1, max_size=5)
plain_url = st.builds(
    lambda scheme, user, host, dot, port, path, query, fragment: (
        f"{scheme}{user if scheme else ''}{host}{dot}{port}{path}{query}{fragment}"
    ),
    st.sampled_from(["http://", "https://", "HTTPS://", "hTTp://", ""]),
    st.sampled_from(["", "user@", "u:p@", ":@", "a.b@"]),
    st.one_of(
        st.lists(label, min_size=1, max_size=6).map(".".join),
        st.ip_addresses(v=4).map(str),
        st.sampled_from(["1.2.3.256", "01.2.3.4", "1.2.3", "1.2.3.4.5", "255.255.255.255"]),
    ),
    st.sampled_from(["", "."]),
    st.sampled_from(["", ":", ":80", ":08080"]),
    st.text(alphabet="/.aZ09;=!~$", max_size=12).map(lambda p: "/" + p if p else ""),
    st.one_of(st.just(""), st.text(alphabet="/.?a=&;", max_size=8).map("?".__add__)),
    st.one_of(st.just(""), st.text(alphabet="#a \t%\udc80", max_size=4).map("#".__add__)),
)


@given(st.one_of(plain_url, url_like))
def test_fast_path_matches_the_full_parser(url: str) -> None:
    assert _parse(url) == _parse_bytes(_encode(url), truncated=False)


@given(st.binary().map(lambda b: b.translate(bytes(b"%25aF"[i % 5] for i in range(256)))))
def test_linear_unescape_matches_repeated_passes(raw: bytes) -> None:
    passes = raw
    while (decoded := unescape_once(passes)) != passes:
        passes = decoded
    assert _unescape_linear(raw) == passes
    assert unescape_fully(raw) == passes
