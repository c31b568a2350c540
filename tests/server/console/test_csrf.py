"""Which requests count as coming from the console's own pages."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from haven.server.console import csrf

pytestmark = pytest.mark.anyio


def request(headers: dict[str, str], body: bytes = b"") -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/admin/x", "headers": raw,
             "query_string": b""}  # fmt: skip
    return Request(scope, receive)


def test_same_origin_by_host_origin_and_fetch_metadata() -> None:
    host = {"Host": "127.0.0.1:8080"}
    assert csrf.same_origin(request(host))  # no Origin: the token decides
    assert csrf.same_origin(request({**host, "Origin": "http://127.0.0.1:8080"}))
    assert csrf.same_origin(request({**host, "Origin": "https://127.0.0.1:8080"}))
    assert not csrf.same_origin(request({**host, "Origin": "http://127.0.0.1:9999"}))
    assert not csrf.same_origin(request({**host, "Origin": "https://evil.example"}))
    assert not csrf.same_origin(request({**host, "Origin": "null"}))  # from where?
    null_here = {**host, "Origin": "null", "Sec-Fetch-Site": "same-origin"}
    assert csrf.same_origin(request(null_here))  # a no-referrer page of this console
    assert not csrf.same_origin(request({**null_here, "Sec-Fetch-Site": "cross-site"}))
    assert not csrf.same_origin(request({**host, "Sec-Fetch-Site": "cross-site"}))
    assert not csrf.same_origin(request({**host, "Sec-Fetch-Site": "same-site"}))
    assert csrf.same_origin(request({**host, "Sec-Fetch-Site": "same-origin"}))


async def test_the_form_token_must_match() -> None:
    form = {"Host": "h", "Content-Type": "application/x-www-form-urlencoded"}
    await csrf.check(request(form, b"csrf_token=abc"), "abc")
    for body in (b"", b"csrf_token=", b"csrf_token=abd", b"other=abc"):
        with pytest.raises(csrf.CsrfRejected):
            await csrf.check(request(form, body), "abc")
    with pytest.raises(csrf.CsrfRejected):
        await csrf.check(request(form, b"csrf_token="), "")  # no expected token: never passes


def test_tokens_are_fresh_and_long() -> None:
    first, second = csrf.new_token(), csrf.new_token()
    assert first != second
    assert len(first) >= 43
