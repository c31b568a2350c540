"""The TAXII 2.1 endpoints, read by the reference client (taxii2-client) from a real server
process, and refused to anyone without a peer token."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from taxii2client.v21 import Server, as_pages

from haven.intel.bundled import FEED
from tests.processes import ServerProcess

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def run_haven(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "haven", *args], capture_output=True, text=True, timeout=120
    )


def haven(*args: str) -> str:
    result = run_haven(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


async def test_peers_pull_indicators_over_taxii(
    launch: type[ServerProcess], tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'haven.sqlite3'}"
    data = ["--data-dir", str(tmp_path), "--db", db]
    haven("intel", "import", str(FEED / "amnesty-investigations/2021-12-16_cytrox"), *data)
    token = haven("admin", "peer", "create", "partner-ngo", *data)
    server = launch(tmp_path, db).start()

    def pull() -> list[dict[str, object]]:
        client = Server(f"{server.url}/taxii2/", user="partner-ngo", password=token)
        [root] = client.api_roots
        [collection] = root.collections
        assert collection.can_read
        objects: list[dict[str, object]] = []
        for page in as_pages(collection.get_objects, per_request=100):
            objects.extend(page.get("objects", []))
        return objects

    objects = await asyncio.to_thread(pull)
    names = {o["name"] for o in objects}
    assert "2y4nothing.xyz" in names
    assert len(objects) == len(names) > 100

    async with httpx.AsyncClient(base_url=server.url) as http:
        for auth in (None, ("partner-ngo", "wrong"), ("nobody", token)):
            refused = await http.get("/taxii2/api/collections/", auth=auth)
            assert refused.status_code == 401
        unknown = await http.get(
            f"/taxii2/api/collections/{uuid.uuid4()}/", auth=("partner-ngo", token)
        )
        assert unknown.status_code == 404
        collection_id = json.loads(
            (await http.get("/taxii2/api/collections/", auth=("partner-ngo", token))).text
        )["collections"][0]["id"]
        future = await http.get(
            f"/taxii2/api/collections/{collection_id}/objects/",
            params={"added_after": "2999-01-01T00:00:00Z"},
            auth=("partner-ngo", token),
        )
        assert future.json() == {"more": False, "objects": []}
        bad = await http.get(
            f"/taxii2/api/collections/{collection_id}/objects/",
            params={"added_after": "yesterday"},
            auth=("partner-ngo", token),
        )
        assert bad.status_code == 400

        # Removing the peer shuts it out on its very next request.
        assert "partner-ngo" in haven("admin", "peer", "list", *data).split()
        haven("admin", "peer", "remove", "partner-ngo", *data)
        assert "partner-ngo" not in haven("admin", "peer", "list", *data).split()
        removed = await http.get("/taxii2/api/collections/", auth=("partner-ngo", token))
        assert removed.status_code == 401
        again = run_haven("admin", "peer", "remove", "partner-ngo", *data)
        assert again.returncode != 0
        assert "no peer called 'partner-ngo'" in again.stderr


async def test_one_haven_pulls_from_another_keeping_who_published_what(
    launch: type[ServerProcess], tmp_path: Path
) -> None:
    sharer_db = f"sqlite:///{tmp_path / 'sharer.sqlite3'}"
    sharer = ["--data-dir", str(tmp_path), "--db", sharer_db]
    haven("intel", "import", str(FEED / "amnesty-investigations/2021-12-16_cytrox"), *sharer)
    token = haven("admin", "peer", "create", "newsroom", *sharer)
    server = launch(tmp_path, sharer_db).start()
    secret = tmp_path / "token.txt"
    secret.write_text(token)
    async with httpx.AsyncClient(base_url=server.url, auth=("newsroom", token)) as http:
        collection_id = (await http.get("/taxii2/api/collections/")).json()["collections"][0]["id"]
    receiver = ["--data-dir", str(tmp_path / "receiver")]
    pulled = haven(
        "intel", "pull", f"{server.url}/taxii2/api/", "--collection", collection_id,
        "--user", "newsroom", "--password-file", str(secret), *receiver,
    )  # fmt: skip
    assert "new indicators" in pulled
    [hit] = [
        json.loads(line)
        for line in haven("intel", "search", "2y4nothing.xyz", *receiver).splitlines()
    ]
    assert {s["publisher"] for s in hit["sources"]} == {"Amnesty International"}
    wrong = run_haven(
        "intel", "pull", f"{server.url}/taxii2/api/", "--collection", collection_id,
        "--user", "newsroom", *receiver,
    )  # fmt: skip
    assert wrong.returncode == 1
    assert "401" in wrong.stderr
