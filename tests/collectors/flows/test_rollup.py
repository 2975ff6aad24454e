"""Rollups: exact totals, top-N with `other`, intervals by arrival time, late data never rewrites."""

from __future__ import annotations

import numpy as np

from nocsoc.collectors.flows.records import UNSAMPLED, make_batch
from nocsoc.collectors.flows.rollup import Rollups, format_service, service_keys
from nocsoc.schema import Point


def batch(
    t: float,
    src: list[int],
    dst: list[int],
    nbytes: list[int],
    sport: list[int] | None = None,
    dport: list[int] | None = None,
    proto: int = 6,
    exporter: str = "127.0.0.1",
):
    n = len(src)
    cols = {
        "src": np.array(src, np.uint32),
        "dst": np.array(dst, np.uint32),
        "bytes": np.array(nbytes, np.uint64),
        "packets": np.ones(n, np.uint64),
        "sport": np.array(sport or [1000] * n, np.uint32),
        "dport": np.array(dport or [80] * n, np.uint32),
        "proto": np.full(n, proto, np.uint32),
        "in_if": np.array([i % 3 for i in range(n)], np.uint32),
        "out_if": np.full(n, 9, np.uint32),
    }
    return make_batch(exporter, "9", 4, t, cols, np.ones(n, np.int64), np.full(n, UNSAMPLED, np.int8))


def by(points: list[Point], measurement: str, kind: str | None = None) -> list[Point]:
    return [
        p for p in points if p.measurement == measurement and (kind is None or p.tags.get("kind") == kind)
    ]


def test_topn_other_and_exact_sums() -> None:
    rng = np.random.default_rng(7)
    r = Rollups(interval_s=60, top_n=5)
    total = 0
    expect: dict[int, int] = {}
    for _ in range(20):
        src = rng.integers(1, 40, 500).tolist()
        nbytes = rng.integers(40, 1500, 500).tolist()
        total += sum(nbytes)
        for s, b in zip(src, nbytes, strict=True):
            expect[s] = expect.get(s, 0) + b
        r.add(
            batch(
                30.0,
                src,
                rng.integers(1, 1000, 500).tolist(),
                nbytes,
                sport=rng.integers(1, 65535, 500).tolist(),
                dport=rng.integers(1, 1024, 500).tolist(),
            )
        )
    points = r.due(now=60.0)
    (t,) = by(points, "flow_total")
    assert (t.fields["bytes"], t.fields["flows"], t.time_ns) == (total, 10_000, 0)
    for kind in ("src", "dst", "service", "conversation"):
        rows = by(points, "flow_top", kind)
        assert len(rows) == 6 and rows[-1].tags["key"] == "other" and rows[-1].fields["rank"] == 0
        assert sum(int(p.fields["bytes"]) for p in rows) == total
        assert sum(int(p.fields["flows"]) for p in rows) == 10_000
        assert [p.fields["rank"] for p in rows] == [1, 2, 3, 4, 5, 0]
    top_src = [(p.tags["key"], p.fields["bytes"]) for p in by(points, "flow_top", "src")[:5]]
    best = sorted(expect.items(), key=lambda kv: -kv[1])[:5]
    assert top_src == [(f"0.0.0.{s}", b) for s, b in best]
    ifaces = by(points, "flow_interface")
    assert sum(int(p.fields["bytes"]) for p in ifaces if p.tags["direction"] == "in") == total
    assert [p.tags["ifindex"] for p in ifaces if p.tags["direction"] == "out"] == ["9"]


def test_intervals_close_by_wall_clock_and_late_data_goes_forward() -> None:
    r = Rollups(interval_s=10, top_n=3)
    r.add(batch(5.0, [1], [2], [100]))
    r.add(batch(15.0, [1], [2], [200]))
    assert r.due(now=9.9) == []
    first = by(r.due(now=10.0), "flow_total")
    assert [(p.time_ns, p.fields["bytes"]) for p in first] == [(0, 100)]
    r.add(batch(7.0, [1], [2], [50]))  # late (held for its template): joins the open interval
    rest = by(r.flush_all(), "flow_total")
    assert [(p.time_ns, p.fields["bytes"]) for p in rest] == [(10 * 10**9, 250)]
    assert r.late == 1


def test_service_keys_name_the_service_side() -> None:
    keys = service_keys(
        np.array([6, 6, 17, 1], np.uint32),
        np.array([443, 51000, 53, 0], np.uint32),
        np.array([51000, 22, 40000, 0], np.uint32),
    )
    assert [format_service(int(k)) for k in keys] == ["tcp/443", "tcp/22", "udp/53", "icmp"]


def test_ties_at_the_top_n_cut_are_ranked_by_volume_then_key_and_only_n_are_kept() -> None:
    """A scan: 20,000 sources of one 40-byte packet each, after 3 real talkers. The top 5 are the
    talkers, then the 2 lowest 40-byte addresses (by number); the other 19,998 are summed into `other`
    (ranked without formatting 20,000 keys, which made closing such an interval take seconds)."""
    rng = np.random.default_rng(3)
    scanners = (rng.permutation(20_000) + 0x0A640009).tolist()  # 10.100.0.9 up, in random order
    talkers = [0x0A000001, 0x0A000002, 0x0A000003]
    r = Rollups(interval_s=60, top_n=5)
    r.add(batch(10.0, talkers + scanners, [0x0B000001] * 20_003, [9000, 7000, 5000] + [40] * 20_000))
    r.add(batch(10.0, [0x0A000004], [0x0B000001], [40]))  # one more 40-byte source, below the scanners
    points = r.flush_all()
    src = {p.tags["key"]: (p.fields["rank"], p.fields["bytes"]) for p in by(points, "flow_top", "src")}
    assert src == {"10.0.0.1": (1, 9000), "10.0.0.2": (2, 7000), "10.0.0.3": (3, 5000),
                   "10.0.0.4": (4, 40), "10.100.0.9": (5, 40),  # by number: "10.100.0.10" sorts first
                   "other": (0, 40 * 19_999)}
    (total,) = by(points, "flow_total")
    assert total.fields["bytes"] == 21_000 + 40 * 20_001
