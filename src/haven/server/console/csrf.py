"""Cross-site request forgery defences for console forms: a synchronizer token (one per
session, in a hidden field of every form, compared in constant time on every POST), and
a refusal of any POST whose Origin or Fetch-Metadata says it came from another site.
Session cookies are SameSite=Strict as well; each layer holds if another fails."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request

FIELD = "csrf_token"


class CsrfRejected(Exception):
    """The POST is not from one of this console's own forms."""


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_origin(request: Request) -> bool:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True  # older browsers and non-browser clients: the token still decides
    if origin == "null":
        # Browsers send "null" for a form posted from a page with `Referrer-Policy:
        # no-referrer` (the console's own pages); Fetch Metadata then says where it came from.
        return fetch_site == "same-origin"
    host = request.headers.get("host", "")
    parts = urlsplit(origin)
    return bool(host) and parts.scheme in ("http", "https") and parts.netloc == host


async def check(request: Request, expected: str) -> None:
    """Raise CsrfRejected unless the form carries `expected` and the request is same-origin."""
    if not same_origin(request):
        raise CsrfRejected("this form was sent from another site")
    form = await request.form()
    offered = form.get(FIELD)
    if not isinstance(offered, str) or not expected:
        raise CsrfRejected("this form has no valid security token; reload the page")
    if not hmac.compare_digest(offered.encode(), expected.encode()):
        raise CsrfRejected("this form has no valid security token; reload the page")
