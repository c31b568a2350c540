"""Console passwords and TOTP codes, as an operator signing in experiences them."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from hypothesis import given, settings
from hypothesis import strategies as st

from haven.server.console import credentials


@pytest.fixture(autouse=True)
def cheap_password_hashing() -> None:
    """Overrides the console tests' cheap hashing: here the real cost is what is tested."""


def test_a_password_matches_only_itself_and_the_hash_is_argon2id_at_rfc_9106_cost() -> None:
    stored = credentials.hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert credentials.password_matches("correct horse battery staple", stored)
    assert not credentials.password_matches("correct horse battery stapl", stored)
    assert not credentials.password_matches("", stored)
    Argon2id.verify_phc_encoded(b"correct horse battery staple", stored)  # a standard PHC string


def test_the_same_password_hashes_differently_each_time() -> None:
    assert credentials.hash_password("same password!") != credentials.hash_password(
        "same password!"
    )


def test_an_unknown_name_never_matches_even_with_the_decoy_password() -> None:
    assert not credentials.password_matches("anything at all", None)


def test_a_damaged_stored_hash_refuses_instead_of_raising() -> None:
    assert not credentials.password_matches("whatever", "$argon2id$garbage")


def test_new_passwords_must_be_long_enough() -> None:
    with pytest.raises(credentials.PasswordRejected, match="at least 12"):
        credentials.check_new_password("short")
    with pytest.raises(credentials.PasswordRejected, match="at most"):
        credentials.check_new_password("x" * 2000)
    credentials.check_new_password("twelve chars")


def test_totp_codes_work_for_their_step_and_one_step_either_side() -> None:
    secret = credentials.new_totp_secret()
    now = 1_800_000_000.0
    code = credentials.totp_code(secret, now)
    step = int(now) // 30
    assert credentials.totp_step(secret, code, now) == step
    assert credentials.totp_step(secret, code, now + 30) == step  # the phone's clock is slow
    assert credentials.totp_step(secret, code, now - 30) == step  # or fast
    assert credentials.totp_step(secret, code, now + 90) is None  # but not minutes out
    assert credentials.totp_step(secret, f"{code[:3]} {code[3:]}", now) == step  # as apps show it
    assert credentials.totp_step(credentials.new_totp_secret(), code, now) is None


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=12))
def test_anything_that_is_not_the_code_is_refused(typed: str) -> None:
    secret = b"\x01" * 20
    now = 1_800_000_000.0
    valid = {credentials.totp_code(secret, now + d) for d in (-30, 0, 30)}
    if typed.replace(" ", "").strip() not in valid:
        assert credentials.totp_step(secret, typed, now) is None


def test_the_otpauth_uri_names_haven_and_the_operator() -> None:
    uri = credentials.totp_uri(b"\x02" * 20, "Ana Lima")
    assert uri.startswith("otpauth://totp/Haven:Ana%20Lima?")
    assert "issuer=Haven" in uri
    assert "secret=AIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQC" in uri
