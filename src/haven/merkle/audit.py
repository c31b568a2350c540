"""Verify a whole log against its signed tree heads, and name the first entry that changed.

What a verifier holding the entries and the heads can prove:

1. Every head's signature, and that heads never go back in size or time.
2. For each head, in order, whether MTH(entries[:size]) is the signed root. If heads 0..k-1
   match and head k does not, entries [0, g) are exactly what was signed, g being the largest
   size of a matching head, and the first changed entry is in [g, size_k). That bracket is all
   the roots can tell; it is one entry wide when heads are signed after every append.
3. To name the entry inside a wider bracket, the verifier takes the log's *recorded* leaf hashes
   (the `LeafStore` column) as an untrusted witness. If MTH(recorded[:size_k]) is head k's
   signed root, the recorded hashes are exactly what head k committed to (short of a SHA-256
   collision), so the first index where leaf_hash(entry) differs from them is the first
   changed entry, and comparing the two sequences after it tells an edit from a removal, an
   insertion or a move. An attacker who also rewrote the recorded hashes makes them fail that
   check, and the report falls back to the bracket of step 2.

`verify_log` stops at the first problem: everything before it has been proven, nothing after.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from haven.merkle.hashing import leaf_hashes_of, root_of
from haven.merkle.heads import HeadError, SignedTreeHead, public_key, verify_head
from haven.merkle.log import MemoryLeafStore, MerkleLog


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    entries: int  # how many entries were given
    heads_checked: int  # heads whose signature and root were verified before any problem
    first_bad_entry: int | None  # set only when the verifier can prove which entry it is
    problem: str  # empty when ok
    change: str | None = None  # "altered" | "removed" | "inserted" | "reordered", when known
    bad_head: int | None = None  # position in `heads` of the first head that failed
    bad_range: tuple[int, int] | None = None  # [lo, hi): the first changed entry is in here
    covered: int = 0  # entries [0, covered) are proven by a verified head


def _first_difference(a: Sequence[bytes], b: Sequence[bytes]) -> int:
    """The first index where `a` and `b` differ, or the shorter length if one is a prefix."""
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return index
    return min(len(a), len(b))


def _classify(current: list[bytes], recorded: list[bytes], first: int) -> tuple[str, str]:
    """What happened at `first`, the first index where the entries' leaf hashes (`current`)
    differ from the recorded ones: (change, sentence). The index is proven (the recorded hashes
    up to the failing head are authenticated); the kind of change is read off how the two
    sequences line up again after it, so it is a description, not a proof."""
    if first >= len(current):
        last = len(recorded) - 1
        what = f"entry {first} was" if first == last else f"entries {first}..{last} were"
        return "removed", f"{what} removed (the log ends at {len(current)} entries)"
    found = current[first]
    try:
        moved_from: int | None = recorded.index(found, first + 1)
    except ValueError:
        moved_from = None
    if moved_from is not None and current[first:] == recorded[moved_from:]:
        last = moved_from - 1
        what = f"entry {first} was" if first == last else f"entries {first}..{last} were"
        return "removed", f"{what} removed"
    try:
        resumes = current.index(recorded[first], first + 1)
    except (ValueError, IndexError):
        resumes = -1
    if resumes > 0 and current[resumes:] == recorded[first:]:
        count = resumes - first
        what = "an entry was" if count == 1 else f"{count} entries were"
        return "inserted", f"{what} inserted at entry {first}"
    if moved_from is not None:
        return "reordered", f"entry {first} is out of order: it was signed as entry {moved_from}"
    return "altered", f"entry {first} was altered"


def _bracket(
    current: Sequence[bytes], lo: int, size: int, k: int
) -> tuple[int | None, tuple[int, int], str]:
    """The first changed entry is in [lo, hi); hi = size, or one past the last entry when the
    head covers entries the log no longer has."""
    hi = min(size, len(current) + 1)
    if hi - lo == 1:
        if lo == len(current):
            return lo, (lo, hi), f"entry {lo} was removed (the log ends at {len(current)} entries)"
        return lo, (lo, hi), f"entry {lo} differs from what head {k} signed"
    return (
        None,
        (lo, hi),
        f"the first changed entry is one of {lo}..{hi - 1} (heads bracket it; give the "
        "recorded leaf hashes to name it)",
    )


def verify_log(
    entries: Sequence[bytes],
    heads: Sequence[SignedTreeHead],
    public: Ed25519PublicKey | bytes,
    *,
    leaf_hashes: Sequence[bytes] | None = None,
) -> VerifyReport:
    """Check `entries` (the log's entries, in order) against `heads` (its signed tree heads, in
    the order they were issued) under the log's public key, and against `leaf_hashes` (the
    log's stored leaf hashes) when given. See the module docstring for what is proven.

    Raises `HeadError` only if `public` is not an Ed25519 public key; every problem with the
    log itself is in the report."""
    key = public_key(public)
    current = leaf_hashes_of(entries)
    log = MerkleLog(MemoryLeafStore())
    log.append_hashes(current)
    count = len(current)
    covered = 0

    def failed(
        checked: int,
        problem: str,
        *,
        head: int | None = None,
        first: int | None = None,
        change: str | None = None,
        bad_range: tuple[int, int] | None = None,
    ) -> VerifyReport:
        return VerifyReport(
            ok=False,
            entries=count,
            heads_checked=checked,
            first_bad_entry=first,
            problem=problem,
            change=change,
            bad_head=head,
            bad_range=bad_range,
            covered=covered,
        )

    previous: SignedTreeHead | None = None
    for k, signed in enumerate(heads):
        where = f"head {k} (size {signed.size})"
        try:
            verify_head(key, signed)
        except HeadError:
            return failed(k, f"{where}: the signature does not verify", head=k)
        if previous is not None and signed.size < previous.size:
            return failed(k, f"{where} is smaller than head {k - 1}: the log went back", head=k)
        if previous is not None and signed.timestamp_ms < previous.timestamp_ms:
            return failed(k, f"{where} is dated before head {k - 1}", head=k)
        previous = signed
        if signed.size <= count and log.root(signed.size) == signed.root:
            covered = signed.size
            continue
        if signed.size <= covered:
            return failed(
                k, f"{where} contradicts an earlier head for the same entries (a fork)", head=k
            )
        first, bracket, sentence = _bracket(current, covered, signed.size, k)
        change = "removed" if first is not None and first == count else None
        if leaf_hashes is not None:
            named = _name_with_record(current, leaf_hashes, signed)
            if named is not None:
                first, change, sentence = named
            else:
                sentence += f"; the recorded leaf hashes do not match head {k} either"
        return failed(
            k,
            f"{sentence}; {where} does not match the entries",
            head=k,
            first=first,
            change=change,
            bad_range=bracket,
        )

    if leaf_hashes is not None:
        recorded = list(leaf_hashes)
        if recorded != current:
            first = _first_difference(current, recorded)
            if first < covered:
                problem = f"the recorded leaf hash of entry {first} is wrong (the entry is signed)"
            elif first >= count:
                problem = f"the log has {count} entries but {len(recorded)} recorded leaf hashes"
            else:
                problem = f"entry {first} does not match its recorded leaf hash (not yet signed)"
            return failed(len(heads), problem, first=first)
    return VerifyReport(
        ok=True,
        entries=count,
        heads_checked=len(heads),
        first_bad_entry=None,
        problem="",
        covered=covered,
    )


def _name_with_record(
    current: list[bytes], recorded_hashes: Sequence[bytes], failing: SignedTreeHead
) -> tuple[int, str, str] | None:
    """Name the first changed entry from the recorded leaf hashes, if the failing head
    authenticates them; None if it does not (they were rewritten too, or are incomplete)."""
    recorded = list(recorded_hashes)
    if len(recorded) < failing.size:
        return None
    if root_of(recorded[: failing.size]) != failing.root:
        return None
    first = _first_difference(current, recorded[: failing.size])
    if first >= failing.size:
        return None  # the entries match what the head signed after all: cannot happen
    change, sentence = _classify(current, recorded, first)
    return first, change, sentence
