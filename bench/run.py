"""Run the benchmarks, each beside its anchor on this machine in the same run, and rewrite
BENCHMARKS.md. `python -m bench.run [NAME...] [--quick]` (or `make bench`).

`--smoke` (`make bench-smoke`, run by CI) runs every group at a tiny size through the same
code, anchors included when they are installed already (the quick pip anchors, stix2 and
gglsbl, are installed; Synapse, sigstore, HAProxy and libsignal are not: see
bench.common.INSTALL_ENV), and writes its report to a temporary file: never to
BENCHMARKS.md, never over the last full run's results. Its figures mean nothing; that it
finishes means the benchmarks still run.

Delivery: Haven vs Matrix Synapse (to-device messages), same client concurrency, same
payload size, on SQLite and on PostgreSQL, each server freshly started on an empty database.
Besides throughput and latency it records the CPU time the server process spent per
delivered message: the load generator is Python too and shares the 2 cores, so CPU per
message is the figure that says how much a core of server can carry.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import importlib.metadata
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psutil

import haven
from bench import delivery, e2ee, intel, profiles, scaling
from bench.anchors import synapse
from bench.common import INSTALL_ENV, ROOT, WORK, Scale, haven_server

T = TypeVar("T")

PG_ADMIN = os.environ.get("HAVEN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Row:
    name: str
    haven: dict[str, Any]
    anchor: dict[str, Any] | None
    notes: list[str] = field(default_factory=list)


@contextlib.contextmanager
def cpu_meter(pid: int) -> Iterator[Callable[[], float]]:
    """Seconds of CPU the process used inside the block."""
    process = psutil.Process(pid)
    before = process.cpu_times()
    used: list[float] = []
    yield lambda: used[0]
    after = process.cpu_times()
    used.append((after.user + after.system) - (before.user + before.system))


def with_cpu(result: dict[str, Any], seconds: float) -> dict[str, Any]:
    messages = result["messages"] or 1
    return {
        **result,
        "server_cpu_s": round(seconds, 2),
        "cpu_us_per_msg": round(seconds / messages * 1e6),
    }


def load_run(work: Coroutine[Any, Any, T]) -> T:
    """Run a load generator on uvloop, Haven's and Synapse's alike: the client shares the 2
    cores with the server, and the cheaper it is, the more of them the server gets."""
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(work)


@contextlib.contextmanager
def fresh_server(backend: str) -> Iterator[tuple[str, int]]:
    """A Haven server on a fresh, empty database of `backend`: (base URL, pid)."""
    with tempfile.TemporaryDirectory(prefix="haven-bench-") as tmp:
        url, drop = delivery.db_url(backend, Path(tmp), PG_ADMIN)
        try:
            with haven_server(Path(tmp), url) as found:
                yield found
        finally:
            drop()


class HavenServers:
    """Where delivery runs get their server: a fresh one per run (no run inherits another's
    data), or in a smoke run one per backend kept for the whole group (starting Python
    processes is most of a smoke run's time)."""

    def __init__(self, share: bool) -> None:
        self.share = share
        self._kept: dict[str, tuple[str, int]] = {}
        self._stack = contextlib.ExitStack()

    @contextlib.contextmanager
    def server(self, backend: str) -> Iterator[tuple[str, int]]:
        if not self.share:
            with fresh_server(backend) as found:
                yield found
            return
        if backend not in self._kept:
            self._kept[backend] = self._stack.enter_context(fresh_server(backend))
        yield self._kept[backend]

    def close(self) -> None:
        self._stack.close()


def haven_delivery(
    servers: HavenServers,
    backend: str,
    senders: int,
    per_sender: int,
    via: delivery.SendVia,
    rate: float | None,
    profile: str | None = None,
) -> dict[str, Any]:
    """One Haven run; `profile`: also record the server with py-spy
    (docs/bench/profile-NAME.svg and its reading)."""
    with (
        servers.server(backend) as (base, pid),
        profiles.recording(pid, profile) as recorded,
        cpu_meter(pid) as cpu,
    ):
        result = load_run(delivery.measure(base, senders, per_sender, via, rate))
    figures = with_cpu(result.as_dict(), cpu())
    if recorded:
        figures["profile"] = recorded
    return figures


def synapse_delivery(
    python: Path,
    backend: str,
    senders: int,
    per_sender: int,
    rate: float | None,
    sync_timeout_ms: int = synapse.SYNC_TIMEOUT_MS,
) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="synapse-bench-") as tmp,
        synapse.start_synapse(python, Path(tmp), backend, PG_ADMIN) as server,  # type: ignore[arg-type]
    ):
        users = synapse.register_users(server.base_url, server.shared_secret, 2 * senders)
        with cpu_meter(server.pid) as cpu:
            result = load_run(
                synapse.measure_to_device(
                    server.base_url, users, senders, per_sender, rate=rate, payload_bytes=200,
                    sync_timeout_ms=sync_timeout_ms, timeout_s=SYNAPSE_TIMEOUT_S,
                )
            )  # fmt: skip
        out = {
            k: getattr(result, k)
            for k in ("messages", "seconds", "msgs_per_s", "p50_ms", "p99_ms", "stalled")
        }
        return with_cpu(out, cpu())


# How long one Synapse run may take before it is called incomplete: paced at 500 msgs/s it
# can fall minutes behind on this machine.
SYNAPSE_TIMEOUT_S = 300.0
# Delivery's target (issue 10): at least 10x Synapse's msgs/s, with a lower p99.
DELIVERY_TARGET = 10.0
# (senders, messages per sender, seconds of paced load, paced rates) per run size.
DELIVERY_SIZES: dict[Scale, tuple[int, int, int, tuple[float, ...]]] = {
    "full": (8, 500, 10, (200.0, 500.0)),
    "quick": (8, 150, 4, (200.0, 500.0)),
    "smoke": (2, 20, 1, (100.0,)),
}


def delivery_target(ours: dict[str, Any], theirs: dict[str, Any] | None) -> str | None:
    """Why a saturation row misses the target, or None when it meets it (or has no anchor)."""
    if theirs is None or not theirs.get("msgs_per_s"):
        return None
    times = ours["msgs_per_s"] / theirs["msgs_per_s"]
    missed = []
    if times < DELIVERY_TARGET:
        missed.append(f"{times:.1f}x Synapse's msgs/s (target {DELIVERY_TARGET:.0f}x)")
    if ours["p99_ms"] >= theirs["p99_ms"]:
        missed.append(f"p99 {ours['p99_ms']} ms is not below Synapse's {theirs['p99_ms']} ms")
    return "; ".join(missed) or None


def delivery_group(scale: Scale) -> list[Row]:
    servers = HavenServers(share=scale == "smoke")
    with contextlib.closing(servers):
        return delivery_rows(scale, servers) + idle_rows(scale, servers)


def delivery_rows(scale: Scale, servers: HavenServers) -> list[Row]:
    senders, per_sender, paced_seconds, rates = DELIVERY_SIZES[scale]
    # A smoke run's Synapse gives up a missed wake-up (see bench/anchors/synapse.py) soon.
    sync_timeout_ms = 2_000 if scale == "smoke" else synapse.SYNC_TIMEOUT_MS
    try:
        python = synapse.ensure_synapse(WORK)
    except synapse.AnchorUnavailable as exc:
        print(f"SKIP Synapse anchor: {exc}")
        python = None
    rows: list[Row] = []
    for backend in ("sqlite", "postgresql"):
        anchor = None
        if python is not None:
            anchor = synapse_delivery(python, backend, senders, per_sender, None, sync_timeout_ms)
        for via in ("http", "ws"):
            print(f"delivery {backend} saturation via {via} ...", flush=True)
            ours = haven_delivery(servers, backend, senders, per_sender, via, None)
            missed = delivery_target(ours, anchor) if scale == "full" else None
            if missed:
                # Measured again under py-spy (which costs the server some speed): the
                # figures in the row stay those of the run without it.
                print(f"delivery {backend} via {via} misses its target; profiling", flush=True)
                name = f"delivery-{backend}-{via}"
                again = haven_delivery(
                    servers, backend, senders, per_sender, via, None, profile=name
                )
                ours["profile"] = again.get("profile")
            label = (
                "POST /v1/messages"
                if via == "http"
                else f"send frames on /v1/stream ({delivery.WS_WINDOW} in flight per sender)"
            )
            row = Row(f"delivery, {backend}, saturation, Haven sends by {label}", ours, anchor)
            if missed:
                row.notes.append(f"MISSES TARGET: {missed}")
            rows.append(row)
        for rate in rates:
            count = max(1, int(rate * paced_seconds / senders))
            print(f"delivery {backend} paced {rate:.0f}/s ...", flush=True)
            ours = haven_delivery(servers, backend, senders, count, "http", rate)
            notes = []
            theirs = None
            if python is not None:
                try:
                    theirs = synapse_delivery(
                        python, backend, senders, count, rate, sync_timeout_ms
                    )
                except synapse.DeliveryIncomplete as exc:
                    # Synapse fell so far behind the offered load that the run gave up on it.
                    notes.append(f"Synapse did not finish: {exc}")
            rows.append(
                Row(
                    f"delivery, {backend}, paced {rate:.0f} msgs/s offered, p99 latency",
                    ours,
                    theirs,
                    notes,
                )
            )
    return rows


def idle_rows(scale: Scale, servers: HavenServers) -> list[Row]:
    streams = {"full": 1000, "quick": 200, "smoke": 20}[scale]
    with servers.server("sqlite") as (base, pid):
        figures = asyncio.run(delivery.idle_streams_rss(base, pid, streams))
    return [
        Row(
            f"server RSS with {streams} idle WebSocket streams (MiB)",
            figures,
            None,
            ["no anchor: Synapse has no push stream; its clients hold /sync long-polls"],
        )
    ]


def e2ee_rows(scale: Scale) -> list[Row]:
    print("e2ee ...", flush=True)
    figures = e2ee.run(scale)
    group = figures["group"]
    crypto = figures["group_crypto"]
    signal = figures["libsignal"]
    skipped = signal.get("skipped")
    if skipped:
        print(f"SKIP libsignal anchor: {skipped}")

    def theirs(key: str) -> float | None:
        return None if skipped else float(signal[key]["per_s"])

    first = (
        [f"SKIP libsignal anchor: {skipped}"]
        if skipped
        else [
            f"anchor: Signal's libsignal {signal['version']} (@signalapp/libsignal-client on "
            f"Node {signal['node']}); both sides: state built before timing, a warm-up batch, "
            f"then the best of {figures['repeats']} timed batches, {figures['payload_bytes']}"
            "-byte payload, all in memory; Haven is Python over vodozemac, libsignal is "
            "JavaScript over its Rust core through async stores (see bench/e2ee.py)"
        ]
    )
    libsignal_rows = [
        compare(
            "E2EE session setups",
            figures["setups"]["haven"],
            theirs("setups"),
            "setups/s",
            notes=[
                *first,
                "one set-up = responder makes and signs a one-time key, initiator checks it, "
                "starts the session and encrypts the first message, responder opens the "
                "session from it; identity keys (and libsignal's signed pre-key) are made "
                "before timing",
                "libsignal runs PQXDH: it also generates, signs, encapsulates to and "
                "decapsulates a one-time Kyber-1024 KEM pre-key, post-quantum work that "
                "Olm's 3DH does not do (and a 1568-byte KEM ciphertext in the first message)",
            ],
        ),
        compare(
            "E2EE 1:1 messages (encrypt + decrypt)",
            figures["messages"]["haven"],
            theirs("messages"),
            "msgs/s",
            notes=[
                "one established session, directions alternating so both ratchets turn; "
                "libsignal runs the Double Ratchet plus SPQR (a sparse post-quantum ratchet "
                "whose KEM pieces ride on messages), Olm the Double Ratchet alone",
            ],
        ),
        compare(
            f"E2EE group messages ({crypto['members']} members)",
            crypto["haven"],
            theirs("group"),
            "group msgs/s",
            notes=[
                f"one group message = 1 encryption by the sender + {crypto['members']} "
                "decryptions, one per member; the key (Megolm session key, "
                "SenderKeyDistributionMessage) reaches every member before timing",
                "not counted: Haven's Megolm rotation every 100 messages (a new key over Olm "
                "to each member); either side's envelope (franking, sealed sender)",
            ],
        ),
    ]
    return [
        Row(
            "1:1 encrypt+decrypt through haven.crypto vs raw vodozemac (msgs/s)",
            {"msgs_per_s": figures["messages"]["haven"]},
            {"msgs_per_s": figures["messages"]["raw"]},
        ),
        Row(
            "Olm session set-ups (signed key, checked) through haven.crypto vs raw vodozemac (/s)",
            {"msgs_per_s": figures["setups"]["haven"]},
            {"msgs_per_s": figures["setups"]["raw"]},
        ),
        Row(
            f"one message to a {group['members']}-member group through the server (s)",
            {"seconds": group["megolm_s"], "how": "Megolm: encrypt once, server fans out"},
            {"seconds": group["olm_each_s"], "how": "Olm to every member device"},
        ),
        *libsignal_rows,
    ]


def import_rows(count: int = 1_000_000) -> list[Row]:
    rows = []
    for backend in ("sqlite", "postgresql"):
        print(f"intel import of {count} indicators on {backend} ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="haven-bench-") as tmp:
            url, drop = delivery.db_url(backend, Path(tmp), PG_ADMIN)
            try:
                figures = asyncio.run(intel.import_rate(url, count))
            finally:
                drop()
        rows.append(
            Row(
                f"intel import, {count:,} synthetic indicators, {backend} (one transaction)",
                {"indicators/s": figures["per_s"], "seconds": figures["seconds"]},
                None,
                ["no anchor: neither stix2 nor MISP stores indicators"],
            )
        )
    return rows


def intel_rows(scale: Scale) -> list[Row]:
    print("intel ...", flush=True)
    figures = intel.run(scale)
    memory = figures["memory"]
    rows = [
        Row(
            "intel parse + normalise, bundled STIX bundles (µs per indicator)",
            {"us": figures["haven_us_per_indicator"], "how": "haven.intel"},
            None
            if "stix2_us_per_indicator" not in figures
            else {"us": figures["stix2_us_per_indicator"], "how": "stix2.parse(allow_custom=True)"},
        ),
        Row(
            "intel parse + normalise, Meta files (µs per indicator)",
            {"us": figures["meta_us_per_indicator"], "how": "haven.intel"},
            None,
            ["no anchor: stix2 does not read Meta's CSV/JSON/Markdown files"],
        ),
        *import_rows(2_000 if scale == "smoke" else 1_000_000),
        Row(
            f"intel peak memory on the largest bundle ({memory['file_mib']} MiB)",
            {"peak MiB": memory["peak_mib"], "x input": memory["ratio"]},
            None,
        ),
    ]
    return rows


def compare(
    name: str,
    ours: float,
    theirs: float | None,
    unit: str,
    higher: bool = True,
    notes: list[str] | None = None,
) -> Row:
    anchor = None if theirs is None else {"value": theirs, "unit": unit}
    return Row(name, {"value": ours, "unit": unit, "higher": higher}, anchor, notes or [])


def linkguard_rows(scale: Scale) -> list[Row]:
    print("linkguard ...", flush=True)
    from bench import linkguard

    figures = linkguard.measure(scale)
    ours, theirs = figures["haven"], figures.get("gglsbl")
    spec = figures["spec_canonical_examples"]
    rows = [
        compare(
            f"link canonicalise, {figures['urls']:,} realistic URLs",
            ours["canonicalize_per_s"],
            None if theirs is None else theirs["canonicalize_per_s"],
            "URLs/s",
        ),
        compare(
            "link canonicalise + expressions (the whole client-side expansion)",
            ours["expressions_per_s"],
            None if theirs is None else theirs["expressions_per_s"],
            "URLs/s",
        ),
        compare(
            f"Safe Browsing spec canonicalisation examples passed (of {spec})",
            ours["spec_canonical_passed"],
            None if theirs is None else theirs["spec_canonical_passed"],
            "examples",
        ),
    ]
    prefix, diff = figures["prefix_set"], figures["diff"]
    rows += [
        Row(
            f"prefix set of {prefix['entries']:,} entries",
            {"lookups/s": prefix["lookups_per_s"], "MiB": prefix["nbytes_mib"]},
            None,
            ["no anchor: gglsbl keeps prefixes in SQLite; target >= 1M lookups/s, <= 6 MiB"],
        ),
        Row(
            "list diff changing 1% of 1M entries (Rice-coded, on the wire)",
            {"KiB": diff["diff_kib"], "full list KiB": diff["full_list_kib"]},
            None,
            ["target < 100 KiB"],
        ),
    ]
    if theirs is None:
        rows[0].notes.append("gglsbl could not be installed: anchor skipped")
    return rows


def relay_rows(scale: Scale) -> list[Row]:
    print("relay ...", flush=True)
    from bench import relay

    if scale == "smoke":
        # bench/relay.py has no smoke size and needs HAProxy, which a smoke run does not
        # install: the same measurements run through a small rig of scaling's instead.
        return [Row(name, ours, theirs) for name, ours, theirs in scaling.relay_smoke()]
    figures = relay.measure(scale == "quick")
    if "skipped" in figures:
        return [Row("relay vs HAProxy", {"skipped": figures["skipped"]}, None)]
    ours, theirs = figures["haven"], figures["haproxy"]
    ratios, targets = figures["ratios"], figures["targets"]

    def throughput(key: str, label: str, first: list[str]) -> Row:
        notes = [*first, relay_spread(ours[key], theirs[key], "mib_per_s", "MiB/s"),
                 f"proxy CPU per GiB moved: Haven {ours[key]['proxy_cpu_s_per_gib']} s, "
                 f"HAProxy {theirs[key]['proxy_cpu_s_per_gib']} s (the load generator shares "
                 "the cores, so CPU per GiB is the proxy's own cost)"]  # fmt: skip
        if ratios[key + "_throughput"] < targets["throughput_vs_haproxy"]:
            notes.append(f"MISSES TARGET: {ratios[key + '_throughput']}x HAProxy's throughput "
                         f"(target {targets['throughput_vs_haproxy']}x)")  # fmt: skip
        row = compare(label, ours[key]["mib_per_s"], theirs[key]["mib_per_s"], "MiB/s",
                      notes=notes)  # fmt: skip
        if ours[key].get("profile"):
            row.haven["profile"] = ours[key]["profile"]
        return row

    conns_notes = [relay_spread(ours["new_conns"], theirs["new_conns"], "conns_per_s", "conns/s"),
                   f"proxy CPU per connection: Haven {ours['new_conns']['proxy_cpu_us_per_conn']}"
                   f" µs, HAProxy {theirs['new_conns']['proxy_cpu_us_per_conn']} µs; "
                   f"target >= {targets['new_conns_vs_haproxy']}x HAProxy"]  # fmt: skip
    if ratios["new_conns_per_s"] < targets["new_conns_vs_haproxy"]:
        conns_notes.append(f"MISSES TARGET: {ratios['new_conns_per_s']}x HAProxy's rate")
    memory = compare("relay memory per idle connection", ours["idle"]["bytes_per_conn"],
                     theirs["idle"]["bytes_per_conn"], "bytes", higher=False, notes=[
                         f"MISSES TARGET: <= {targets['idle_bytes_per_conn']:,} bytes, which is "
                         "not reachable with OpenSSL: its own state for one idle server-side "
                         "TLS 1.3 session (an SSLObject over memory BIOs, no socket, no proxy) "
                         f"measured {figures['tls_session_floor_bytes']:,} bytes in this run; "
                         "HAProxy is built on the same library"])  # fmt: skip
    memory.haven["no_profile"] = (
        "A profile of where time goes does not apply to a memory figure; the floor named "
        "above is where the bytes go."
    )
    return [
        throughput("single_stream", "relay throughput, 1 stream", [
            f"HAProxy {figures['haproxy_version']}, same ECDSA P-256 certificate, TLS 1.3"]),
        throughput("streams_100", "relay throughput, 100 streams", []),
        compare("relay new TLS connections", ours["new_conns"]["conns_per_s"],
                theirs["new_conns"]["conns_per_s"], "conns/s", notes=conns_notes),
        memory,
    ]  # fmt: skip


def relay_spread(ours: dict[str, Any], theirs: dict[str, Any], key: str, unit: str) -> str:
    """How far apart the runs behind a median figure were."""

    def span(figures: dict[str, Any]) -> str:
        return f"{figures.get('lowest', figures[key])}-{figures.get('highest', figures[key])}"

    return (f"median of {ours.get('runs', 1)} runs each, alternating; Haven {span(ours)} "
            f"{unit}, HAProxy {span(theirs)} {unit}")  # fmt: skip


def merkle_rows(scale: Scale) -> list[Row]:
    print("merkle (audit log and key transparency) ...", flush=True)
    from bench import merkle

    figures = merkle.measure(scale)
    ours, theirs = figures["haven"], figures.get("sigstore")
    entries = ours["entries"]
    return [
        Row(
            f"audit log: append {entries:,} entries (batched) and verify the whole log",
            {
                "appends/s": ours["append_per_s"],
                "verified entries/s": ours["verify_log_entries_per_s"],
            },
            None,
            ["no anchor: no reference Merkle log takes batched appends in Python"],
        ),
        compare(
            "Merkle inclusion proof verification (leaf hash included)",
            ours["inclusion_verify_with_leaf_hash_us"],
            None if theirs is None else theirs["inclusion_verify_with_leaf_hash_us"],
            "µs",
            higher=False,
            notes=["anchor: sigstore's RFC 6962 verifier (a port of Trillian's); target < 100 µs"],
        ),
        Row(
            "Merkle proofs: inclusion generate, consistency generate / verify",
            {
                "inclusion gen µs": ours["inclusion_generate_us"],
                "consistency gen µs": ours["consistency_generate_us"],
                "consistency verify µs": ours["consistency_verify_us"],
            },
            None,
        ),
    ]


def scaling_rows(scale: Scale) -> list[Row]:
    """One row per curve; `render` gives them a section of their own, not the main table."""
    print("scaling curves ...", flush=True)
    return [
        Row(curve.title, {"curve": dataclasses.asdict(curve)}, None)
        for curve in scaling.run(scale, PG_ADMIN)
    ]


GROUPS: dict[str, Callable[[Scale], list[Row]]] = {
    "delivery": delivery_group,
    "e2ee": e2ee_rows,
    "intel": intel_rows,
    "linkguard": linkguard_rows,
    "relay": relay_rows,
    "merkle": merkle_rows,
    "scaling": scaling_rows,
}


def ratio(ours: float, theirs: float, higher_is_better: bool) -> str:
    if not theirs or not ours:
        return "—"
    value = ours / theirs if higher_is_better else theirs / ours
    return f"{value:.1f}x"


def describe(figures: dict[str, Any] | None, paced: bool) -> str:
    if figures is None:
        return "skipped"
    if paced:
        return (
            f"p99 {figures['p99_ms']} ms, p50 {figures['p50_ms']} ms, "
            f"{figures['msgs_per_s']} msgs/s"
        )
    return (
        f"{figures['msgs_per_s']} msgs/s, p99 {figures['p99_ms']} ms, "
        f"{figures['cpu_us_per_msg']} µs CPU/msg"
    )


def cells(row: Row) -> list[str]:
    """Haven, anchor and ratio cells for one row (and notes about the anchor's run)."""
    ours, theirs = row.haven, row.anchor
    if "value" in ours:
        mine = f"{ours['value']:,} {ours['unit']}"
        if theirs is None:
            return [mine, "—", "—"]
        better = "higher" if ours.get("higher", True) else "lower"
        return [
            mine,
            f"{theirs['value']:,} {theirs['unit']}",
            ratio(ours["value"], theirs["value"], ours.get("higher", True))
            + f" ({better} is better)",
        ]
    if "us" in ours:
        if theirs is None:
            return [f"{ours['us']} µs ({ours['how']})", "—", "—"]
        return [
            f"{ours['us']} µs ({ours['how']})",
            f"{theirs['us']} µs ({theirs['how']})",
            ratio(ours["us"], theirs["us"], False) + " faster",
        ]
    if "how" in ours and theirs is not None:
        return [
            f"{ours['seconds']} s ({ours['how']})",
            f"{theirs['seconds']} s ({theirs['how']})",
            ratio(ours["seconds"], theirs["seconds"], False) + " faster",
        ]
    if set(ours) == {"msgs_per_s"} and theirs is not None:
        return [
            str(ours["msgs_per_s"]),
            f"{theirs['msgs_per_s']} (raw)",
            f"{ours['msgs_per_s'] / theirs['msgs_per_s']:.2f}x of raw",
        ]
    if "msgs_per_s" not in ours:
        return [", ".join(f"{k} {v}" for k, v in ours.items()), "—", "—"]
    paced = "paced" in row.name
    if theirs is None:
        return [describe(ours, paced), "skipped", "—"]
    if theirs.get("stalled"):
        row.notes.append(f"Synapse stalled {theirs['stalled']} messages for a whole /sync timeout")
    if paced:
        r = ratio(ours["p99_ms"], theirs["p99_ms"], False) + " lower p99"
    else:
        r = (
            f"{ratio(ours['msgs_per_s'], theirs['msgs_per_s'], True)} msgs/s, "
            f"{ratio(ours['cpu_us_per_msg'], theirs['cpu_us_per_msg'], False)} less CPU/msg"
        )
    return [describe(ours, paced), describe(theirs, paced), r]


def render(rows: list[Row]) -> str:
    mem = psutil.virtual_memory().total / 2**30
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m bench.run`); every figure below comes from one run",
        "in which Haven and its anchor ran on this machine, one after the other, with the same",
        "client code shape, concurrency and payload size. Do not edit by hand.",
        "",
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {os.cpu_count()} cores, {mem:.0f} GiB, {cpu}",
        f"- Haven {haven.__version__}; anchors: Matrix Synapse {synapse.SYNAPSE_VERSION}, "
        f"vodozemac {importlib.metadata.version('vodozemac')} called directly, "
        f"stix2 {intel.STIX2_VERSION}, gglsbl 1.4.15, HAProxy (Debian's package)",
        "- delivery: 8 sender devices → 8 recipient devices over loopback; Haven recipients hold",
        "  /v1/stream WebSockets and ack every 20, Synapse recipients long-poll /sync;",
        f"  Haven's stream senders keep at most {delivery.WS_WINDOW} send frames unconfirmed,",
        "  Synapse's (and Haven's HTTP) senders await each request;",
        "  latency = send start → recipient has it;",
        "  msgs/s = delivered ÷ (first send → last receipt)",
        "- CPU/msg = CPU seconds of the server process ÷ delivered messages (PostgreSQL's own",
        "  processes not counted, for either); the Python load generator (on uvloop, for",
        "  both) shares the 2 cores, so saturation msgs/s is bounded by it as much as by the",
        "  server",
        "",
        "| benchmark | Haven | anchor | ratio |",
        "| --- | --- | --- | --- |",
    ]
    curves = [row for row in rows if "curve" in row.haven]
    rows = [row for row in rows if "curve" not in row.haven]
    for row in rows:
        lines.append("| " + " | ".join([row.name, *cells(row)]) + " |")
    notes = [f"- {row.name}: {n}" for row in rows for n in row.notes]
    if notes:
        lines += ["", "Notes:", *notes]
    lines += profiles.render_missed(rows)
    if curves:
        lines += scaling.render([scaling.Curve.from_dict(row.haven["curve"]) for row in curves])
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "names", nargs="*", choices=[[], *GROUPS], metavar="NAME",
        help=f"benchmarks to run (default: all): {', '.join(GROUPS)}",
    )  # fmt: skip
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller runs, for a look")
    size.add_argument(
        "--smoke", action="store_true",
        help="every benchmark at a tiny size, in seconds (CI); the report goes to a "
        "temporary file unless --out says where, never to BENCHMARKS.md",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="default: BENCHMARKS.md")
    args = parser.parse_args()
    scale: Scale = "smoke" if args.smoke else "quick" if args.quick else "full"
    # Every server, relay and anchor started here is a new Python process: let them keep
    # compiled bytecode instead of compiling every module again each time.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.smoke:
        smoke(args.names or list(GROUPS), args.out)
        return
    # The measurements outlive a rendering mistake: kept beside the anchors' working files.
    # Running some benchmarks keeps the others' last results (each row says when).
    WORK.mkdir(parents=True, exist_ok=True)
    saved = WORK / "last-run.json"
    groups: dict[str, list[dict[str, Any]]] = {}
    with contextlib.suppress(OSError, ValueError):
        loaded = json.loads(saved.read_text())
        if isinstance(loaded, dict):
            groups = loaded
    for name in args.names or list(GROUPS):
        rows = GROUPS[name](scale)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
        groups[name] = [dataclasses.asdict(r) | {"date": stamp} for r in rows]
        saved.write_text(json.dumps(groups, indent=2))
    ordered = [
        Row(r["name"], r["haven"], r["anchor"], r["notes"])
        for name in GROUPS
        for r in groups.get(name, [])
    ]
    text = render(ordered)
    (args.out or ROOT / "BENCHMARKS.md").write_text(text)
    print(text)


def smoke(names: list[str], out: Path | None) -> None:
    """Every group in `names` at its smoke size, then the report rendered from them all.
    A group that fails is reported and the others still run; the exit status is 1 if any
    failed. Ends with a "smoke: N passed, N failed" line, one per group."""
    os.environ.setdefault(INSTALL_ENV, "pip")
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="haven-bench-smoke-") as tmp:
        scaling.PLOTS = Path(tmp) / "plots"  # never over docs/bench
        started = time.monotonic()
        rows: list[Row] = []
        for name in names:
            began = time.monotonic()
            try:
                got = GROUPS[name]("smoke")
                if not got:
                    raise RuntimeError("no rows")
                # Through JSON, as last-run.json keeps them: what cannot be saved fails here.
                saved = json.loads(json.dumps([dataclasses.asdict(r) for r in got]))
            except Exception:
                traceback.print_exc()
                print(f"bench smoke: {name} FAILED", flush=True)
                failed.append(name)
                continue
            rows += [Row(r["name"], r["haven"], r["anchor"], r["notes"]) for r in saved]
            print(f"bench smoke: {name} ran in {time.monotonic() - began:.1f} s", flush=True)
        report = out or Path(tmp) / "BENCHMARKS.smoke.md"
        try:
            report.write_text(render(rows))
        except Exception:
            traceback.print_exc()
            failed.append("render")
        print(
            f"bench smoke: {len(rows)} rows in {time.monotonic() - started:.1f} s; report "
            f"rendered to {report}" + (" (a temporary file, removed now)" if out is None else "")
        )
    passed = len(names) + 1 - len(failed)  # each group, and the rendering
    print(f"smoke: {passed} passed, {len(failed)} failed", flush=True)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
