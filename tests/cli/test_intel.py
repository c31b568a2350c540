from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from haven.cli.main import app
from haven.intel.bundled import FEED

runner = CliRunner()
CYTROX = (
    FEED
    / "meta-threat-research/indicators/csv/2021_12_taking_action_against_surveillance_for_hire.csv"
)


def test_parse_prints_one_indicator_per_line_with_sources(tmp_path: Path) -> None:
    report = tmp_path / "rejected.jsonl"
    result = runner.invoke(app, ["intel", "parse", str(CYTROX), "--rejected", str(report)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    found = {(i["type"], i["value"]) for i in lines}
    assert ("domain", "2y4nothing.xyz") in found
    assert all(i["sources"][0]["publisher"] == "Meta" for i in lines)
    assert "indicators" in result.stderr
    rejected = [json.loads(line) for line in report.read_text().splitlines()]
    assert all({"file", "line", "value", "reason"} <= set(r) for r in rejected)


def test_parse_a_folder_and_unknown_type(tmp_path: Path) -> None:
    (tmp_path / "domains.txt").write_text("evil[.]com\n# a comment\nsee the report\n")
    result = runner.invoke(app, ["intel", "parse", str(tmp_path)])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["value"] == "evil.com"
    assert "1 rejected" in result.stderr
    refused = runner.invoke(app, ["intel", "parse", str(tmp_path), "--type", "xml"])
    assert refused.exit_code == 2
    assert "unknown --type" in refused.output


def test_a_broken_file_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "bundle", "objects": [')
    result = runner.invoke(app, ["intel", "parse", str(broken), "--type", "stix"])
    assert result.exit_code == 1
    assert "broken.json" in result.output


def test_import_then_search_shows_every_publisher(tmp_path: Path) -> None:
    meta = FEED / "meta-threat-research/indicators/json" / f"{CYTROX.stem}.json"
    amnesty = FEED / "amnesty-investigations/2021-12-16_cytrox"
    data = ["--data-dir", str(tmp_path)]
    first = runner.invoke(app, ["intel", "import", str(meta), *data])
    assert first.exit_code == 0, first.output
    assert "imported" in first.stdout
    second = runner.invoke(app, ["intel", "import", str(amnesty), *data])
    assert second.exit_code == 0, second.output
    found = runner.invoke(app, ["intel", "search", "2y4nothing.xyz", *data])
    [hit] = [json.loads(line) for line in found.stdout.splitlines()]
    assert {s["publisher"] for s in hit["sources"]} == {"Meta", "Amnesty International"}


def test_a_failed_import_imports_nothing(tmp_path: Path) -> None:
    good = tmp_path / "domains.txt"
    good.write_text("good-example.com\n")
    broken = tmp_path / "broken.stix2"
    broken.write_text('{"type": "bundle", "objects": [')
    data = ["--data-dir", str(tmp_path / "data")]
    result = runner.invoke(app, ["intel", "import", str(good), str(broken), *data])
    assert result.exit_code == 1
    assert "broken.stix2" in result.output
    found = runner.invoke(app, ["intel", "search", "good-example", *data])
    assert found.stdout == ""


def test_export_writes_a_stix_bundle_of_what_was_imported(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert runner.invoke(app, ["intel", "import", str(CYTROX), *data]).exit_code == 0
    out = tmp_path / "share.stix2"
    result = runner.invoke(app, ["intel", "export", "--format", "stix", "--out", str(out), *data])
    assert result.exit_code == 0, result.output
    bundle = json.loads(out.read_text())
    names = {o.get("name") for o in bundle["objects"]}
    assert "2y4nothing.xyz" in names
    refused = runner.invoke(app, ["intel", "export", "--format", "csv", "--out", str(out), *data])
    assert refused.exit_code == 2


def test_export_a_misp_feed_folder(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert runner.invoke(app, ["intel", "import", str(CYTROX), *data]).exit_code == 0
    feed = tmp_path / "feed"
    result = runner.invoke(app, ["intel", "export", "--format", "misp", "--out", str(feed), *data])
    assert result.exit_code == 0, result.output
    manifest = json.loads((feed / "manifest.json").read_text())
    [event_id] = manifest
    event = json.loads((feed / f"{event_id}.json").read_text())["Event"]
    assert any(a["value"] == "2y4nothing.xyz" for a in event["Attribute"])
