"""The fuzzing harnesses in fuzz/ cannot rot: each one's TestOneInput runs over its whole seed
corpus on every test run (without atheris), still notices a parser stepping outside its
contract, and the defects fuzzing found are pinned until they are fixed."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Annotated

import pytest
from fuzz import HARNESSES
from pydantic import AfterValidator, TypeAdapter

from haven.core import relaylink
from haven.intel import parsers

ROOT = Path(__file__).resolve().parent.parent / "fuzz"


def harness(name: str) -> ModuleType:
    return importlib.import_module(f"fuzz.{name}")


@pytest.mark.parametrize("name", HARNESSES)
def test_every_seed_passes_its_harness(name: str) -> None:
    seeds = sorted((ROOT / "corpus" / name).iterdir())
    assert len(seeds) >= 10, f"the {name} seed corpus is nearly empty"
    test_one_input = harness(name).TestOneInput
    for seed in seeds:
        test_one_input(seed.read_bytes())


def _seed(name: str, seed: str) -> bytes:
    return (ROOT / "corpus" / name / seed).read_bytes()


def test_the_intel_harness_notices_an_undeclared_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise KeyError("not a ParseError")

    monkeypatch.setattr(parsers, "parse", broken)
    with pytest.raises(KeyError):
        harness("intel_parsers").TestOneInput(_seed("intel_parsers", "text-mvt-domains"))


def test_the_url_harness_notices_a_canonical_form_that_moves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = harness("linkguard_urls")
    monkeypatch.setattr(module, "canonicalize", lambda url: url.strip() + "/")
    with pytest.raises(AssertionError, match="idempotent"):
        module.TestOneInput(b"http://example.org")


def test_the_relay_harness_notices_an_undeclared_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(_: str) -> relaylink.RelayLink:
        raise IndexError("not a RelayLinkError")

    monkeypatch.setattr(relaylink, "parse", broken)
    with pytest.raises(IndexError):
        harness("relay_links").TestOneInput(_seed("relay_links", "valid-0"))


def test_the_wire_harness_notices_an_undeclared_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def boom(value: str) -> str:
        raise RuntimeError("pydantic passes this through, unlike a ValueError")

    module = harness("wire_models")
    monkeypatch.setitem(module.MODELS, "Health", TypeAdapter(Annotated[str, AfterValidator(boom)]))
    with pytest.raises(RuntimeError):
        module.TestOneInput(b'Health\n"ok"')


# Defects fuzzing found are fixed and their reproducers live on in the seed corpora as
# `finding-*` files, so `test_every_seed_passes_its_harness` keeps them fixed. A new finding
# goes into fuzz/findings/ with an xfail(strict=True) test until it is fixed.
