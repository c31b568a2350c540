"""Every template escapes what it shows; times read the same everywhere."""

from __future__ import annotations

from pathlib import Path

from haven.server.console import rendering

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def test_autoescape_covers_every_template_and_no_template_opts_out() -> None:
    assert rendering.ENVIRONMENT.autoescape is True
    for template in Path(rendering.TEMPLATES).glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "|safe" not in text.replace(" ", ""), template.name
        assert "autoescape false" not in text, template.name
        assert "<script>" not in text, template.name  # no inline script: CSP forbids it


def test_hostile_text_renders_as_text() -> None:
    html = rendering.render("error.html", status_code=400, message=HOSTILE, operator=None,
                            csrf_token="", current_path="/admin")  # fmt: skip
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img" in html
    assert "<img src=x" not in html


def test_times_are_utc_and_missing_ones_say_never() -> None:
    assert rendering.when(0) == "1970-01-01 00:00 UTC"
    assert rendering.when(None) == "never"


def test_the_policy_allows_nothing_from_elsewhere_and_no_inline_script() -> None:
    policy = rendering.CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe" not in policy
    assert "http" not in policy
