"""Run by the gglsbl anchor's own venv: canonicalise and expand URLs with gglsbl's
`gglsbl.protocol.URL`, and run the Safe Browsing spec examples through it.

Usage: python gglsbl_canon.py INPUT.json, where INPUT holds {"urls": [...], "canonical":
[[input, expected], ...], "expressions": [[input, [expected, ...]], ...], "sample": N}.
Prints {"canonical_per_s", "expressions_per_s", "failures", "spec_canonical_passed",
"spec_expressions_passed", "spec_expressions_passed_as_set", "spec_canonical_failures",
"sample_canonical"} as JSON. Rates are the best of three passes over all the URLs.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Callable
from typing import Any

# Imported by name so that Haven's type checker, which has no gglsbl, needs no stub.
URL: Any = importlib.import_module("gglsbl.protocol").URL
REPEATS = 3


def canonical(url: str | bytes) -> str | None:
    try:
        return str(URL(url).canonical)
    except Exception:  # gglsbl raises on some inputs; the table counts that as a miss
        return None


def expressions(url: str) -> list[str] | None:
    try:
        return list(URL.url_permutations(URL(url).canonical))
    except Exception:
        return None


def rate(work: Callable[[str], object], urls: list[str]) -> tuple[float, int]:
    """URLs per second (best pass) and how many URLs raised."""
    best = float("inf")
    failures = 0
    for _ in range(REPEATS):
        failures = 0
        start = time.perf_counter()
        for url in urls:
            try:
                work(url)
            except Exception:
                failures += 1
        best = min(best, time.perf_counter() - start)
    return len(urls) / best, failures


def main(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        given = json.load(handle)
    urls: list[str] = given["urls"]
    canonical_rate, failures = rate(lambda u: URL(u).canonical, urls)
    expressions_rate, _ = rate(lambda u: list(URL.url_permutations(URL(u).canonical)), urls)
    # The spec writes byte strings; gglsbl takes bytes, so it gets exactly those bytes.
    canonical_failures = [
        [url, expected, canonical(url.encode("utf-8", "surrogateescape"))]
        for url, expected in given["canonical"]
        if canonical(url.encode("utf-8", "surrogateescape")) != expected
    ]
    expanded = [(expressions(url), expected) for url, expected in given["expressions"]]
    return {
        "canonical_per_s": canonical_rate,
        "expressions_per_s": expressions_rate,
        "failures": failures,
        "spec_canonical_passed": len(given["canonical"]) - len(canonical_failures),
        "spec_canonical_failures": canonical_failures,
        "spec_expressions_passed": sum(got == want for got, want in expanded),
        "spec_expressions_passed_as_set": sum(
            got is not None and sorted(got) == sorted(want) for got, want in expanded
        ),
        "sample_canonical": [canonical(url) for url in urls[: given["sample"]]],
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
