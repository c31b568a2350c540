from __future__ import annotations

import contextlib
import os
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.core import relaylink
from haven.core.relaylink import RelayLink, RelayLinkError, check_proof, make_proof, parse

PIN, SECRET = bytes(range(32)), bytes(range(32, 64))


@pytest.mark.parametrize(
    "link",
    [
        RelayLink("relay.example.org", 443, PIN, SECRET),
        RelayLink("203.0.113.7", 8443, PIN, SECRET, sni="cdn.example.net", websocket=True),
        RelayLink("2001:db8::1", 443, PIN, SECRET, sni="a.example"),
    ],
)
def test_round_trip(link: RelayLink) -> None:
    url = link.to_url()
    assert url.startswith("haven://relay?")
    assert parse(url) == link
    assert parse(f"  {url}\n") == link


def test_the_secret_never_shows_in_repr() -> None:
    link = RelayLink("relay.example.org", 443, PIN, SECRET)
    assert relaylink.b64url_encode(SECRET) not in repr(link)


def test_server_name_for_sni() -> None:
    assert RelayLink("relay.example.org", 1, PIN, SECRET).server_name == "relay.example.org"
    assert RelayLink("192.0.2.1", 1, PIN, SECRET).server_name is None
    assert RelayLink("192.0.2.1", 1, PIN, SECRET, sni="x.example").server_name == "x.example"


GOOD = RelayLink("relay.example.org", 443, PIN, SECRET).to_url()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("haven://", "https://"), "starts with haven://relay"),
        (GOOD.replace("haven://relay", "haven://device"), "not a relay invite"),
        (GOOD.replace("&port=443", ""), "no port"),
        (GOOD.replace("host=relay.example.org&", ""), "no host"),
        (GOOD.replace("&secret=", "&nothing="), "no secret"),
        (GOOD.replace("&pin=", "&pin=%25%25"), "base64url"),
        (GOOD.replace("port=443", "port=70000"), "between 1 and 65535"),
        (GOOD.replace("port=443", "port=44x"), "not a number"),
        (GOOD.replace("port=443", "port=0"), "between 1 and 65535"),
        (GOOD + "&port=80", "twice"),
        (GOOD.replace("host=relay.example.org", "host=bad_host!"), "not a host name"),
        (GOOD + "&ws=yes", "ws"),
        ("", "starts with haven://relay"),
        ("haven://[::1", "not a link"),
    ],
)
def test_bad_links_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(RelayLinkError, match=message):
        parse(text)


def test_short_secret_is_refused() -> None:
    short = GOOD.replace(relaylink.b64url_encode(SECRET), relaylink.b64url_encode(SECRET[:16]))
    with pytest.raises(RelayLinkError, match="32 bytes"):
        parse(short)


@given(st.text(max_size=300))
def test_parse_raises_only_the_link_error(text: str) -> None:
    with contextlib.suppress(RelayLinkError):
        parse(text)


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=200))
def test_parse_of_link_like_text(tail: str) -> None:
    with contextlib.suppress(RelayLinkError):
        parse("haven://relay?" + tail)


def test_proof_checks() -> None:
    now = time.time()
    token = make_proof(SECRET, now=now)
    assert len(token) == relaylink.PROOF_CHARS
    proof = check_proof(SECRET, token, now)
    assert proof is not None
    assert proof.timestamp == int(now)
    assert check_proof(os.urandom(32), token, now) is None
    assert check_proof(SECRET, token, now + 500) is None
    tampered = ("A" if token[0] != "A" else "B") + token[1:]
    assert check_proof(SECRET, tampered, now) is None
    assert check_proof(SECRET, token + "A", now) is None
    assert check_proof(SECRET, "!" * 75, now) is None
