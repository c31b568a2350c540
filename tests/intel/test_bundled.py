from __future__ import annotations

from haven.intel import bundled


def test_the_bundled_feed_is_an_intact_copy_with_its_licences() -> None:
    assert bundled.verify() == []
    names = {p.name for p in bundled.FEED.rglob("*")}
    assert {"SOURCES.md", "LICENSE", "LICENSE-NOTE.md"} <= names


def test_the_bundled_feed_lists_only_indicator_files() -> None:
    files = bundled.files()
    assert len(files) > 150
    assert not any(p.name in {"LICENSE", "README.md", "index.json"} for p in files)
