"""The normaliser, with real excerpts from the bundled data as fixtures."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.intel.normalise import Indicator, Kind, Rejected, clean, normalise, refang

# (raw as published, expected) — each raw value appears verbatim in ../shared/data/intel.
REAL = [
    # meta-threat-research/indicators/meta-h2-2025-belarus-based-cib-network.md:18
    ("`hxxp://x[.]com/jabkowojciech`", Indicator(Kind.URL, "http://x.com/jabkowojciech")),
    ("hxxp://tiktok[.]com/@wojciechjabko", Indicator(Kind.URL, "http://tiktok.com/@wojciechjabko")),
    # defanged domains from the Meta CSVs
    ("0qrhv[.]top", Indicator(Kind.DOMAIN, "0qrhv.top")),
    ("049122[.]com", Indicator(Kind.DOMAIN, "049122.com")),
]


@pytest.mark.parametrize(("raw", "expected"), REAL)
def test_real_published_values(raw: str, expected: Indicator) -> None:
    assert normalise(raw) == expected


def test_zero_width_characters_in_prose_are_rejected_with_a_reason() -> None:
    # Q2_2023_Spamouflage_China_based_CIB_updated.csv:487 carries U+200B inside prose.
    with pytest.raises(Rejected, match="prose"):
        normalise("The Background of America's Cyber \u200b\u200bAttack Warfare")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\u200bevil[.]com\u00a0", Indicator(Kind.DOMAIN, "evil.com")),
        ("EVIL.Example.COM.", Indicator(Kind.DOMAIN, "evil.example.com")),
        ("bücher.de", Indicator(Kind.DOMAIN, "xn--bcher-kva.de")),
        ("user[at]mail(.)ru", Indicator(Kind.EMAIL, "user@mail.ru")),
        ("hXXps[:]//bad[.]site/Path?Q=1", Indicator(Kind.URL, "https://bad.site/Path?Q=1")),
        ("evil\n.com", Indicator(Kind.DOMAIN, "evil.com")),
        ("10.0.0.1", Indicator(Kind.IPV4, "10.0.0.1")),
        ("[2001:DB8::1]", Indicator(Kind.IPV6, "2001:db8::1")),
        (
            "D41D8CD98F00B204E9800998ECF8427E",
            Indicator(Kind.MD5, "d41d8cd98f00b204e9800998ecf8427e"),
        ),
        ("a" * 40, Indicator(Kind.SHA1, "a" * 40)),
    ],
)
def test_quirks(raw: str, expected: Indicator) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("example.notatld", "unknown top-level domain"),
        ("localhost", "no dot"),
        ("-bad-.com", "not a valid domain"),
        ("see the report for details", "prose"),
        ("x" * 3000, "longer than"),
    ],
)
def test_rejections_say_why(raw: str, reason: str) -> None:
    with pytest.raises(Rejected, match=reason):
        normalise(raw)


@pytest.mark.parametrize(
    "url",
    [
        "https://drive.google.com/file/d/1AbC/view",
        "sites.google.com/view/some-page",
        "https://trello.com/b/XyZ/board",
        "hxxps://bit[.]ly/3abcDEF",
    ],
)
def test_a_url_never_widens_to_its_domain(url: str) -> None:
    found = normalise(url)
    assert found.kind is Kind.URL
    assert found.value.rstrip("/").count("/") >= 3  # the path is kept
    assert normalise(url, hint=Kind.DOMAIN).kind is Kind.URL  # even if the source said domain


def test_declared_types_are_respected_or_refused() -> None:
    assert normalise("com.spyware.agent", hint=Kind.APP_ID) == Indicator(
        Kind.APP_ID, "com.spyware.agent"
    )
    assert normalise("bh_cmd", hint=Kind.PROCESS) == Indicator(Kind.PROCESS, "bh_cmd")
    with pytest.raises(Rejected, match="declared sha256"):
        normalise("evil.com", hint=Kind.SHA256)


TEXT = st.text(
    alphabet=st.sampled_from(
        list("abcdefghijklmnopqrstuvwxyz0123456789.-/:[]()@ hxXtpsü\u200b\u00a0")
    ),
    max_size=60,
)


@given(TEXT)
def test_refang_and_clean_are_idempotent(raw: str) -> None:
    once = refang(clean(raw))
    assert refang(clean(once)) == once


@given(TEXT)
def test_normalising_is_idempotent(raw: str) -> None:
    try:
        first = normalise(raw)
    except Rejected:
        return
    assert normalise(first.value) == first


URL_PATHS = st.text(alphabet=st.sampled_from(list("abcXYZ019-_~/")), min_size=1, max_size=20)
HOSTS = st.sampled_from(["drive.google.com", "sites.google.com", "trello.com", "bit.ly", "x[.]com"])


@given(HOSTS, URL_PATHS, st.sampled_from(["", "http://", "hxxps://", "https://"]))
def test_no_url_ever_yields_a_domain_indicator(host: str, path: str, scheme: str) -> None:
    found = normalise(f"{scheme}{host}/{path}")
    assert found.kind is Kind.URL
