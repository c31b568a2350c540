"""Importers on the bundled real data and on hostile files."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

import pytest

from haven.intel import parsers
from haven.intel.bundled import FEED
from haven.intel.merge import Collection, collect
from haven.intel.model import Origin, Rejection, Sighting
from haven.intel.normalise import Indicator, Kind

META = FEED / "meta-threat-research"


def sightings(path: Path, fmt: str | None = None) -> list[Sighting]:
    return [i for i in parsers.parse(path, fmt) if isinstance(i, Sighting)]


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        (META / "indicators/csv/2021_12_taking_action_against_surveillance_for_hire.csv", "csv"),
        (
            META / "indicators/json/2021_12_taking_action_against_surveillance_for_hire.json",
            "meta-json",
        ),
        (META / "indicators/meta-h2-2025-belarus-based-cib-network.md", "markdown"),
        (FEED / "mvt-indicators/intellexa_predator/predator.stix2", "stix"),
        (FEED / "echap-stalkerware-indicators/generated/misp_event.json", "misp"),
        (FEED / "echap-stalkerware-indicators/generated/indicators-for-tinycheck.json", "ioc-json"),
        (FEED / "amnesty-investigations/2019-10-10_nso_morocco/domains.txt", "text"),
    ],
)
def test_formats_are_detected_from_content(path: Path, fmt: str) -> None:
    assert parsers.detect(path) == fmt


def test_meta_cytrox_domains_carry_their_provenance() -> None:
    found = collect(
        [META / "indicators/csv/2021_12_taking_action_against_surveillance_for_hire.csv"]
    )
    merged = found.indicators[Indicator(Kind.DOMAIN, "2y4nothing.xyz")]
    [source] = merged.sources
    assert (source.origin.publisher, source.first_seen) == ("Meta", "2021-12-16")
    assert source.origin.line == 2


def test_csv_and_json_of_the_same_report_merge_into_one_indicator_each() -> None:
    name = "2021_12_taking_action_against_surveillance_for_hire"
    found = collect([META / f"indicators/csv/{name}.csv", META / f"indicators/json/{name}.json"])
    merged = found.indicators[Indicator(Kind.DOMAIN, "2y4nothing.xyz")]
    assert {Path(s.origin.file).suffix for s in merged.sources} == {".csv", ".json"}


def test_markdown_table_urls_stay_urls() -> None:
    found = collect([META / "indicators/meta-h2-2025-belarus-based-cib-network.md"])
    assert Indicator(Kind.URL, "http://x.com/jabkowojciech") in found.indicators
    assert Indicator(Kind.DOMAIN, "x.com") not in found.indicators


def test_prose_in_the_indicator_column_is_rejected_with_file_and_line() -> None:
    path = next(
        (META / "indicators/csv").glob("Q2_2023 /Q2_2023_Spamouflage_China_based_CIB_updated.csv")
    )
    found = collect([path])
    reasons = {r.line: r.reason for r in found.rejected}
    # Line 438 holds Finnish prose with zero-width spaces inside; 487 a Chinese headline.
    assert reasons[438].startswith("prose")
    assert reasons[487] == "not a domain name (no dot)"


@pytest.mark.parametrize("suffix", ["csv/{}.csv", "json/{}.json"])
def test_a_domain_split_across_two_rows_is_joined(suffix: str) -> None:
    # Meta's Cytrox list breaks one domain over rows 85-86 (objects 84-85 in the JSON);
    # Amnesty and MVT publish it whole.
    name = "2021_12_taking_action_against_surveillance_for_hire"
    found = collect([META / "indicators" / suffix.format(name)])
    whole = Indicator(Kind.DOMAIN, "fbc8213450838f7ae251d4519c195138.xyz")
    [source] = found.indicators[whole].sources
    assert source.origin.line == (85 if suffix.startswith("csv") else 84)
    assert "split across" in source.note
    assert Indicator(Kind.DOMAIN, "519c195138.xyz") not in found.indicators
    assert not [r for r in found.rejected if r.value.startswith("fbc82134")]


def test_the_joined_domain_merges_with_the_publishers_who_wrote_it_whole() -> None:
    name = "2021_12_taking_action_against_surveillance_for_hire"
    found = collect([
        META / f"indicators/csv/{name}.csv",
        FEED / "amnesty-investigations/2021-12-16_cytrox/domains.txt",
    ])  # fmt: skip
    merged = found.indicators[Indicator(Kind.DOMAIN, "fbc8213450838f7ae251d4519c195138.xyz")]
    assert {s.origin.publisher for s in merged.sources} == {"Meta", "Amnesty International"}


def test_a_dotless_line_in_a_plain_list_is_not_glued_to_the_next() -> None:
    found = collect([FEED / "mvt-indicators/intellexa_predator/domains.txt"])
    assert Indicator(Kind.DOMAIN, "dhll.live") in found.indicators
    assert {r.value: r.reason for r in found.rejected}["despachosnegocios"] == (
        "not a domain name (no dot)"
    )


def test_rows_are_only_joined_when_they_belong_together(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(
        "indicator_type,indicator_value,comment,ds\n"
        "domain_name,notadomain,x,2021-12-16\n"
        "domain_name,example.com,x,2022-01-01\n"  # another date: another sighting
        "domain_name,second,x,2021-12-16\n"
        "ip_address,10.0.0.1,x,2021-12-16\n"  # another type
        "domain_name,tail,x,2021-12-16\n"  # last row: nothing to join with
    )
    found = collect([path])
    assert set(found.indicators) == {
        Indicator(Kind.DOMAIN, "example.com"),
        Indicator(Kind.IPV4, "10.0.0.1"),
    }
    assert sorted(r.value for r in found.rejected) == ["notadomain", "second", "tail"]


def test_amnesty_columns_named_after_types() -> None:
    found = collect([FEED / "amnesty-investigations/2018-08-01_nso/indicators.csv"])
    assert Indicator(Kind.DOMAIN, "14-tracking.com") in found.indicators
    assert Indicator(Kind.IPV4, "191.101.31.25") in found.indicators


def test_stix_bundles_tolerate_custom_objects(tmp_path: Path) -> None:
    bundle = {
        "type": "bundle",
        "id": "bundle--1",
        "objects": [
            {"type": "x-custom-thing", "id": "x-custom-thing--1", "anything": [1, 2]},
            {"type": "indicator", "pattern": "[domain-name:value = 'evil.example.com']"},
            {"type": "indicator", "pattern": "[file:hashes.'SHA-256' = '" + "ab" * 32 + "']"},
            {"type": "indicator", "pattern": "[mutex:name = 'x']"},
        ],
    }
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    found = collect([path])
    assert Indicator(Kind.DOMAIN, "evil.example.com") in found.indicators
    assert Indicator(Kind.SHA256, "ab" * 32) in found.indicators
    assert [r.reason for r in found.rejected] == ["unsupported observable mutex:name"]


@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf"])
def test_odd_but_readable_bundles_take_the_general_reader(tmp_path: Path, prefix: bytes) -> None:
    # A byte-order mark, a non-object among the objects and a non-string name do not
    # fit the fast decoder; the bundle is still read, the same way.
    bundle = {"type": "bundle", "id": "bundle--1", "objects": [
        7,
        {"type": "indicator", "name": ["odd"], "pattern": "[domain-name:value = 'a.example.com']"},
        {"type": "indicator", "pattern": "[url:value = 'https://b.example.com/it\\'s']"},
        {"type": "indicator"},
    ]}  # fmt: skip
    path = tmp_path / "odd.stix2"
    path.write_bytes(prefix + json.dumps(bundle).encode())
    items = list(parsers.parse(path, "stix"))
    found = [(i.origin.line, i.raw, i.note) for i in items if isinstance(i, Sighting)]
    assert found == [
        (2, "a.example.com", "['odd']"),
        (3, "https://b.example.com/it's", ""),
    ]
    assert [(r.line, r.reason) for r in items if isinstance(r, Rejection)] == [
        (4, "indicator without a pattern")
    ]


def test_the_fast_bundle_decoder_reads_what_the_general_reader_reads() -> None:
    for path in (p for p in FEED.rglob("*.stix2")):
        fast = list(parsers.parse(path, "stix", "x"))
        document = json.loads(path.read_text(encoding="utf-8"))
        report = parsers.report_of(path)

        def origin(line: int, path: Path = path, report: str = report) -> Origin:
            return Origin("x", report, str(path), line)

        general = list(parsers.stix_objects(document["objects"], str(path), origin))
        assert fast == general, path
        assert fast


def test_misp_event_shapes(tmp_path: Path) -> None:
    event = {"info": "op", "Tag": [{"name": "tlp:amber"}], "Attribute": [
        {"type": "domain", "value": "evil[.]org"},
        {"type": "filename|sha256", "value": "agent.apk|" + "cd" * 32},
        {"type": "text", "value": "context, not an indicator"},
    ]}  # fmt: skip
    wrapped, response = tmp_path / "event.json", tmp_path / "response.json"
    wrapped.write_text(json.dumps({"Event": event}))
    response.write_text(json.dumps({"response": [{"Event": event}]}))
    for path in (wrapped, response):
        found = collect([path])
        assert set(found.indicators) == {
            Indicator(Kind.DOMAIN, "evil.org"),
            Indicator(Kind.FILENAME, "agent.apk"),
            Indicator(Kind.SHA256, "cd" * 32),
        }
        assert all(s.tlp == "amber" for m in found.merged() for s in m.sources)
        assert found.rejected == []


def test_misp_feed_directory(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"e1": {"info": "x"}}))
    (tmp_path / "e1.json").write_text(
        json.dumps({"Event": {"Attribute": [{"type": "url", "value": "hxxp://a[.]com/x"}]}})
    )
    found = collect([tmp_path])
    assert set(found.indicators) == {Indicator(Kind.URL, "http://a.com/x")}


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "stix", "nested deeper"),
        ('{"type": "bundle", "objects": [', "stix", "not valid JSON"),
        ('{"hello": 1}', None, "neither STIX"),
    ],
)
def test_hostile_or_broken_json_fails_fast_naming_the_file(
    tmp_path: Path, content: str, fmt: str | None, message: str
) -> None:
    path = tmp_path / "hostile.json"
    path.write_text(content)
    with pytest.raises(parsers.ParseError, match=message) as raised:
        list(parsers.parse(path, fmt))
    assert str(path) in str(raised.value)


def test_an_overlong_line_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "domains.txt"
    path.write_text("a" * (parsers.MAX_LINE_CHARS + 1) + "\n")
    with pytest.raises(parsers.ParseError, match=":1: a line longer"):
        list(parsers.parse(path))


def test_the_whole_bundled_feed_parses() -> None:
    collection = Collection()
    from haven.intel import bundled

    for path in bundled.files():
        for item in parsers.parse(path):
            collection.add(item)
    kinds = {m.indicator.kind for m in collection.merged()}
    assert {Kind.DOMAIN, Kind.URL, Kind.SHA256, Kind.IPV4, Kind.APP_ID, Kind.EMAIL} <= kinds
    assert len(collection.indicators) > 15_000
    assert all(isinstance(r, Rejection) and r.reason for r in collection.rejected)


def inner_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as inner:
        inner.writestr("domains.txt", "nested.example.com\n")
    return buffer.getvalue()


def test_zipped_and_gzipped_feeds_are_read_and_named_in_reports(tmp_path: Path) -> None:
    cytrox = FEED / "amnesty-investigations/2021-12-16_cytrox"
    archive = tmp_path / "feed.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.write(cytrox / "domains.txt", "cytrox/domains.txt")
        out.write(cytrox / "cytrox.stix2", "cytrox/cytrox.stix2")
        out.writestr("../../escape.txt", "evil-outside.example.com\nnot a domain\n")
        out.writestr("inner.zip", inner_zip())
    found = collect([archive])
    merged = found.indicators[Indicator(Kind.DOMAIN, "2y4nothing.xyz")]
    assert {s.origin.file for s in merged.sources} == {
        f"{archive}:cytrox/domains.txt",
        f"{archive}:cytrox/cytrox.stix2",
    }
    assert Indicator(Kind.DOMAIN, "evil-outside.example.com") in found.indicators
    assert not (tmp_path.parent / "escape.txt").exists()
    reasons = {(r.file, r.reason) for r in found.rejected}
    assert (f"{archive}:../../escape.txt", "prose or a note, not an indicator") in reasons
    assert (f"{archive}:inner.zip", "an archive inside an archive is not opened") in reasons
    assert Indicator(Kind.DOMAIN, "nested.example.com") not in found.indicators

    gzipped = tmp_path / "cytrox.stix2.gz"
    gzipped.write_bytes(gzip.compress((cytrox / "cytrox.stix2").read_bytes()))
    from_gzip = collect([gzipped])
    assert Indicator(Kind.DOMAIN, "2y4nothing.xyz") in from_gzip.indicators
    assert len(from_gzip.indicators) == len(collect([cytrox / "cytrox.stix2"]).indicators)


def test_a_zip_bomb_stops_at_the_budget(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("domains.txt", b"\n" * (parsers.MAX_FILE_BYTES + 1))
    assert bomb.stat().st_size < parsers.MAX_FILE_BYTES // 500  # highly compressed
    with pytest.raises(parsers.ParseError, match=r"expands beyond .* zip bomb") as raised:
        list(parsers.parse(bomb))
    assert str(bomb) in str(raised.value)


def test_damaged_archives_and_huge_files_fail_fast_naming_the_file(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(parsers.ParseError, match="damaged or unsupported archive"):
        list(parsers.parse(damaged))
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:  # a sparse 2 GiB file: nothing is read
        handle.truncate(2 * 1024**3)
    with pytest.raises(parsers.ParseError, match=r"over the .*-byte limit") as raised:
        list(parsers.parse(huge))
    assert str(huge) in str(raised.value)


def test_billion_laughs_style_references_are_not_expanded(tmp_path: Path) -> None:
    # Each grouping refers to the previous one twice: resolving references would visit
    # 2**40 objects. The importer reads indicators as they stand and never follows refs.
    objects: list[dict[str, object]] = [
        {
            "type": "indicator",
            "id": "indicator--0",
            "pattern": "[domain-name:value = 'x.example.com']",
        }
    ]
    for level in range(1, 41):
        previous = objects[-1]["id"]
        objects.append(
            {"type": "grouping", "id": f"grouping--{level}", "object_refs": [previous, previous]}
        )
    path = tmp_path / "laughs.stix2"
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": objects}))
    found = collect([path])
    assert list(found.indicators) == [Indicator(Kind.DOMAIN, "x.example.com")]
