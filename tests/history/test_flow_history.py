"""The flow history: aggregates equal the records fed, queries return exactly the expected
peers and volumes, retention and the disk budget are enforced, a stalled writer drops (counted)
without slowing the collector, bad batches are refused and counted."""

from __future__ import annotations

import errno
import ipaddress
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from nocsoc.collectors.flows.collector import FlowCollector
from nocsoc.collectors.flows.config import FlowsConfig
from nocsoc.collectors.flows.records import SCALED, UNKNOWN, UNSAMPLED, FlowBatch, make_batch
from nocsoc.history.aggregate import aggregate
from nocsoc.history.config import HistoryConfig
from nocsoc.history.flows import FlowHistoryWriter, FlowPeer, query_flows
from nocsoc.history.store import Dataset
from nocsoc.sinks.memory import MemorySink
from tests.servers.base import wait_until

T0 = 1_780_000_000.0 - 1_780_000_000.0 % 3600  # an hour boundary


def v4(a: str) -> int:
    return int(ipaddress.IPv4Address(a))


def batch(exporter: str, t: float, rows: list[tuple[str, str, int, int, int, int, int]],
          rate: int = 1, state: int = UNSAMPLED, in_if: int = 1, out_if: int = 2) -> FlowBatch:
    """rows: (src, dst, sport, dport, proto, bytes, packets) before sampling."""
    n = len(rows)
    six = ":" in rows[0][0]
    if six:
        src = np.array([ipaddress.IPv6Address(r[0]).packed for r in rows], dtype="V16")
        dst = np.array([ipaddress.IPv6Address(r[1]).packed for r in rows], dtype="V16")
    else:
        src = np.array([v4(r[0]) for r in rows], dtype=np.uint32)
        dst = np.array([v4(r[1]) for r in rows], dtype=np.uint32)
    cols = {"src": src, "dst": dst,
            "sport": np.array([r[2] for r in rows], np.uint32),
            "dport": np.array([r[3] for r in rows], np.uint32),
            "proto": np.array([r[4] for r in rows], np.uint32),
            "in_if": np.full(n, in_if, np.uint32), "out_if": np.full(n, out_if, np.uint32),
            "bytes": np.array([r[5] for r in rows], np.int64),
            "packets": np.array([r[6] for r in rows], np.int64)}
    return make_batch(exporter, "10", 6 if six else 4, t, cols, np.full(n, rate, np.int64),
                      np.full(n, state, np.int8))


def config(**kw: object) -> HistoryConfig:
    base: dict[str, object] = {"minute_grace_s": 0.0, "compact_after_s": 0.0, "maintenance_interval_s": 3600}
    base.update(kw)
    return HistoryConfig.model_validate(base)


ATTACKER = "203.0.113.45"


def feed() -> list[FlowBatch]:
    return [
        # minute 0: the attacker scans two hosts; one row repeated (same key: summed)
        batch("192.0.2.1", T0 + 5, [(ATTACKER, "10.0.0.1", 40000, 22, 6, 100, 2),
                                    (ATTACKER, "10.0.0.1", 40000, 22, 6, 50, 1),
                                    (ATTACKER, "10.0.0.2", 40001, 22, 6, 60, 1),
                                    ("10.0.0.9", "10.0.0.8", 5, 53, 17, 999, 9)]),
        # minute 0 again, another batch of the same exporter: merges with the first row
        batch("192.0.2.1", T0 + 30, [(ATTACKER, "10.0.0.1", 40000, 22, 6, 10, 1)]),
        # minute 2: the server answers (the attacker is the destination), sampled 1:10
        batch("192.0.2.1", T0 + 150, [("10.0.0.1", ATTACKER, 22, 40000, 6, 70, 3)], rate=10, state=SCALED),
        # another exporter, sampling unknown
        batch("192.0.2.7", T0 + 150, [(ATTACKER, "10.0.0.1", 40000, 22, 6, 5, 1)], state=UNKNOWN),
        # IPv6
        batch("192.0.2.1", T0 + 3700, [("2001:db8::45", "2001:db8::1", 1234, 443, 6, 1500, 1)]),
    ]


def test_aggregate_sums_exactly_per_minute_and_key() -> None:
    agg = aggregate(feed())
    rows = sorted(zip(agg.minute.tolist(), [agg.exporters[i] for i in agg.exporter.tolist()],
                      agg.dport.tolist(), agg.sampling.tolist(), agg.bytes.tolist(), agg.packets.tolist(),
                      agg.flows.tolist(), strict=True))
    m0 = int(T0)
    assert rows == sorted([
        (m0, "192.0.2.1", 22, 1, 160, 4, 3),  # 100 + 50 + 10 bytes, 3 records
        (m0, "192.0.2.1", 22, 1, 60, 1, 1),
        (m0, "192.0.2.1", 53, 1, 999, 9, 1),
        (m0 + 120, "192.0.2.1", 40000, 10, 700, 30, 1),  # scaled by 10
        (m0 + 120, "192.0.2.7", 22, 0, 5, 1, 1),  # sampling unknown -> 0
        (m0 + 3660, "192.0.2.1", 443, 1, 1500, 1, 1),
    ])
    assert int(agg.bytes.sum()) == sum(int(b.bytes.sum()) for b in feed())


def test_hash_collisions_fall_back_to_exact_grouping(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every key hashed alike: the check sees it and groups on the keys themselves."""
    import nocsoc.history.aggregate as mod

    monkeypatch.setattr(mod, "_MIX", np.uint64(0))
    agg = aggregate(feed())
    assert sorted(agg.bytes.tolist()) == [5, 60, 160, 700, 999, 1500]


def write_all(tmp_path: Path, batches: list[FlowBatch], **kw: object) -> FlowHistoryWriter:
    w = FlowHistoryWriter(config(**kw), tmp_path, clock=lambda: T0 + 7200)
    for b in batches:
        w.add(b)
    w.sync()
    return w


def test_query_returns_exactly_the_peers_of_an_address(tmp_path: Path) -> None:
    w = write_all(tmp_path, feed())
    assert w.counters.get("written") == 8 and w.counters.get("dropped") == 0
    got = query_flows(tmp_path, ATTACKER, since=T0, until=T0 + 3600)
    assert got == [
        FlowPeer(ATTACKER, "10.0.0.1", "in", 6, 40000, 22, 700, 30, 1, T0 + 120, T0 + 180, ("192.0.2.1",)),
        FlowPeer(ATTACKER, "10.0.0.1", "out", 6, 40000, 22, 165, 5, 4, T0, T0 + 180,
                 ("192.0.2.1", "192.0.2.7")),
        FlowPeer(ATTACKER, "10.0.0.2", "out", 6, 40001, 22, 60, 1, 1, T0, T0 + 60, ("192.0.2.1",)),
    ]
    assert [p.bytes for p in query_flows(tmp_path, ATTACKER, peer="10.0.0.2")] == [60]
    assert [p.bytes for p in query_flows(tmp_path, ATTACKER, port=40001)] == [60]
    # the window: minute 2 only
    assert [(p.direction, p.bytes) for p in query_flows(tmp_path, ATTACKER, since=T0 + 120, until=T0 + 180)] \
        == [("in", 700), ("out", 5)]
    assert query_flows(tmp_path, "10.0.0.8") == [
        FlowPeer("10.0.0.8", "10.0.0.9", "in", 17, 53, 5, 999, 9, 1, T0, T0 + 60, ("192.0.2.1",))]
    assert [(p.peer, p.bytes) for p in query_flows(tmp_path, "2001:DB8::1")] == [("2001:db8::45", 1500)]
    assert query_flows(tmp_path, "198.51.100.1") == []


def test_compaction_keeps_every_row_and_sorts_by_address(tmp_path: Path) -> None:
    w = write_all(tmp_path, feed())
    before = query_flows(tmp_path, ATTACKER)
    # more parts in the first hour, then compaction into one file
    w.add(batch("192.0.2.1", T0 + 600, [(ATTACKER, "10.0.0.3", 1, 2, 17, 1, 1)]))
    w.sync()
    assert w.counters.get("compactions") >= 1
    (part,) = [p for p in Dataset(tmp_path, "flows").partitions() if p.hour == T0]
    files = part.parquet_files()
    assert len(files) == 1 and files[0].name.startswith("c-")
    after = query_flows(tmp_path, ATTACKER)
    assert after == sorted([*before, FlowPeer(ATTACKER, "10.0.0.3", "out", 17, 1, 2, 1, 1, 1, T0 + 600,
                                              T0 + 660, ("192.0.2.1",))], key=lambda p: -p.bytes)


def test_retention_deletes_old_hours(tmp_path: Path) -> None:
    now = [T0 + 2 * 86400 + 3600 + 30]  # day 1's hour ended 1 day + 30 s ago
    w = FlowHistoryWriter(config(flows_retention_days=1), tmp_path, clock=lambda: now[0])
    for h in range(3):  # one batch a day
        w.add(batch("192.0.2.1", T0 + h * 86400, [(ATTACKER, "10.0.0.1", 1, 2, 6, 10 + h, 1)]))
    w.sync()
    assert [p.hour for p in Dataset(tmp_path, "flows").partitions()] == [T0 + 2 * 86400]
    assert w.counters.get("expired") == 2
    assert [p.bytes for p in query_flows(tmp_path, ATTACKER)] == [12]


def test_disk_budget_deletes_the_oldest_hours(tmp_path: Path) -> None:
    w = FlowHistoryWriter(config(flows_max_bytes=1 << 20), tmp_path, clock=lambda: T0 + 30 * 3600)
    rng = np.random.default_rng(7)
    for h in range(6):  # ~0.4 MB an hour of random (incompressible) aggregates
        n = 20000
        rows = [(str(ipaddress.IPv4Address(int(a))), "10.0.0.1", int(p), 80, 6, int(b), 1)
                for a, p, b in zip(rng.integers(1 << 24, 1 << 31, n), rng.integers(1, 65535, n),
                                   rng.integers(1, 1 << 40, n), strict=True)]
        w.add(batch("192.0.2.1", T0 + h * 3600, rows))
    w.sync()
    store = Dataset(tmp_path, "flows")
    hours = [p.hour for p in store.partitions()]
    assert store.size() <= 1 << 20
    assert hours == [T0 + h * 3600 for h in range(6 - len(hours), 6)]  # the newest kept
    assert w.counters.get("evicted") == 6 - len(hours) > 0


def test_a_stalled_writer_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    w = FlowHistoryWriter(config(queue_batches=3), tmp_path, clock=lambda: T0 + 7200)
    release, gave_up = threading.Event(), threading.Event()
    original = w.accept

    def stalled(item: FlowBatch) -> None:
        if not release.wait(60):
            gave_up.set()
        original(item)

    w.accept = stalled  # type: ignore[method-assign]
    w.start()
    try:
        b = batch("192.0.2.1", T0, [(ATTACKER, "10.0.0.1", 1, 2, 6, 10, 1)] * 2)
        for _ in range(10):
            w.add(b)
        # not blocked on the stalled writer: the adds returned while it still waited for release
        assert not gave_up.is_set()
        # at most 1 taken by the stalled thread + 3 queued; the rest dropped at once
        dropped = w.counters.get("dropped")
        assert dropped in (2 * 6, 2 * 7)
    finally:
        release.set()
        w.stop()
    assert w.counters.get("received") == 20 and w.counters.get("dropped") == dropped
    assert w.counters.get("written") == 20 - dropped
    assert query_flows(tmp_path, ATTACKER)[0].bytes == 10 * (20 - dropped)


def test_bad_batches_are_refused_counted_and_the_writer_goes_on(tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    good = batch("192.0.2.1", T0, [(ATTACKER, "10.0.0.1", 1, 2, 6, 10, 1)])
    bad_time = batch("192.0.2.9", float("nan"), [(ATTACKER, "10.0.0.1", 1, 2, 6, 10, 1)])
    short = batch("192.0.2.8", T0, [(ATTACKER, "10.0.0.1", 1, 2, 6, 10, 1)] * 2)
    short.sport = short.sport[:1]
    w = write_all(tmp_path, [bad_time, short, good])
    assert w.counters.get("rejected") == 3 and w.counters.get("written") == 1
    msgs = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert msgs == ["history flows: item refused: batch of 192.0.2.9: time nan is not a time",
                    "history flows: item refused: batch of 192.0.2.8: column sport has 1 values for 2 "
                    "records"]
    with pytest.raises(ValueError, match=r"^--ip '203\.0\.113\.999': not an IP address$"):
        query_flows(tmp_path, "203.0.113.999")
    with pytest.raises(ValueError, match=r"^--peer 'x': not an IP address$"):
        query_flows(tmp_path, ATTACKER, peer="x")


def test_a_flow_port_in_use_leaves_the_history_writer_stopped(tmp_path: Path) -> None:
    """The sFlow port taken: FlowCollector.start() raises one line naming it; the history writer
    was not left running, nor the NetFlow socket bound before it."""
    before = set(threading.enumerate())
    writer = FlowHistoryWriter(config(), tmp_path / "history")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        fc = FlowCollector(FlowsConfig(bind="127.0.0.1:0", sflow_bind=f"127.0.0.1:{port}"), None,
                           MemorySink(), state_dir=tmp_path / "flows", history=writer)
        with pytest.raises(OSError) as exc:
            fc.start()
    assert (exc.value.errno, exc.value.strerror) == (
        errno.EADDRINUSE, f"cannot listen on udp 127.0.0.1:{port}: address already in use")
    wait_until(lambda: not [t for t in threading.enumerate() if t not in before],
               timeout=30, what="the threads start() began to end")
    assert all(r.sock is None for r in fc.receivers)  # the NetFlow socket closed again
