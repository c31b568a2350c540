"""Merkle log: `haven.merkle` on this machine, beside sigstore-python's RFC 6962 inclusion
verifier (PyPI sigstore, the Sigstore project's client; its `verify_merkle_inclusion` is a
port of Trillian's verifier) in its own venv, on the same proofs, in one run.

- Appending 1M entries (64 bytes each) in batches of 10k, and single-entry appends after that.
- Verifying the whole log with `verify_log`: leaf hashes, tree, one signed head per 10k
  entries, and the recorded leaf hashes.
- Inclusion and consistency proofs on the 1M-entry log: generation and verification, in µs.
- The anchor verifies the same inclusion proofs (leaf hashing included on both sides, as its
  function hashes the entry itself), must accept every one and refuse a corrupted copy of each.

`python -m bench.merkle [--quick]` prints the result as JSON. Rates are the best of three
passes: the 2 cores are shared.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.common import AnchorUnavailable, Scale, pip_anchor
from haven.merkle import (
    MemoryLeafStore,
    MerkleLog,
    ProofError,
    TreeHead,
    leaf_hash,
    sign_head,
    verify_consistency,
    verify_inclusion,
    verify_log,
)

SIGSTORE_VERSION = "4.5.1"
SEED = 20_261_201
REPEATS = 3
ENTRY_BYTES = 64
BATCH = 10_000
HEAD_EVERY = 10_000
INSTALL_TIMEOUT_S = 900.0
ANCHOR_TIMEOUT_S = 600.0

# Run by the anchor's venv. `verify_merkle_inclusion` reads a Rekor entry's
# `_inner.inclusion_proof` and `_inner.canonicalized_body`; plain namespaces stand in for it,
# so what is timed is sigstore's own function, unchanged.
ANCHOR_SCRIPT = r"""
import json, sys, time
from types import SimpleNamespace
from sigstore._internal.merkle import verify_merkle_inclusion
from sigstore.errors import VerificationError

given = json.load(open(sys.argv[1]))
def entry(body, index, size, path, root):
    proof = SimpleNamespace(log_index=index, tree_size=size, root_hash=bytes.fromhex(root),
                            hashes=[bytes.fromhex(h) for h in path])
    return SimpleNamespace(_inner=SimpleNamespace(inclusion_proof=proof,
                                                  canonicalized_body=bytes.fromhex(body)))
good = [entry(*case) for case in given["good"]]
bad = [entry(*case) for case in given["bad"]]
def accepts(e):
    try:
        verify_merkle_inclusion(e)
    except VerificationError:
        return False
    return True
best = float("inf")
for _ in range(given["repeats"]):
    start = time.perf_counter()
    for e in good:
        verify_merkle_inclusion(e)
    best = min(best, time.perf_counter() - start)
print(json.dumps({
    "verify_us": best / len(good) * 1e6,
    "accepted_good": sum(map(accepts, good)),
    "refused_bad": sum(not accepts(e) for e in bad),
}))
"""


def best_of(run: Callable[[], object], repeats: int = REPEATS) -> float:
    """The shortest of `repeats` runs, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def make_entries(count: int, rng: random.Random) -> list[bytes]:
    blob = rng.randbytes(count * ENTRY_BYTES)
    return [blob[i : i + ENTRY_BYTES] for i in range(0, len(blob), ENTRY_BYTES)]


def build(entries: list[bytes]) -> MerkleLog:
    log = MerkleLog(MemoryLeafStore())
    for start in range(0, len(entries), BATCH):
        log.append(entries[start : start + BATCH])
    return log


def flip_first_byte(path: list[bytes]) -> list[bytes]:
    return [bytes([path[0][0] ^ 1]) + path[0][1:], *path[1:]]


def haven_figures(
    entries: list[bytes], samples: int, rng: random.Random
) -> tuple[dict[str, Any], list[tuple[bytes, int, int, list[bytes], bytes]]]:
    count = len(entries)
    figures: dict[str, Any] = {"entries": count, "entry_bytes": ENTRY_BYTES}

    append_s = best_of(lambda: build(entries), repeats=2)
    figures["append_per_s"] = round(count / append_s)
    log = build(entries)

    key = Ed25519PrivateKey.generate()
    heads = [
        sign_head(key, TreeHead(size, log.root(size), 1_000 + size))
        for size in range(HEAD_EVERY, count + 1, HEAD_EVERY)
    ]
    recorded = log.store.leaf_hashes(0, count)
    public = key.public_key()

    def verify_all() -> None:
        report = verify_log(entries, heads, public, leaf_hashes=recorded)
        assert report.ok, report.problem

    figures["verify_log_entries_per_s"] = round(count / best_of(verify_all, repeats=2))
    figures["verify_log_heads"] = len(heads)

    size, root = count, log.root()
    indexes = [rng.randrange(size) for _ in range(samples)]
    proofs = [log.inclusion_proof(index) for index in indexes]
    generate_s = best_of(lambda: [log.inclusion_proof(index) for index in indexes])
    hashes = [log.leaf_hash(i) for i in indexes]
    cases = list(zip(hashes, indexes, proofs, strict=True))

    def verify_inclusions() -> None:
        for leaf, index, path in cases:
            verify_inclusion(leaf, index, size, path, root)

    def verify_inclusions_hashing() -> None:
        for index, path in zip(indexes, proofs, strict=True):
            verify_inclusion(leaf_hash(entries[index]), index, size, path, root)

    figures["inclusion_generate_us"] = round(generate_s / samples * 1e6, 1)
    figures["inclusion_verify_us"] = round(best_of(verify_inclusions) / samples * 1e6, 1)
    figures["inclusion_verify_with_leaf_hash_us"] = round(
        best_of(verify_inclusions_hashing) / samples * 1e6, 1
    )
    figures["inclusion_path_hashes"] = round(sum(map(len, proofs)) / samples, 1)
    refused = 0
    for leaf, index, path in cases:
        try:
            verify_inclusion(leaf, index, size, flip_first_byte(path), root)
        except ProofError:
            refused += 1
    figures["inclusion_corrupted_refused"] = f"{refused}/{samples}"

    olds = [rng.randrange(1, size) for _ in range(samples)]
    old_roots = [log.root(old) for old in olds]
    consistency = [log.consistency_proof(old) for old in olds]
    generate_s = best_of(lambda: [log.consistency_proof(old) for old in olds])

    def verify_consistencies() -> None:
        for old, old_root, path in zip(olds, old_roots, consistency, strict=True):
            verify_consistency(old, size, old_root, root, path)

    figures["consistency_generate_us"] = round(generate_s / samples * 1e6, 1)
    figures["consistency_verify_us"] = round(best_of(verify_consistencies) / samples * 1e6, 1)
    figures["consistency_path_hashes"] = round(sum(map(len, consistency)) / samples, 1)

    # Last, as it grows the log: the audit log appends one action at a time.
    singles = [f"single {i}".encode() for i in range(samples)]
    start = time.perf_counter()
    for item in singles:
        log.append([item])
    figures["append_one_at_a_time_per_s"] = round(samples / (time.perf_counter() - start))

    anchor_cases = [
        (entries[index], index, size, path, root)
        for index, path in zip(indexes, proofs, strict=True)
    ]
    return figures, anchor_cases


# --- sigstore ------------------------------------------------------------------------------


def ensure_sigstore() -> Path:
    return pip_anchor(
        "sigstore", f"sigstore=={SIGSTORE_VERSION}", "import sigstore._internal.merkle",
        timeout=INSTALL_TIMEOUT_S, heavy=True,
    )  # fmt: skip


def sigstore_figures(
    python: Path, cases: list[tuple[bytes, int, int, list[bytes], bytes]]
) -> dict[str, Any]:
    def encode(case: tuple[bytes, int, int, list[bytes], bytes]) -> list[Any]:
        body, index, size, path, root = case
        return [body.hex(), index, size, [h.hex() for h in path], root.hex()]

    given = {
        "good": [encode(c) for c in cases],
        "bad": [encode((b, i, s, flip_first_byte(p), r)) for b, i, s, p, r in cases],
        "repeats": REPEATS,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as handle:
        json.dump(given, handle)
        handle.flush()
        done = subprocess.run(
            [str(python), "-c", ANCHOR_SCRIPT, handle.name],
            capture_output=True, text=True, check=True, timeout=ANCHOR_TIMEOUT_S,
        )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# --- report --------------------------------------------------------------------------------


# (log entries, proofs sampled) per run size.
SIZES: dict[Scale, tuple[int, int]] = {
    "full": (1_000_000, 5_000),
    "quick": (100_000, 1_000),
    "smoke": (20_000, 100),
}


def measure(scale: Scale = "full") -> dict[str, Any]:
    count, samples = SIZES[scale]
    rng = random.Random(SEED)
    entries = make_entries(count, rng)
    haven, cases = haven_figures(entries, samples, rng)
    result: dict[str, Any] = {"haven": haven}
    try:
        theirs = sigstore_figures(ensure_sigstore(), cases)
    except (AnchorUnavailable, subprocess.SubprocessError, OSError, ValueError) as exc:
        print(f"SKIP sigstore anchor: {exc}", file=sys.stderr)
    else:
        result["sigstore"] = {
            "version": SIGSTORE_VERSION,
            "inclusion_verify_with_leaf_hash_us": round(theirs["verify_us"], 1),
            "accepted_haven_proofs": f"{theirs['accepted_good']}/{len(cases)}",
            "refused_corrupted_proofs": f"{theirs['refused_bad']}/{len(cases)}",
        }
        result["ratio"] = {
            # > 1: Haven verifies faster.
            "inclusion_verify": round(
                theirs["verify_us"] / haven["inclusion_verify_with_leaf_hash_us"], 2
            ),
        }
        result["notes"] = [
            "sigstore-python verifies inclusion proofs only (no consistency proofs, no "
            "log building), so only inclusion verification has an anchor."
        ]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    print(json.dumps(measure("quick" if parser.parse_args().quick else "full"), indent=2))


if __name__ == "__main__":
    main()
