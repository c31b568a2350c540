"""Message text as Rich markup for the terminal UIs. Bodies are hostile input: everything
a sender wrote is escaped (no markup, no terminal hyperlinks of theirs), and a link the
device found on the block list is shown defanged and marked, so it cannot be clicked."""

from __future__ import annotations

from typing import Any

from rich.markup import escape


def defang(url: str) -> str:
    return url.replace("http", "hxxp").replace(".", "[.]").replace(":", "[:]")


def body_markup(message: dict[str, Any]) -> str:
    body = escape(str(message["body"]))
    for link in message.get("links", []):
        shown = escape(link["url"])
        if link["verdict"] == "blocked":
            blocked = escape(f"{defang(link['url'])} (blocked: {link['reason']})")
            body = body.replace(shown, f"[reverse red]{blocked}[/]")
        elif link.get("lookalike"):
            warning = escape(f"(careful: imitates {link['lookalike']})")
            body = body.replace(shown, f"{shown} [yellow]{warning}[/]")
    return body
