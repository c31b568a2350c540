from __future__ import annotations

from rich.console import Console
from rich.text import Text

from haven.client.rendering import body_markup, defang


def shown(markup: str) -> Text:
    return Text.from_markup(markup)


def test_a_senders_markup_is_text_not_formatting() -> None:
    message = {"body": "[link=https://evil.example]click[/link] [bold]x[/]", "links": []}
    rendered = shown(body_markup(message))
    assert rendered.plain == message["body"]
    assert not rendered.spans  # no hyperlink, no style from the sender


def test_blocked_links_are_defanged_and_lookalikes_flagged() -> None:
    message = {
        "body": "read 2y4nothing.xyz/a and p\u0430ypal.com now",
        "links": [
            {
                "url": "2y4nothing.xyz/a",
                "verdict": "blocked",
                "reason": "spyware",
                "lookalike": None,
            },
            {"url": "p\u0430ypal.com", "verdict": "clean", "reason": "", "lookalike": "paypal.com"},
        ],
    }
    plain = shown(body_markup(message)).plain
    assert "2y4nothing.xyz" not in plain
    assert "2y4nothing[.]xyz/a (blocked: spyware)" in plain
    assert "(careful: imitates paypal.com)" in plain
    console = Console(record=True, width=200)
    console.print(shown(body_markup(message)))
    assert "http" not in console.export_text()
    assert defang("https://a.b/") == "hxxps[:]//a[.]b/"
