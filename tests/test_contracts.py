"""The architecture rules in DESIGN.md stay enforced as packages are added."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path
from typing import Any

import haven

ROOT = Path(__file__).resolve().parents[1]
# Packages that may hold keys or plaintext; everything else is server side and must not.
CLIENT_SIDE = {"haven.crypto", "haven.client", "haven.cli", "haven.core", "haven.merkle"}


def contracts() -> list[dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    found: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    return found


def test_every_server_side_package_is_forbidden_from_importing_crypto() -> None:
    packages = {f"haven.{m.name}" for m in pkgutil.iter_modules(haven.__path__) if m.ispkg}
    [forbidden] = [c for c in contracts() if "cannot decrypt" in str(c["name"])]
    expected = {"vodozemac"} | ({"haven.crypto"} & packages)
    assert set(forbidden["forbidden_modules"]) == expected
    assert set(forbidden["source_modules"]) == packages - CLIENT_SIDE


def test_layers_follow_design_md() -> None:
    [layers] = [c for c in contracts() if c["type"] == "layers"]
    flat = [p.strip(" ()") for layer in layers["layers"] for p in str(layer).split("|")]
    assert flat[0] == "haven.cli"
    assert flat[-1] == "haven.core"
    assert set(flat) >= {"haven.server", "haven.client", "haven.relay", "haven.store"}
