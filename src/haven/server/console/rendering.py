"""Pages: Jinja2 templates with autoescaping on for every template (indicator values,
report texts and account notes are hostile input), and the headers every console response
carries: a strict Content-Security-Policy (no inline script, nothing from elsewhere), no
framing, no referrer, no caching."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def when(ms: int | None) -> str:
    if ms is None:
        return "never"
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,  # a missing value is a bug, not an empty cell
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    return env


ENVIRONMENT = _environment()


def render(template: str, **context: Any) -> str:
    return ENVIRONMENT.get_template(template).render(**context)


def page(
    request: Request, template_name: str, http_status: int = 200, **context: Any
) -> HTMLResponse:
    """A full console page; the signed-in operator and the form token come from the
    request (set by the session check)."""
    session = getattr(request.state, "console_session", None)
    context.setdefault("operator", None if session is None else session.operator)
    context.setdefault("csrf_token", getattr(request.state, "csrf_token", ""))
    context.setdefault("current_path", request.url.path)
    return HTMLResponse(render(template_name, **context), status_code=http_status)
