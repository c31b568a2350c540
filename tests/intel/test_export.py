from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import stix2

from haven.intel.bundled import FEED
from haven.intel.export import misp_feed, stix_bundle
from haven.intel.importing import records
from haven.intel.merge import collect
from haven.store.interfaces import IntelRecord, IntelSource

CYTROX = FEED / "amnesty-investigations/2021-12-16_cytrox"


def test_exported_bundle_is_valid_stix_21() -> None:
    bundle = stix_bundle(records(collect(sorted(CYTROX.iterdir()))))
    parsed = stix2.parse(json.dumps(bundle), allow_custom=True)
    indicators = [o for o in parsed.objects if o.type == "indicator"]
    assert len(indicators) > 100
    assert all(o.pattern_type == "stix" for o in indicators)


def test_round_trip_import_export_import_keeps_the_set(tmp_path: Path) -> None:
    source = collect([FEED / "meta-threat-research/indicators/json"
                      / "2021_12_taking_action_against_surveillance_for_hire.json",
                      FEED / "mvt-indicators/intellexa_predator/predator.stix2"])  # fmt: skip
    exported = tmp_path / "out.stix2"
    exported.write_text(json.dumps(stix_bundle(records(source))))
    again = collect([exported])
    assert set(again.indicators) == set(source.indicators)
    assert again.rejected == []


def test_export_is_stable_and_quotes_values() -> None:
    tricky = IntelRecord(
        "url", "http://x.com/it's\\here", (IntelSource("p", "r", "f", 1, None, "clear"),)
    )
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    first, second = stix_bundle([tricky], moment), stix_bundle([tricky], moment)
    assert first["objects"] == second["objects"]
    pattern = first["objects"][1]["pattern"]
    assert pattern == "[url:value = 'http://x.com/it\\'s\\\\here']"
    stix2.parse(json.dumps(first), allow_custom=True)


def test_tlp_red_never_leaves() -> None:
    red = IntelSource("partner", "secret", "f", 1, None, "red")
    clear = IntelSource("public", "report", "f", 2, None, "clear")
    bundle = stix_bundle([
        IntelRecord("domain", "only-red.example.com", (red,)),
        IntelRecord("domain", "both.example.com", (red, clear)),
    ])  # fmt: skip
    indicators = [o for o in bundle["objects"] if o["type"] == "indicator"]
    assert [o["name"] for o in indicators] == ["both.example.com"]
    assert indicators[0]["external_references"] == [
        {"source_name": "public", "description": "report"}
    ]


def test_misp_feed_loads_in_pymisp_and_round_trips(tmp_path: Path) -> None:
    from pymisp import MISPEvent

    source = collect([FEED / "mvt-indicators/intellexa_predator/predator.stix2"])
    feed = misp_feed(records(source))
    for name, document in feed.items():
        (tmp_path / name).write_text(json.dumps(document))
    [event_file] = [p for p in tmp_path.iterdir() if p.name != "manifest.json"]
    event = MISPEvent()
    event.load_file(event_file)
    assert len(event.attributes) == len(source.indicators)
    again = collect([tmp_path])  # read back as a MISP feed
    assert set(again.indicators) == set(source.indicators)
