"""One uploaded indicator file: stored as one transaction, rejected lines reported under
the uploaded file's name, and the link list rebuilt."""

from __future__ import annotations

import gzip

import pytest

from haven.core.errors import HavenError
from haven.server.services.intel_upload import import_upload, safe_name
from haven.store.stores import Stores

pytestmark = pytest.mark.anyio


def test_uploaded_names_cannot_climb_out_or_surprise() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\x\\iocs.csv") == "iocs.csv"
    assert safe_name("my iocs (1).txt") == "my_iocs_1_.txt"
    assert safe_name("...") == "upload.txt"
    assert len(safe_name("a" * 500 + ".txt")) <= 100


async def test_an_upload_is_imported_with_its_rejections(stores: Stores) -> None:
    data = b"evil-vendor.com\nnot valid!!\nhttps://evil-vendor.com/x.apk\n"
    outcome = await import_upload(stores, data, "list.txt", None, "Citizen Lab")
    assert (outcome.summary.new_indicators, outcome.indicators) == (2, 2)
    [rejected] = outcome.rejected
    assert (rejected.file, rejected.line) == ("list.txt", 2)
    [found] = await stores.intel.search("evil-vendor.com", 1)
    assert found.sources[0].publisher == "Citizen Lab"
    assert found.sources[0].file == "list.txt"
    current = await stores.linkguard.current()
    assert current is not None
    assert (current.version, current.entries) == (outcome.link_version, 2)


async def test_archives_are_read_and_broken_files_change_nothing(stores: Stores) -> None:
    packed = gzip.compress(b"spy-gadget.net\n")
    outcome = await import_upload(stores, packed, "feed.txt.gz", None, "Peer")
    assert outcome.summary.new_indicators == 1
    before = await stores.intel.version()
    for data, fmt in ((b"", None), (b'{"type": "bundle", "objects": [', None), (b"x", "nope")):
        with pytest.raises(HavenError) as raised:
            await import_upload(stores, data, "bad.json", fmt, "Peer")
        assert "haven-upload-" not in raised.value.message  # never the temporary path
    assert await stores.intel.version() == before
