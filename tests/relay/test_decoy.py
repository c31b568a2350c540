from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.relay.decoy import DecoyError, DecoySite
from haven.relay.httphead import BadRequest, parse_head, split_head


def get(site: DecoySite, target: str, method: str = "GET") -> bytes:
    head = parse_head(f"{method} {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return site.respond(head)[0]


@pytest.fixture
def site(tmp_path: Path) -> DecoySite:
    (tmp_path / "index.html").write_text("<h1>Bakery</h1>")
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "site.css").write_text("body{}")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("secret")
    outside = tmp_path.parent / "outside.txt"
    outside.write_text("not for the web")
    os.symlink(outside, tmp_path / "leak.txt")
    return DecoySite.from_directory(tmp_path)


def test_serves_a_directory_with_types(site: DecoySite) -> None:
    assert get(site, "/").endswith(b"<h1>Bakery</h1>")
    css = get(site, "/css/site.css?v=2")
    assert b"Content-Type: text/css; charset=utf-8" in css
    assert css.endswith(b"body{}")


@pytest.mark.parametrize(
    "target", ["/../outside.txt", "/%2e%2e/outside.txt", "/leak.txt", "/.git/config", "//etc"]
)
def test_nothing_outside_the_site_is_served(site: DecoySite, target: str) -> None:
    assert get(site, target).startswith(b"HTTP/1.1 404 Not Found")


def test_head_has_no_body(site: DecoySite) -> None:
    response = get(site, "/", "HEAD")
    assert response.startswith(b"HTTP/1.1 200 OK")
    assert response.endswith(b"\r\n\r\n")


def test_other_methods_are_not_allowed_and_close(site: DecoySite) -> None:
    head = parse_head(b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n")
    response, keep = site.respond(head)
    assert response.startswith(b"HTTP/1.1 405 Not Allowed")
    assert not keep


def test_http_10_closes_unless_asked(site: DecoySite) -> None:
    assert not site.respond(parse_head(b"GET / HTTP/1.0\r\n\r\n"))[1]
    assert site.respond(parse_head(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))[1]


def test_an_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DecoyError, match="no files"):
        DecoySite.from_directory(tmp_path)


def test_builtin_page() -> None:
    assert b"<title>Welcome</title>" in get(DecoySite.builtin(), "/")


def test_garbage_is_rejected_before_the_head_ends() -> None:
    with pytest.raises(BadRequest):
        split_head(b"\x00\x01garbage")
    assert split_head(b"GET /index.ht") is None
    assert split_head(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nrest") == (
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"rest",
    )


def test_an_endless_head_is_rejected() -> None:
    with pytest.raises(BadRequest, match="too large"):
        split_head(b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 2000)


@given(st.binary(max_size=400))
def test_parsing_raises_only_bad_request(data: bytes) -> None:
    try:
        split = split_head(data)
        if split is not None:
            parse_head(split[0])
    except BadRequest:
        pass


@given(st.text(max_size=200))
def test_decoy_answers_any_target(target: str) -> None:
    site = DecoySite.builtin()
    raw = f"GET /{target} HTTP/1.1\r\n\r\n".encode("utf-8", "replace")
    try:
        head = parse_head(raw)
    except BadRequest:
        return
    assert site.respond(head)[0].startswith(b"HTTP/1.1 ")
