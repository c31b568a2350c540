from __future__ import annotations

import pytest

from haven.crypto.errors import CryptoError
from haven.crypto.identity import DeviceIdentity
from haven.crypto.linking import (
    check_digits,
    link_code,
    new_link_secret,
    open_approval,
    parse_link_code,
    seal_approval,
)


def test_only_the_device_that_showed_the_code_can_open_its_approval() -> None:
    device = DeviceIdentity.create()
    secret = new_link_secret()
    code = link_code(device.identity_keys(), secret)
    keys, box = parse_link_code(code)
    assert keys == device.identity_keys()
    credentials = {"account_id": "a" * 32, "device_id": "b" * 32, "token": "secret-token"}
    approval = seal_approval(box, credentials)
    assert "secret-token" not in approval
    assert open_approval(secret, approval) == credentials
    with pytest.raises(CryptoError, match="another device"):
        open_approval(new_link_secret(), approval)


def test_check_digits_agree_and_differ_between_codes() -> None:
    code = link_code(DeviceIdentity.create().identity_keys(), new_link_secret())
    other = link_code(DeviceIdentity.create().identity_keys(), new_link_secret())
    assert check_digits(code) == check_digits(code + "\n")
    assert check_digits(code) != check_digits(other)
    assert len(check_digits(code).replace(" ", "")) == 6


@pytest.mark.parametrize("bad", ["", "hello", "HAVEN-LINK1:!!!", "HAVEN-LINK1:e30"])
def test_damaged_link_codes_are_refused(bad: str) -> None:
    with pytest.raises(CryptoError):
        parse_link_code(bad)


def test_damaged_approval_is_refused() -> None:
    with pytest.raises(CryptoError):
        open_approval(new_link_secret(), "HAVEN-APPROVAL1:a.b.c")
