"""`haven intel pull` against medallion, the OASIS reference TAXII 2.1 server, started
locally with a memory backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import free_port

COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
INDICATOR = {
    "type": "indicator",
    "spec_version": "2.1",
    "id": "indicator--6770298f-0fd8-471a-ab8c-1c658a46574e",
    "created": "2026-01-01T00:00:00.000Z",
    "modified": "2026-01-01T00:00:00.000Z",
    "name": "from medallion",
    "pattern": "[domain-name:value = 'evil-medallion.example.com']",
    "pattern_type": "stix",
    "valid_from": "2026-01-01T00:00:00.000Z",
    "external_references": [{"source_name": "Partner CERT", "description": "bulletin 7"}],
}


@pytest.fixture
def medallion(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    root = f"http://127.0.0.1:{port}/trustgroup1/"
    data = {
        "/discovery": {"title": "t", "default": root, "api_roots": [root]},
        "trustgroup1": {
            "information": {
                "title": "tg",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 9765625,
            },
            "status": [],
            "collections": [
                {
                    "id": COLLECTION,
                    "title": "partner indicators",
                    "can_read": True,
                    "can_write": False,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [INDICATOR],
                    "manifest": [
                        {
                            "id": INDICATOR["id"],
                            "date_added": "2026-01-01T00:00:00.000000Z",
                            "version": INDICATOR["modified"],
                            "media_type": "application/stix+json;version=2.1",
                        }
                    ],
                }
            ],
        },
    }
    (tmp_path / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(tmp_path / "data.json"),
        },
        "users": {"peer": "secret"},
        "taxii": {"max_page_size": 100},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    medallion_bin = Path(sys.executable).with_name("medallion")
    log = (tmp_path / "medallion.log").open("wb")
    proc = subprocess.Popen(
        [str(medallion_bin), "--host", "127.0.0.1", "--port", str(port),
         str(tmp_path / "config.json")],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ},
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                httpx.get(root, auth=("peer", "secret"), timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield root
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_pull_from_the_reference_taxii_server(medallion: str, tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("secret")
    data = ["--data-dir", str(tmp_path / "haven")]
    pulled = subprocess.run(
        [sys.executable, "-m", "haven", "intel", "pull", medallion, "--collection", COLLECTION,
         "--user", "peer", "--password-file", str(secret), *data],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert pulled.returncode == 0, pulled.stderr
    found = subprocess.run(
        [sys.executable, "-m", "haven", "intel", "search", "evil-medallion", *data],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    [hit] = [json.loads(line) for line in found.stdout.splitlines()]
    assert hit["value"] == "evil-medallion.example.com"
    assert hit["sources"] == [{"publisher": "Partner CERT", "report": "bulletin 7"}]
