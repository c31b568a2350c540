"""Short security guidance shipped with the client, in every language Haven speaks: how
mercenary spyware gets in, what a real Haven notice looks like, what to do if a device may
be compromised, where to find a digital-security helpline.

Texts are Markdown files in `guidance/` named `<topic>.<language>.md` (translate one by
adding a file). They name organisations but carry no address to click or type: a real
notice never carries a link, and neither does the guidance that says so, so nothing here
can teach a person to trust an address a phisher could imitate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

GUIDANCE = Path(__file__).with_name("guidance")
DEFAULT_LANGUAGE = "en"
TOPICS = ("spyware", "notices", "compromised", "helplines")
# Anything that looks like a web or mail address, a domain, or a phone number to call.
_ADDRESS = re.compile(
    r"[a-z][a-z0-9+.-]*://|www\.|@[a-z0-9-]+\.|\b[a-z0-9-]+\.(?:[a-z]{2,6})\b(?![.\w])"
    r"|\+\d[\d ().-]{6,}",
    re.IGNORECASE,
)
# File names and Haven commands that the pattern above would mistake for domains.
_NOT_ADDRESSES = re.compile(r"\b[a-z0-9-]+\.(?:md|toml|py|txt)\b", re.IGNORECASE)


class GuideError(Exception):
    """No such topic (the message lists the ones there are)."""


@dataclass(frozen=True)
class Guide:
    topic: str
    language: str
    title: str
    body: str  # Markdown, without the title line


def languages() -> list[str]:
    return sorted({p.stem.partition(".")[2] for p in GUIDANCE.glob("*.md")})


def addresses_in(text: str) -> list[str]:
    """Whatever in `text` looks like an address someone could be sent to."""
    return [m.group(0) for m in _ADDRESS.finditer(_NOT_ADDRESSES.sub("", text))]


def load(topic: str, language: str = DEFAULT_LANGUAGE) -> Guide:
    """The guide in `language`, or in English when it is not translated yet."""
    if topic not in TOPICS:
        raise GuideError(f"no guide about {topic!r}; there are: {', '.join(TOPICS)}")
    path = GUIDANCE / f"{topic}.{language}.md"
    if not re.fullmatch(r"[a-z]{2,8}", language) or not path.exists():
        path = GUIDANCE / f"{topic}.{DEFAULT_LANGUAGE}.md"
    text = path.read_text(encoding="utf-8").strip()
    first, _, body = text.partition("\n")
    return Guide(topic, path.stem.partition(".")[2], first.lstrip("# ").strip(), body.strip())


def index(language: str = DEFAULT_LANGUAGE) -> list[Guide]:
    return [load(topic, language) for topic in TOPICS]


def pointer(language: str = DEFAULT_LANGUAGE) -> str:
    """The line that leads from a notice or the checkup to the guidance."""
    if language == "fr":
        return "Conseils de sécurité : haven guide --lang fr (ou /guide dans haven chat)"
    return "Security guidance: haven guide (or /guide in haven chat)"
