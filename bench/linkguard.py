"""Link checks: `haven.linkguard` beside the gglsbl anchor (PyPI gglsbl, a pure-Python Safe
Browsing v4 client), on the same machine in one run.

- URL throughput on the same 100k realistic URLs, generated from a fixed seed out of the
  bundled intel feed's domains and addresses (mixed case, IP spellings, ports, user info,
  dot segments, percent-escapes, queries, fragments): canonicalisation alone, and the whole
  expansion (canonical URL -> host-suffix/path-prefix expressions) that a link check needs.
- The Safe Browsing spec's own canonicalisation and expression examples, through both.
- Prefix lookups per second and the memory of a 1M-entry `PrefixSet`.
- The Rice-coded size of a diff that replaces 1% of a 1M-entry prefix list.

`python -m bench.linkguard [--quick]` prints the result as JSON.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.linkguard.test_canonical import SPEC_CANONICAL, SPEC_EXPRESSIONS

from bench.common import AnchorUnavailable, Scale, pip_anchor
from haven.intel.bundled import FEED
from haven.linkguard import (
    PrefixSet,
    apply,
    canonicalize,
    decode,
    diff,
    encode,
    url_expressions,
    url_hashes,
)

GGLSBL_VERSION = "1.4.15"
ANCHOR_SCRIPT = Path(__file__).with_name("anchors") / "gglsbl_canon.py"
SEED = 20_261_123
REPEATS = 3  # best of three passes, on both sides: the 2 cores are shared
SAMPLE = 2_000  # URLs whose canonical forms are compared between Haven and gglsbl
ANCHOR_TIMEOUT_S = 900.0

WORDS = [
    "login", "account", "verify", "secure", "update", "index", "news", "2024", "files",
    "download", "static", "img", "api", "v1", "user", "profile", "docs", "share", "track",
    "redirect", "wp-content", "uploads", "assets", "Signin", "CDN", "app",
]  # fmt: skip
EXTENSIONS = ["", ".html", ".php", ".js", ".apk", ".pdf", ".aspx", ".png"]
QUERY_KEYS = ["id", "q", "ref", "utm_source", "token", "next", "lang", "session"]
ESCAPED = ["%20x", "%7Euser", "caf%C3%A9", "%41%42C", "a%2Fb", "%E4%BD%A0%E5%A5%BD"]
SUBDOMAINS = ["www.", "m.", "cdn.", "login.", "mail.", "a.b.", "api.v2."]


# --- inputs ----------------------------------------------------------------------------


def feed_hosts() -> tuple[list[str], list[str]]:
    """The bundled feed's domains and IPv4 addresses, sorted so every run sees one order."""
    domains: set[str] = set()
    addresses: set[str] = set()
    for name, into in (("domains.txt", domains), ("ip-addresses.txt", addresses)):
        for path in sorted(FEED.rglob(name)):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                value = line.strip()
                if value and not value.startswith("#"):
                    into.add(value)
    return sorted(domains), sorted(a for a in addresses if _is_ipv4(a))


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def realistic_urls(count: int, seed: int = SEED) -> list[str]:
    rng = random.Random(seed)
    domains, addresses = feed_hosts()
    return [_url(rng, domains, addresses) for _ in range(count)]


def _url(rng: random.Random, domains: list[str], addresses: list[str]) -> str:
    scheme = rng.choices(["http://", "https://", "", "HTTP://", "hxxp://"], [40, 47, 6, 5, 2])[0]
    userinfo = "user:pw@" if rng.random() < 0.01 else ""
    port = rng.choice([":8080", ":443", ":80"]) if rng.random() < 0.04 else ""
    fragment = "#" + rng.choice(WORDS) if rng.random() < 0.1 else ""
    host = _host(rng, domains, addresses)
    return f"{scheme}{userinfo}{host}{port}{_path(rng)}{_query(rng)}{fragment}"


def _host(rng: random.Random, domains: list[str], addresses: list[str]) -> str:
    roll = rng.random()
    if roll < 0.08:
        return rng.choice(addresses)
    if roll < 0.10:
        number = int(ipaddress.IPv4Address(rng.choice(addresses)))
        return str(number) if rng.random() < 0.5 else hex(number)
    host = rng.choice(domains)
    if rng.random() < 0.3:
        host = rng.choice(SUBDOMAINS) + host
    if rng.random() < 0.15:
        host = "".join(c.upper() if rng.random() < 0.5 else c for c in host)
    if rng.random() < 0.03:
        host += "."
    return host


def _path(rng: random.Random) -> str:
    depth = rng.choices(range(7), [10, 20, 25, 20, 12, 8, 5])[0]
    segments = [rng.choice(WORDS) for _ in range(depth)]
    if segments and rng.random() < 0.7:
        segments[-1] += rng.choice(EXTENSIONS)
    if segments and rng.random() < 0.1:
        segments[rng.randrange(len(segments))] = rng.choice(ESCAPED)
    path = "/" + "/".join(segments)
    if segments and rng.random() < 0.15:
        path += "/"
    roll = rng.random()
    if roll < 0.03:
        path = "/" + path
    elif roll < 0.06:
        path = "/x/.." + path
    elif roll < 0.08:
        path = "/." + path
    return path if path != "/" or rng.random() < 0.7 else ""


def _query(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return ""
    pairs = []
    for _ in range(rng.randint(1, 4)):
        value = rng.choice(
            [
                str(rng.randrange(10**6)),
                rng.choice(WORDS),
                f"{rng.getrandbits(64):x}",
                "http%3A%2F%2Fexample.com%2Fnext",
            ]
        )
        pairs.append(f"{rng.choice(QUERY_KEYS)}={value}")
    return "?" + "&".join(pairs)


# --- Haven -----------------------------------------------------------------------------


def per_second(work: Callable[[str], object], urls: list[str]) -> float:
    """URLs per second, best of `REPEATS` passes, as the anchor script measures."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        for url in urls:
            work(url)
        best = min(best, time.perf_counter() - start)
    return len(urls) / best


def canonicalize_then_expand(url: str) -> list[str]:
    canonicalize(url)
    return url_expressions(url)


def haven_urls(urls: list[str]) -> dict[str, Any]:
    return {
        "canonicalize_per_s": round(per_second(canonicalize, urls)),
        "expressions_per_s": round(per_second(url_expressions, urls)),
        "canonicalize_then_expressions_per_s": round(per_second(canonicalize_then_expand, urls)),
        "spec_canonical_passed": sum(canonicalize(u) == want for u, want in SPEC_CANONICAL),
        "spec_expressions_passed": sum(url_expressions(u) == want for u, want in SPEC_EXPRESSIONS),
    }


def prefix_figures(entries: int, urls: list[str], rng: random.Random) -> dict[str, Any]:
    prefixes = PrefixSet.from_values(rng.getrandbits(32) for _ in range(entries))
    probes = [full for url in urls for full in url_hashes(url)]
    # Links are almost all clean; one probe in eleven is made to hit.
    members = prefixes.values()
    hits = [
        rng.choice(members).to_bytes(4, "big") + rng.randbytes(28) for _ in range(len(probes) // 10)
    ]
    mixed = probes + hits
    rng.shuffle(mixed)
    best = float("inf")
    found = 0
    for _ in range(REPEATS):
        start = time.perf_counter()
        found = sum(1 for full in mixed if full in prefixes)
        best = min(best, time.perf_counter() - start)
    checks = per_second(lambda url: any(h in prefixes for h in url_hashes(url)), urls)
    return {
        "entries": len(prefixes),
        "nbytes_mib": round(prefixes.nbytes / 2**20, 2),
        "getsizeof_mib": round(sys.getsizeof(prefixes) / 2**20, 2),
        "lookups": len(mixed),
        "hits": found,
        "lookups_per_s": round(len(mixed) / best),
        "url_checks_per_s": round(checks),
    }


def diff_figures(entries: int, rng: random.Random) -> dict[str, Any]:
    """Replace 1% of the entries: that many removed, as many new ones added."""
    old = sorted(rng.sample(range(2**32), entries))
    changed = entries // 100
    gone = set(rng.sample(range(entries), changed))
    present = set(old)
    added: set[int] = set()
    while len(added) < changed:
        value = rng.getrandbits(32)
        if value not in present:
            added.add(value)
    new = sorted([v for i, v in enumerate(old) if i not in gone] + list(added))
    start = time.perf_counter()
    full = encode(old)
    encode_s = time.perf_counter() - start
    start = time.perf_counter()
    decoded = decode(full)
    decode_s = time.perf_counter() - start
    start = time.perf_counter()
    update = diff(old, new)
    diff_s = time.perf_counter() - start
    start = time.perf_counter()
    rebuilt = apply(old, update.additions, update.removals, update.checksum)
    apply_s = time.perf_counter() - start
    size = len(update.additions.encoded_data) + len(update.removals.encoded_data)
    return {
        "entries": entries,
        "changed": changed,
        "full_list_kib": round(len(full.encoded_data) / 1024, 1),
        "full_list_bits_per_entry": round(8 * len(full.encoded_data) / entries, 2),
        "diff_kib": round(size / 1024, 1),
        "diff_additions_kib": round(len(update.additions.encoded_data) / 1024, 1),
        "diff_removals_kib": round(len(update.removals.encoded_data) / 1024, 1),
        "encode_full_s": round(encode_s, 3),
        "decode_full_s": round(decode_s, 3),
        "diff_s": round(diff_s, 3),
        "apply_s": round(apply_s, 3),
        "round_trip_ok": decoded == old and rebuilt == new,
    }


# --- gglsbl ----------------------------------------------------------------------------


def ensure_gglsbl() -> Path:
    return pip_anchor("gglsbl", f"gglsbl=={GGLSBL_VERSION}", "import gglsbl.protocol")


def gglsbl_urls(python: Path, urls: list[str]) -> dict[str, Any]:
    given = {
        "urls": urls,
        "canonical": SPEC_CANONICAL,
        "expressions": SPEC_EXPRESSIONS,
        "sample": SAMPLE,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as handle:
        json.dump(given, handle)
        handle.flush()
        done = subprocess.run(
            [str(python), str(ANCHOR_SCRIPT), handle.name],
            capture_output=True, text=True, check=True, timeout=ANCHOR_TIMEOUT_S,
        )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# --- report ----------------------------------------------------------------------------


# (URLs, prefix-list entries) per run size.
SIZES: dict[Scale, tuple[int, int]] = {
    "full": (100_000, 1_000_000),
    "quick": (10_000, 100_000),
    "smoke": (1_000, 10_000),
}


def measure(scale: Scale = "full") -> dict[str, Any]:
    url_count, entries = SIZES[scale]
    urls = realistic_urls(url_count)
    haven = haven_urls(urls)
    result: dict[str, Any] = {
        "urls": url_count,
        "spec_canonical_examples": len(SPEC_CANONICAL),
        "spec_expression_examples": len(SPEC_EXPRESSIONS),
        "haven": haven,
    }
    try:
        theirs = gglsbl_urls(ensure_gglsbl(), urls)
    except (AnchorUnavailable, subprocess.SubprocessError, OSError, ValueError) as exc:
        print(f"SKIP gglsbl anchor: {exc}")
    else:
        sample = theirs.pop("sample_canonical")
        result["gglsbl"] = {
            "version": GGLSBL_VERSION,
            "canonicalize_per_s": round(theirs["canonical_per_s"]),
            "expressions_per_s": round(theirs["expressions_per_s"]),
            "raised_on": theirs["failures"],
            "spec_canonical_passed": theirs["spec_canonical_passed"],
            "spec_canonical_failures": theirs["spec_canonical_failures"],
            "spec_expressions_passed": theirs["spec_expressions_passed"],
            "spec_expressions_passed_as_set": theirs["spec_expressions_passed_as_set"],
            "same_canonical_as_haven": f"{_agreement(urls, sample)}/{len(sample)}",
        }
        result["ratio"] = {
            "canonicalize": round(haven["canonicalize_per_s"] / theirs["canonical_per_s"], 2),
            "expressions": round(haven["expressions_per_s"] / theirs["expressions_per_s"], 2),
            "canonicalize_then_expressions": round(
                haven["canonicalize_then_expressions_per_s"] / theirs["expressions_per_s"], 2
            ),
        }
    rng = random.Random(SEED)
    result["prefix_set"] = prefix_figures(entries, urls[: url_count // 10], rng)
    result["diff"] = diff_figures(entries, rng)
    return result


def _agreement(urls: list[str], theirs: list[str | None]) -> int:
    return sum(canonicalize(url) == other for url, other in zip(urls, theirs, strict=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    print(json.dumps(measure("quick" if parser.parse_args().quick else "full"), indent=2))


if __name__ == "__main__":
    main()
