"""Security alerts: every template exists in every language, follows the notice rules, and
can only be filled in with ids and times, so nothing a caller supplies becomes a link."""

from __future__ import annotations

import pytest

from haven.safety import alerts, notices
from haven.safety.notices import TemplateError

VALUES = {
    "device": "0123456789abcdef0123456789abcdef",
    "request": "fedcba9876543210fedcba9876543210",
    "time": "2026-11-02 09:30 UTC",
    "after": "2026-11-09 09:30 UTC",
    "expires": "2026-11-02 09:45 UTC",
}


def test_every_alert_is_translated_and_follows_the_notice_rules() -> None:
    found = alerts.available()
    names = {name for name, _ in found}
    assert {"device_linked", "device_removed", "link_requested", "protection_invite",
            "reporting_campaign"} <= names  # fmt: skip
    for name in names:
        for language in ("en", "fr"):
            assert (name, language) in found, (name, language)
            alert = alerts.render(name, language, VALUES)
            notices.check(alert)
            assert "{" not in alert.title + alert.body, (name, language)
            assert ("passphrase" if language == "en" else "phrase de passe") in alert.body


def test_alerts_are_not_operator_notice_templates() -> None:
    # An operator cannot send a fake "new device" alert through the notice route.
    assert not {name for name, _ in alerts.available()} & {n for n, _ in notices.available()}


def test_the_device_alert_names_the_device_and_time_and_how_to_remove_it() -> None:
    alert = alerts.render("device_linked", "en", VALUES)
    assert VALUES["device"] in alert.body
    assert VALUES["time"] in alert.body
    assert f"haven account remove-device {VALUES['device']}" in alert.body
    assert "haven guide" in alert.body


def test_an_untranslated_language_falls_back_to_english() -> None:
    assert alerts.render("device_linked", "de", VALUES).language == "en"


@pytest.mark.parametrize(
    "value", ["https://evil.example/x", "call +1 555", "0123", "2026-11-02 09:30 UTC ok"]
)
def test_only_ids_and_times_can_be_filled_in(value: str) -> None:
    with pytest.raises(TemplateError, match="not an id or a time"):
        alerts.render("device_linked", "en", {**VALUES, "device": value})


def test_bad_names_are_refused() -> None:
    with pytest.raises(TemplateError):
        alerts.render("../notices/state_sponsored", "en", VALUES)
    with pytest.raises(TemplateError, match="no alert template"):
        alerts.render("no_such_alert", "en", VALUES)


def test_times_are_shown_in_utc_to_the_minute() -> None:
    assert alerts.when(0) == "1970-01-01 00:00 UTC"
    assert alerts.when(1_785_660_659_999) == "2026-08-02 08:50 UTC"
