"""Expression hashes and the client's prefix set."""

from __future__ import annotations

import hashlib
import random
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.linkguard import PrefixSet, expression_hash, prefix_checksum, url_hashes

# SHA-256 of each expression of the spec's examples, in the spec's order (the same vectors
# Epiphany's Safe Browsing client tests against).
SPEC_HASHES: list[tuple[str, list[str]]] = [
    (
        "http://a.b.c/1/2.html?param=1",
        [
            "1cd5cf5ed8e6df424bdbb400f7b2a3fcb215c4c3f7fa2965a11446cde3c162f3",
            "8b19a5a51125f023af4a26e2aef4caae352623d05ffdc859433be84823ec4053",
            "f9c142c4c0c9e669e0924b45f5b1b8dd1fdf85d182b674a4ec415b1f58ac2667",
            "59e650c465d9cbded1f95322e19fb1481f9500342a240c4a18a7a5ef4b103e1c",
            "9b7d85bbdfa3c8ba1796a96ea91094730350c8b12a9552028123b1cc1918cc56",
            "1803dee47cc6adec025aefd26ff5b44408f14d6e250defe7d0ae2444f0f8e106",
            "b225cf5dcf266f3ff0b32319a72cf23fca7c53c98cb4af1a7bbfe413415407f1",
            "ac5f446d55d0807d211e05fd5482534b0dc99d7b9f255174f9dba30b9ebc01ac",
        ],
    ),
    (
        "http://a.b.c.d.e.f.g/1.html",
        [
            "8c39d0c311331cfae87867aa52a98ef3c995b121c0f7bc750164996a4b3ab43f",
            "ce385c58c19493d2e4ac23fbb1d4faccde65b73bfcc4f3b6ba62addf905fbf41",
            "37a343cf5d2e00eeb103175c8e4b0adddbef6348f6c60e732a4952fc0a053d89",
            "f1930a298cf214f0459049ad655838b080a9ba886dd0c759e21c8af005528d14",
            "0285b5d5ad2aa12ff24d0fc9ac820725061a659fdd369857a422cfe4cbb04e4e",
            "4fd37f62520c129f29525fd3d1eb9b04511b632e4aef190dbc23f8519d7ccd7e",
            "a5a5563280f2da618e8a6b14060d909679446767c7d3bbcc23c9b02419b12289",
            "4e378632a186388136b13689a85bf63d2f8fcf50c93b1468c4e20cd12423f2f8",
            "e42d99efd820eeb6fad77109534a6af1b5cb6bd7755958fead91e0790850a303",
            "9401530ee6371f3f1cb82e463223e7bf5fd3ab8b85872d477509110467b4c9e1",
        ],
    ),
    (
        "http://1.2.3.4/1/",
        [
            "5c9f354119e8d3f82e1bc01545ec7a656da70453e6bfc053ac8b257bdd4d8ef6",
            "3f008b863ca6e954c31859665454f9cbcb10760acb7ebc536d6da1ccac94618d",
        ],
    ),
]

MIB = 1024 * 1024


def test_expression_hash_is_sha256_of_the_utf8_expression() -> None:
    # the spec's own example: SHA-256 of "abc"
    assert expression_hash("abc").hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


@pytest.mark.parametrize(("url", "expected"), SPEC_HASHES)
def test_url_hashes_match_the_spec_examples(url: str, expected: list[str]) -> None:
    assert [full.hex() for full in url_hashes(url)] == expected


def test_a_prefix_set_finds_full_hashes_by_their_first_four_bytes() -> None:
    listed = [expression_hash("evil.example/"), expression_hash("bad.example/login/")]
    prefixes = PrefixSet(full[:4] for full in listed)
    assert listed[0] in prefixes
    assert listed[1][:4] in prefixes
    assert expression_hash("good.example/") not in prefixes
    assert int.from_bytes(listed[0][:4], "big") in prefixes


@pytest.mark.parametrize("item", [b"", b"abc", "evil.example/", 2**32, -1, None, 1.5])
def test_anything_but_a_prefix_or_its_integer_is_not_a_member(item: object) -> None:
    assert item not in PrefixSet([b"\x00\x00\x00\x00", b"abcd", b"\xff\xff\xff\xff"])


def test_a_link_to_a_blocked_host_matches_and_a_clean_link_does_not() -> None:
    prefixes = PrefixSet(expression_hash(e)[:4] for e in ["evil.example/", "x.test/a/"])
    assert prefixes.matches("https://login.evil.example/path/page.html?q=1#top") == [
        expression_hash("evil.example/")
    ]
    assert prefixes.matches("http://x.test/a/b/c") == [expression_hash("x.test/a/")]
    assert prefixes.matches("https://good.example/") == []
    assert prefixes.matches("javascript:alert(1)") == []


def test_entries_are_deduplicated_sorted_and_checksummed() -> None:
    prefixes = PrefixSet([b"\x00\x00\x00\x02", b"\x00\x00\x00\x01xyz", b"\x00\x00\x00\x02"])
    assert len(prefixes) == 2
    assert list(prefixes) == [b"\x00\x00\x00\x01", b"\x00\x00\x00\x02"]
    assert list(prefixes.values()) == [1, 2]
    expected = hashlib.sha256(b"\x00\x00\x00\x01\x00\x00\x00\x02").digest()
    assert prefixes.sha256() == expected
    assert prefix_checksum([1, 2]) == expected


def test_a_prefix_shorter_than_four_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 4 bytes"):
        PrefixSet([b"abc"])


def test_integer_prefixes_outside_32_bits_are_refused() -> None:
    with pytest.raises(ValueError, match="2\\*\\*32"):
        PrefixSet.from_values([2**32])


def test_a_million_prefixes_fit_in_six_mib() -> None:
    rng = random.Random(7)
    prefixes = PrefixSet.from_values(rng.getrandbits(32) for _ in range(1_000_000))
    assert len(prefixes) > 999_000  # a few collide at 32 bits
    assert prefixes.nbytes <= 6 * MIB
    assert sys.getsizeof(prefixes) <= 6 * MIB


# Values near the 16-bit bucket edges, where an off-by-one in the index would show.
edges = st.sampled_from([0, 1, 0xFFFF, 0x10000, 0x1FFFF, 0xFFFF0000, 0xFFFFFFFE, 0xFFFFFFFF])
prefix_values = st.one_of(st.integers(min_value=0, max_value=2**32 - 1), edges)


@given(st.sets(prefix_values), st.lists(prefix_values))
def test_membership_agrees_with_a_python_set(members: set[int], probes: list[int]) -> None:
    prefixes = PrefixSet(value.to_bytes(4, "big") for value in members)
    assert len(prefixes) == len(members)
    assert list(prefixes.values()) == sorted(members)
    for value in [*members, *probes]:
        assert (value in prefixes) == (value in members)
        assert (value.to_bytes(4, "big") + b"rest" in prefixes) == (value in members)
