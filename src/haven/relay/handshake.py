"""The relay side of the proof: a token is accepted once, inside its time window.

The replay cache is a fixed-size open-addressing table in an anonymous shared mapping, so
the workers forked by `--workers` share it: a proof replayed to another worker is still a
replay. Only tokens whose HMAC verified are inserted, so a prober cannot fill it; if it is
ever full the handshake is refused (fail closed) rather than forgetting live nonces, and
the relay says so in its log (without any client detail), so its operator can give it more
`--replay-slots`.

Each admitted proof holds a slot for about the proof window (121 s), so a table of N slots
sustains about N / 2 / 121 handshakes a second before linear-probing runs get long: the
default 262,144 slots (6 MiB, claimed at start) about 1,000 a second, roughly what one
relay worker completes on one core.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import struct
import time
from collections.abc import Callable
from multiprocessing.synchronize import Lock

from haven.core.relaylink import check_proof

log = logging.getLogger(__name__)

_SLOT = struct.Struct("=16sq")  # nonce, expiry (unix seconds)
PROBES = 32
DEFAULT_SLOTS = 1 << 18
FULL_WARNING_SECONDS = 60.0


class ReplayCache:
    def __init__(self, slots: int, lock: Lock | None = None) -> None:
        self._mask = slots - 1
        self._map = mmap.mmap(-1, slots * _SLOT.size)  # MAP_SHARED: survives fork shared
        # Touch every page now: the table's memory is claimed at start (and shows in the
        # relay's RSS from the first second), not page by page as handshakes land in it.
        for offset in range(0, len(self._map), mmap.PAGESIZE):
            self._map[offset] = 0
        self._lock = lock
        self._warned_at = float("-inf")

    def add(self, nonce: bytes, expires: int, now: int) -> bool:
        """Records `nonce` until `expires`; False if it is already there (a replay) or no
        slot is free."""
        start = int.from_bytes(nonce[:8], "little")
        with self._lock if self._lock is not None else contextlib.nullcontext():
            free = -1
            for probe in range(PROBES):
                offset = ((start + probe) & self._mask) * _SLOT.size
                seen, until = _SLOT.unpack_from(self._map, offset)
                if until <= now:  # expired, or never used (0)
                    if free < 0:
                        free = offset
                elif seen == nonce:
                    return False
            if free < 0:
                self._warn_full()
                return False
            _SLOT.pack_into(self._map, free, nonce, expires)
            return True

    def _warn_full(self) -> None:
        now = time.monotonic()
        if now - self._warned_at >= FULL_WARNING_SECONDS:
            self._warned_at = now
            log.warning(
                "replay cache full: valid proofs are being refused (they get the decoy). "
                "Restart the relay with a larger --replay-slots (now %d).",
                self._mask + 1,
            )


class ProofGate:
    """Says whether a request target carries a fresh, valid proof of the relay secret."""

    def __init__(
        self,
        secret: bytes,
        replay: ReplayCache,
        window: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._replay = replay
        self._window = window
        self._clock = clock

    def admit(self, token: str) -> bool:
        now = self._clock()
        proof = check_proof(self._secret, token, now, self._window)
        if proof is None:
            return False
        return self._replay.add(proof.nonce, proof.timestamp + self._window + 1, int(now))
