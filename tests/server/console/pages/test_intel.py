"""Intel in the console: upload a file and read its rejected lines, search with
provenance, and manage TAXII peers."""

from __future__ import annotations

import base64

import pytest

from tests.server.console.conftest import Console

pytestmark = pytest.mark.anyio

UPLOAD = b"""spyware-c2.org
http://cdn.spyware-c2.org/payload.apk
not a domain at all!!
<script>alert(1)</script>
10.0.0.1
"""


async def test_upload_reports_imported_and_rejected_lines(admin: Console) -> None:
    page = await admin.get("/admin/intel")
    assert "data-upload" in page.text
    done = await admin.post(
        "/admin/intel/import",
        {"publisher": "Citizen Lab", "format": "text"},
        files={"file": ("../../etc/campaign.txt", UPLOAD, "text/plain")},
    )
    assert done.status_code == 200, done.text[:500]
    assert "Imported campaign.txt" in done.text
    assert 'id="rejected"' in done.text
    assert "campaign.txt" in done.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in done.text
    assert "haven-upload-" not in done.text  # never the temporary path
    found = await admin.get("/admin/intel/search", q="spyware-c2.org")
    assert "spyware-c2.org" in found.text
    assert "Citizen Lab" in found.text
    assert "campaign" in found.text
    links = await admin.get("/admin/links/test", url="https://spyware-c2.org/login")
    assert 'class="verdict blocked"' in links.text


async def test_unreadable_or_empty_uploads_change_nothing(admin: Console) -> None:
    before = (await admin.get("/admin/intel")).text
    for name, data, form, status in (
        ("empty.txt", b"", {}, 400),
        ("bad.json", b'{"type": "bundle", "objects": [', {}, 400),
        ("x.txt", b"a.example\n", {"format": "klingon"}, 400),
    ):
        response = await admin.post(
            "/admin/intel/import", form, files={"file": (name, data, "text/plain")}
        )
        assert response.status_code == status, (name, response.text[:300])
        assert "haven-upload-" not in response.text
    after = (await admin.get("/admin/intel")).text
    count = 'id="indicator-count">'
    assert before.split(count)[1][:10] == after.split(count)[1][:10]


async def test_peers_are_added_with_a_token_shown_once_and_can_pull(admin: Console) -> None:
    added = await admin.post("/admin/intel/peers", {"name": "Partner NGO"})
    assert added.status_code == 200
    token = added.text.split('id="peer-token">')[1].split("<")[0]
    basic = base64.b64encode(f"Partner NGO:{token}".encode()).decode()
    pulled = await admin.server.http.get("/taxii2/", headers={"Authorization": f"Basic {basic}"})
    assert pulled.status_code == 200
    assert token not in (await admin.get("/admin/intel")).text
    assert (await admin.post("/admin/intel/peers", {"name": "Partner NGO"})).status_code == 400
    removed = await admin.post("/admin/intel/peers/remove", {"name": "Partner NGO"})
    assert removed.status_code == 303
    gone = await admin.server.http.get("/taxii2/", headers={"Authorization": f"Basic {basic}"})
    assert gone.status_code == 401
