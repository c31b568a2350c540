from __future__ import annotations

import logging
import multiprocessing
import os
import time
from pathlib import Path

import pytest

from haven.core.relaylink import make_proof
from haven.relay import certs
from haven.relay.handshake import DEFAULT_SLOTS, PROBES, ProofGate, ReplayCache

SECRET = bytes(range(32))


def test_a_proof_is_admitted_once() -> None:
    gate = ProofGate(SECRET, ReplayCache(1024), 120)
    token = make_proof(SECRET)
    assert gate.admit(token)
    assert not gate.admit(token)
    assert gate.admit(make_proof(SECRET))


def test_wrong_secret_and_stale_proofs_are_refused() -> None:
    gate = ProofGate(SECRET, ReplayCache(1024), 120)
    assert not gate.admit(make_proof(os.urandom(32)))
    assert not gate.admit(make_proof(SECRET, now=time.time() - 121))
    assert not gate.admit(make_proof(SECRET, now=time.time() + 121))
    assert not gate.admit("x" * 75)


def test_expired_nonces_free_their_slots() -> None:
    cache = ReplayCache(64)
    nonce = b"n" * 16
    assert cache.add(nonce, expires=100, now=50)
    assert not cache.add(nonce, expires=100, now=99)
    assert cache.add(nonce, expires=300, now=101)


def test_a_full_cache_fails_closed_and_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    cache = ReplayCache(64)
    same_bucket = [bytes([0] * 8) + i.to_bytes(8, "big") for i in range(PROBES + 2)]
    assert all(cache.add(n, expires=100, now=0) for n in same_bucket[:PROBES])
    with caplog.at_level(logging.WARNING, logger="haven.relay.handshake"):
        assert not cache.add(same_bucket[PROBES], expires=100, now=0)
        assert not cache.add(same_bucket[PROBES + 1], expires=100, now=0)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1  # not one line per refused client
    assert "replay cache full" in warnings[0]
    assert "--replay-slots (now 64)" in warnings[0]
    assert cache.add(same_bucket[PROBES], expires=200, now=100)  # the old ones expired


def test_the_default_cache_holds_a_busy_relays_window_of_proofs() -> None:
    """A proof holds its slot for the window: the default table keeps 800 handshakes a
    second for that long without refusing one (the relay benchmark found the old
    65,536-slot table refusing valid proofs at about 300 a second)."""
    cache = ReplayCache(DEFAULT_SLOTS)
    live = 800 * 121
    assert all(cache.add(os.urandom(16), expires=121, now=0) for _ in range(live))


def _add_in_child(cache: ReplayCache, nonce: bytes) -> None:
    cache.add(nonce, expires=2**40, now=0)


def test_forked_workers_share_the_replay_cache() -> None:
    ctx = multiprocessing.get_context("fork")
    cache = ReplayCache(1024, ctx.Lock())
    nonce = os.urandom(16)
    child = ctx.Process(target=_add_in_child, args=(cache, nonce))
    child.start()
    child.join(10)
    assert child.exitcode == 0
    assert not cache.add(nonce, expires=2**40, now=0)  # the child's entry is visible here


def test_identity_is_created_private_and_reused(tmp_path: Path) -> None:
    first = certs.load_or_create(tmp_path / "d")
    assert first.created
    for name in (certs.SECRET_FILE, certs.CERT_FILE, certs.KEY_FILE):
        assert (tmp_path / "d" / name).stat().st_mode & 0o777 == 0o600
    again = certs.load_or_create(tmp_path / "d")
    assert not again.created
    assert (again.secret, again.pin) == (first.secret, first.pin)
    assert first.dns_name == "localhost"
    assert first.secret.hex() not in repr(first)
