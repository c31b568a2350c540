"""The security guidance: every topic in every language, short, and free of any address a
phisher could imitate; reachable from the checkup and from every targeted-user notice."""

from __future__ import annotations

import pytest

from haven.client import awareness
from haven.safety import notices


def test_every_topic_exists_in_every_language_without_addresses() -> None:
    assert awareness.languages() == ["en", "fr"]
    for language in awareness.languages():
        for topic in awareness.TOPICS:
            guide = awareness.load(topic, language)
            assert guide.language == language, (topic, language)
            assert guide.title
            assert awareness.addresses_in(guide.title + "\n" + guide.body) == [], (topic, language)
            assert len(guide.body.splitlines()) <= 40  # short enough to read in a crisis
    assert not set(p.name for p in awareness.GUIDANCE.glob("*")) - {
        f"{t}.{lang}.md" for t in awareness.TOPICS for lang in awareness.languages()
    }


def test_the_notices_guide_says_what_a_real_notice_never_does() -> None:
    body = awareness.load("notices").body
    assert "never contains a link" in body
    assert "passphrase" in body
    assert "registration lock" in body


def test_helplines_are_named_and_contact_details_are_looked_up_not_given() -> None:
    body = awareness.load("helplines").body
    for name in ("Access Now", "Amnesty International", "Citizen Lab"):
        assert name in body
    assert "Look up their contact details yourself" in body


@pytest.mark.parametrize(
    "text",
    ["visit https://helpline.example", "see www.example.org", "accessnow.org/help",
     "write to help@example.org", "call +44 20 7946 0000"],
)  # fmt: skip
def test_the_address_check_catches_what_a_phisher_would_use(text: str) -> None:
    assert awareness.addresses_in(text)


def test_an_untranslated_language_falls_back_and_unknown_topics_are_named() -> None:
    assert awareness.load("spyware", "de").language == "en"
    with pytest.raises(awareness.GuideError, match="spyware, notices, compromised, helplines"):
        awareness.load("nothing")


def test_every_targeted_user_notice_points_to_the_guidance() -> None:
    targeted = notices.available()
    assert ("mercenary_spyware", "fr") in targeted
    for name, language in targeted:
        assert "haven guide" in notices.load_template(name, language).body, (name, language)
        assert "/guide" in notices.load_template(name, language).body
