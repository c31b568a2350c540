from __future__ import annotations

from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from haven.merkle import (
    MemoryLeafStore,
    MerkleLog,
    SignedTreeHead,
    TreeHead,
    leaf_hash,
    sign_head,
    verify_log,
)

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = KEY.public_key()


@dataclass
class Log:
    """A log as a deployment keeps it: entries, the store's leaf hashes, the signed heads."""

    entries: list[bytes]
    leaf_hashes: list[bytes]
    heads: list[SignedTreeHead]


def build(count: int, every: int) -> Log:
    """`count` entries, appended `every` at a time, with a head signed after each append."""
    log = MerkleLog(MemoryLeafStore())
    items = [f'{{"action": "suspend", "account": {i}}}'.encode() for i in range(count)]
    heads = []
    for start in range(0, count, every):
        size = log.append(items[start : start + every])
        heads.append(sign_head(KEY, TreeHead(size, log.root(), 1_000 + start)))
    return Log(items, log.store.leaf_hashes(0, count), heads)


def edit(items: list[bytes], at: int) -> list[bytes]:
    return [*items[:at], b'{"action": "nothing to see"}', *items[at + 1 :]]


def delete(items: list[bytes], at: int) -> list[bytes]:
    return [*items[:at], *items[at + 1 :]]


def insert(items: list[bytes], at: int) -> list[bytes]:
    return [*items[:at], b'{"action": "backdated"}', *items[at:]]


def swap(items: list[bytes], at: int, other: int) -> list[bytes]:
    changed = list(items)
    changed[at], changed[other] = changed[other], changed[at]
    return changed


def test_intact_log_verifies() -> None:
    log = build(300, 7)
    report = verify_log(log.entries, log.heads, PUBLIC, leaf_hashes=log.leaf_hashes)
    assert report.ok, report.problem
    assert (report.entries, report.heads_checked, report.covered) == (300, 43, 300)
    assert report.first_bad_entry is None
    assert report.problem == ""


def test_empty_log_verifies() -> None:
    assert verify_log([], [], PUBLIC).ok


# With a head after every entry, the heads alone name the entry.
@pytest.mark.parametrize(
    ("tampered", "first"),
    [
        (edit, 123),
        (delete, 123),
        (insert, 123),
        (lambda items, at: swap(items, at, at + 40), 123),
        (lambda items, at: items[:at], 123),  # truncation
    ],
)
def test_heads_after_every_entry_name_the_entry(tampered: object, first: int) -> None:
    log = build(200, 1)
    entries = tampered(log.entries, 123)  # type: ignore[operator]
    report = verify_log(entries, log.heads, PUBLIC)
    assert not report.ok
    assert report.first_bad_entry == first
    assert report.bad_head == first  # head k covers entries 0..k
    assert report.heads_checked == first
    assert report.covered == first
    assert f"entry {first}" in report.problem


# With sparse heads, the recorded leaf hashes (authenticated by the failing head) name it and
# tell what kind of change it was.
@pytest.mark.parametrize(
    ("tampered", "change", "sentence"),
    [
        (edit, "altered", "entry 1234 was altered"),
        (delete, "removed", "entry 1234 was removed"),
        (insert, "inserted", "an entry was inserted at entry 1234"),
        (lambda items, at: swap(items, at, at + 1), "reordered", "signed as entry 1235"),
        (lambda items, at: swap(items, at, at + 500), "reordered", "signed as entry 1734"),
        (lambda items, at: [*items[:at], *items[at + 3 :]], "removed", "entries 1234..1236"),
        (lambda items, at: items[:at], "removed", "entries 1234..2047 were removed"),
    ],
)
def test_recorded_leaf_hashes_name_and_classify_the_change(
    tampered: object, change: str, sentence: str
) -> None:
    log = build(2048, 256)
    entries = tampered(log.entries, 1234)  # type: ignore[operator]
    report = verify_log(entries, log.heads, PUBLIC, leaf_hashes=log.leaf_hashes)
    assert not report.ok
    assert report.first_bad_entry == 1234
    assert report.change == change
    assert sentence in report.problem
    # Heads 0..3 cover entries 0..1023 and still match; head 4 (size 1280) is the first that
    # does not, so the heads alone bracket the change in [1024, 1280), or up to the end of a
    # truncated log.
    assert report.bad_head == 4
    assert report.heads_checked == 4
    assert report.bad_range == (1024, min(1280, len(entries) + 1))
    assert report.covered == 1024


def test_sparse_heads_without_recorded_hashes_give_the_bracket() -> None:
    log = build(2048, 256)
    report = verify_log(edit(log.entries, 1234), log.heads, PUBLIC)
    assert not report.ok
    assert report.first_bad_entry is None
    assert report.bad_range == (1024, 1280)
    assert "one of 1024..1279" in report.problem


def test_rewritten_recorded_hashes_fall_back_to_the_bracket() -> None:
    # An attacker who edits an entry and rewrites its recorded leaf hash to match.
    log = build(2048, 256)
    entries = edit(log.entries, 1234)
    rewritten = [*log.leaf_hashes[:1234], leaf_hash(entries[1234]), *log.leaf_hashes[1235:]]
    report = verify_log(entries, log.heads, PUBLIC, leaf_hashes=rewritten)
    assert not report.ok
    assert report.first_bad_entry is None
    assert report.bad_range == (1024, 1280)
    assert "do not match head 4 either" in report.problem
    # With a head after every entry the same attack is still pinned down exactly.
    dense = build(300, 1)
    entries = edit(dense.entries, 150)
    rewritten = [*dense.leaf_hashes[:150], leaf_hash(entries[150]), *dense.leaf_hashes[151:]]
    report = verify_log(entries, dense.heads, PUBLIC, leaf_hashes=rewritten)
    assert report.first_bad_entry == 150


def test_forged_head_signature_is_reported() -> None:
    log = build(100, 10)
    forged = bytearray(log.heads[3].signature)
    forged[0] ^= 1
    heads = [*log.heads[:3], SignedTreeHead(log.heads[3].head, bytes(forged)), *log.heads[4:]]
    report = verify_log(log.entries, heads, PUBLIC)
    assert not report.ok
    assert report.bad_head == 3
    assert report.first_bad_entry is None
    assert "signature does not verify" in report.problem


def test_heads_signed_by_another_key_are_refused() -> None:
    log = build(20, 5)
    other = Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key()
    report = verify_log(log.entries, log.heads, other)
    assert not report.ok
    assert report.bad_head == 0


def test_a_fork_is_reported() -> None:
    # The key signed two different roots for size 10: a split view, whatever the entries say.
    log = build(20, 10)
    other = MerkleLog(MemoryLeafStore())
    other.append([b"another history"] * 10)
    fork = sign_head(KEY, TreeHead(10, other.root(), 5_000))
    report = verify_log(log.entries, [log.heads[0], fork, log.heads[1]], PUBLIC)
    assert not report.ok
    assert report.bad_head == 1
    assert "fork" in report.problem


def test_heads_going_back_are_reported() -> None:
    log = build(30, 10)
    report = verify_log(log.entries, [log.heads[1], log.heads[0]], PUBLIC)
    assert (report.ok, report.bad_head) == (False, 1)
    assert "went back" in report.problem
    older = sign_head(KEY, TreeHead(30, log.heads[2].root, 1))
    report = verify_log(log.entries, [log.heads[1], older], PUBLIC)
    assert (report.ok, report.bad_head) == (False, 1)
    assert "dated before" in report.problem


def test_corrupt_recorded_hash_of_a_signed_entry_is_reported() -> None:
    # The entries are intact, but the store would serve proofs for a wrong leaf.
    log = build(50, 10)
    recorded = list(log.leaf_hashes)
    recorded[17] = leaf_hash(b"corrupt")
    report = verify_log(log.entries, log.heads, PUBLIC, leaf_hashes=recorded)
    assert not report.ok
    assert report.first_bad_entry == 17
    assert "recorded leaf hash of entry 17 is wrong" in report.problem


def test_unsigned_tail_is_ok_but_not_covered() -> None:
    log = build(40, 10)
    extra = [b"appended after the last head"]
    recorded = [*log.leaf_hashes, leaf_hash(extra[0])]
    report = verify_log(log.entries + extra, log.heads, PUBLIC, leaf_hashes=recorded)
    assert report.ok
    assert (report.entries, report.covered) == (41, 40)
    # ...but an unsigned entry that does not match its recorded hash is caught.
    report = verify_log([*log.entries, b"swapped"], log.heads, PUBLIC, leaf_hashes=recorded)
    assert (report.ok, report.first_bad_entry) == (False, 40)


TAMPERS = {
    "altered": lambda items, at: edit(items, at),
    "removed": lambda items, at: delete(items, at),
    "inserted": lambda items, at: insert(items, at),
    "reordered": lambda items, at: swap(items, at, len(items) - 1),
}


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(2, 150),
    every=st.integers(1, 40),
    kind=st.sampled_from(sorted(TAMPERS)),
    data=st.data(),
)
def test_any_tamper_is_found_and_named(
    count: int, every: int, kind: str, data: st.DataObject
) -> None:
    log = build(count, every)
    at = data.draw(st.integers(0, count - 2), label="entry")
    entries = TAMPERS[kind](log.entries, at)
    report = verify_log(entries, log.heads, PUBLIC, leaf_hashes=log.leaf_hashes)
    assert not report.ok
    assert report.first_bad_entry == at
    assert report.change == kind
    # Without the recorded hashes the heads still bracket it, exactly when one entry wide.
    bare = verify_log(entries, log.heads, PUBLIC)
    assert bare.bad_range is not None
    lo, hi = bare.bad_range
    assert lo <= at < hi
    assert bare.first_bad_entry == (at if hi - lo == 1 else None)
