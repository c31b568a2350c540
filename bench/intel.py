"""Intel parsing: Haven's importer + normaliser beside the `stix2` reference library
(`stix2.parse(..., allow_custom=True)`), on the same bundled STIX files, in one run; plus
Haven alone on the Meta files and its peak memory against the input size."""

from __future__ import annotations

import json
import subprocess
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench.common import AnchorUnavailable, Scale, pip_anchor
from haven.intel import bundled, parsers
from haven.intel.merge import Collection

STIX2_VERSION = "3.0.2"


def ensure_stix2() -> Path:
    return pip_anchor("stix2", f"stix2=={STIX2_VERSION}", "import stix2")


def stix_files() -> list[Path]:
    return [p for p in bundled.files() if parsers.detect(p) == "stix"]


ROUNDS = 5  # both sides: one warm-up pass, then the best of ROUNDS (timeit's advice)


def haven_parse(files: list[Path], rounds: int = ROUNDS) -> dict[str, float]:
    best = float("inf")
    collection = Collection()
    for attempt in range(rounds + 1):
        collection = Collection()
        start = time.perf_counter()
        for path in files:
            for item in parsers.parse(path):
                collection.add(item)
        if attempt:
            best = min(best, time.perf_counter() - start)
    return {"sightings": collection.sightings, "seconds": best}


def peak_memory(files: list[Path]) -> dict[str, float]:
    largest = max(files, key=lambda p: p.stat().st_size)
    tracemalloc.start()
    collection = Collection()
    for item in parsers.parse(largest):
        collection.add(item)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = largest.stat().st_size
    return {"file_mib": round(size / 2**20, 2), "peak_mib": round(peak / 2**20, 2),
            "ratio": round(peak / size, 2)}  # fmt: skip


def smallest(files: list[Path], count: int) -> list[Path]:
    return sorted(files, key=lambda p: p.stat().st_size)[:count]


def run(scale: Scale = "full") -> dict[str, Any]:
    """Every bundled STIX file, best of ROUNDS; a smoke run takes the two smallest, once."""
    smoke = scale == "smoke"
    rounds = 1 if smoke else ROUNDS
    files = smallest(stix_files(), 2) if smoke else stix_files()
    ours = haven_parse(files, rounds)
    result: dict[str, Any] = {
        "stix_files": len(files),
        "haven_us_per_indicator": round(ours["seconds"] / ours["sightings"] * 1e6, 2),
        "haven_indicators": ours["sightings"],
        "memory": peak_memory(files),
    }
    meta = [p for p in bundled.files() if "meta-threat-research" in p.as_posix()]
    meta_run = haven_parse(smallest(meta, 5) if smoke else meta, rounds)
    result["meta_us_per_indicator"] = round(meta_run["seconds"] / meta_run["sightings"] * 1e6, 2)
    try:
        python = ensure_stix2()
        anchor = subprocess.run(
            [str(python), str(Path(__file__).with_name("anchors") / "stix2_parse.py"),
             str(rounds), *map(str, files)],
            capture_output=True, text=True, check=True, timeout=1800,
        )  # fmt: skip
        theirs = json.loads(anchor.stdout)
        result["stix2_us_per_indicator"] = round(theirs["seconds"] / theirs["indicators"] * 1e6, 2)
        result["stix2_indicators"] = theirs["indicators"]
    except (AnchorUnavailable, subprocess.SubprocessError, OSError, ValueError) as exc:
        print(f"SKIP stix2 anchor: {exc}")
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))


def synthetic_records(count: int) -> list[Any]:
    from haven.store.interfaces import IntelRecord, IntelSource

    source = IntelSource("bench", "synthetic", "synthetic.txt", 1, None, "clear")
    return [
        IntelRecord("domain", f"host{i}.example-{i % 997}.com", (source,)) for i in range(count)
    ]


async def import_rate(db_url: str, count: int) -> dict[str, float]:
    """Indicators per second for one import of `count` new indicators (one transaction)."""
    from haven.store.stores import open_stores

    records = synthetic_records(count)
    stores = await open_stores(db_url)
    try:
        start = time.perf_counter()
        summary = await stores.intel.import_records(records, "bench", 1)
        seconds = time.perf_counter() - start
    finally:
        await stores.db.close()
    assert summary.new_indicators == count
    return {"indicators": count, "seconds": round(seconds, 2), "per_s": round(count / seconds)}
