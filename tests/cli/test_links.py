"""`haven check-link`, blocked sends and `haven admin links` as an operator and a user
would run them: real processes against a real server process and the bundled feed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from haven.intel.bundled import FEED
from tests.processes import ServerProcess

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def haven(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "haven", *args], capture_output=True, text=True, timeout=120
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


async def test_operator_and_user_link_blocking(launch: type[ServerProcess], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    operator = ["--data-dir", str(tmp_path), "--db", db]
    imported = haven(
        "intel", "import", str(FEED / "amnesty-investigations/2021-12-16_cytrox"), *operator
    )
    assert "link list version 1" in imported.stdout
    server = launch(tmp_path, db).start()
    secret = tmp_path / "pass.txt"
    secret.write_text("a long passphrase for tests\n")
    user = ["--profile", str(tmp_path / "alice"), "--passphrase-file", str(secret)]
    haven("account", "create", "--server", server.url, *user)

    blocked = haven("check-link", "https://2y4nothing.xyz/x", *user, check=False)
    assert blocked.returncode == 3
    assert "blocked" in blocked.stdout
    assert "Amnesty International" in blocked.stdout
    clean = haven("check-link", "https://www.amnesty.org/", *user, "--json")
    assert json.loads(clean.stdout)["verdict"] == "clean"
    odd = haven("check-link", "javascript:alert(1)", *user, check=False)
    assert odd.returncode == 4

    bob = ["--profile", str(tmp_path / "bob"), "--passphrase-file", str(secret)]
    haven("account", "create", "--server", server.url, *bob)
    me = json.loads(haven("account", "show", *bob, "--json").stdout)["account_id"]
    refused = haven("send", "see 2y4nothing.xyz", "--to", me, *user, check=False)
    assert refused.returncode != 0
    assert "not sent" in refused.stderr
    assert "2y4nothing.xyz" in refused.stderr

    # The operator allows it: the next list version no longer blocks it.
    allowed = haven("admin", "links", "allow", "2y4nothing.xyz", "--note", "test", *operator)
    assert "allowed 2y4nothing.xyz/" in allowed.stderr
    shown = haven("admin", "links", "show", *operator)
    assert "2y4nothing.xyz/" in shown.stdout
    assert haven("admin", "links", "allow", "2y4nothing.xyz", *operator, check=False).returncode
    # The client refreshes its list every half hour; a fresh device fetches it at once.
    fresh = ["--profile", str(tmp_path / "carol"), "--passphrase-file", str(secret)]
    haven("account", "create", "--server", server.url, *fresh)
    haven("send", "see 2y4nothing.xyz", "--to", me, *fresh)
    haven("admin", "links", "disallow", "https://2y4nothing.xyz/", *operator)
    bad = haven("admin", "links", "allow", "not a domain at all", *operator, check=False)
    assert bad.returncode != 0
