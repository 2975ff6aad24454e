"""Flow history: the writer's CPU per record, and a query's time over 24 h.
Writer: a minute of a province's traffic at 10,000 records/s (600,000 IPv4 records in batches of
30,000, as the decoder hands them over) goes through what the writer thread does with it:
per-minute aggregation (numpy), the two mirrored copies sorted by address, Parquet (zstd) on
disk. CPU seconds of the process per record, median of 3; once with every record a distinct key
(worst case), once with 10 records a key (a conversation exported every 6 s, or sFlow samples).
The collector's own cost is `add()` (one queue put per batch), timed separately.
Query: 24 hourly files written directly (already compacted: sorted by address) holding a day at
10,000 records/s aggregated per minute, for two densities (40 and 10 records an aggregate:
4.3e7 and 1.7e8 stored rows, mirrored copies included; 100% distinct keys would be 1.7e9 rows,
beyond this shared 2-core machine's time and disk); then `query_flows` over the 24 h for an
attacker address (about 1,500 aggregates in one hour), a busy internal server and an address
never seen. Wall time, best of 3 after one cold run (the page cache is warm: the files were
just written). The query reads only the row groups whose min/max address hold the one asked
for, so its time follows the files and that address's rows, not the day's volume.

Run: `python -m bench history` (about 10 min and 4 GB of temporary disk).
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from nocsoc.collectors.flows.records import SCALED, FlowBatch  # noqa: E402
from nocsoc.history.aggregate import MINUTE_S  # noqa: E402
from nocsoc.history.config import HistoryConfig  # noqa: E402
from nocsoc.history.flows import FlowHistoryWriter, flow_schema, query_flows  # noqa: E402
from nocsoc.history.store import HOUR_S, Dataset, next_seq  # noqa: E402

T0 = 1_780_000_000 - 1_780_000_000 % 86400
RATE = 10_000  # records/s
BATCH = 30_000
ATTACKER = "203.0.113.45"
SERVER = "10.0.0.53"
GOAL_S = 1.0
REPEAT = 3
# `python -m bench --quick`: the same code paths at sizes that take seconds (figures meaningless)
QUICK = {"RATE": 200, "BATCH": 3000, "REPEAT": 1}
INTERNAL = 0x0A00_0000  # 10.0.0.0/16 inside, the rest of the space outside
SERVICE_PORTS = np.array([53, 80, 443, 443, 443, 22, 25, 123, 993, 3389, 8080], dtype=np.uint32)


def _traffic(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """n records of a province: 20k inside hosts (a few busy), 2M outside, service ports."""
    inside = (INTERNAL + np.minimum(rng.zipf(1.3, n), 20_000)).astype(np.uint32)
    inside[rng.random(n) < 0.01] = INTERNAL + 53  # the DNS server: 1% of the records
    outside = rng.integers(0, 2_000_003, n, dtype=np.uint32) * np.uint32(1733) + np.uint32(0x2000_0000)
    out = rng.random(n) < 0.5
    service = SERVICE_PORTS[rng.integers(0, SERVICE_PORTS.shape[0], n)]
    ephemeral = rng.integers(1024, 65535, n, dtype=np.uint32)
    return {"src": np.where(out, inside, outside), "dst": np.where(out, outside, inside),
            "sport": np.where(out, ephemeral, service), "dport": np.where(out, service, ephemeral),
            "proto": np.where(service == 53, 17, 6).astype(np.uint32),
            "in_if": rng.integers(1, 48, n, dtype=np.uint32),
            "out_if": rng.integers(1, 48, n, dtype=np.uint32),
            "bytes": rng.integers(40, 1_500_000, n), "packets": rng.integers(1, 1000, n)}


def _batches(minute: int, distinct_every: int, rng: np.random.Generator) -> list[FlowBatch]:
    n = RATE * MINUTE_S
    keys = _traffic(rng, n // distinct_every)
    pick = rng.integers(0, n // distinct_every, n) if distinct_every > 1 else np.arange(n)
    out = []
    for i in range(0, n, BATCH):
        sel = pick[i:i + BATCH]
        m = sel.shape[0]
        c = {k: v[sel] for k, v in keys.items()}
        out.append(FlowBatch("192.0.2.1", "10", 4, minute + i * MINUTE_S / n, c["src"], c["dst"], c["sport"],
                             c["dport"], c["proto"], c["in_if"], c["out_if"], c["bytes"] * 100,
                             c["packets"] * 100, np.full(m, 100, np.int64), np.full(m, SCALED, np.int8)))
    return out


def writer_cost(distinct_every: int) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    batches = _batches(T0, distinct_every, rng)
    records = sum(len(b) for b in batches)
    cpu, rows = [], 0
    tmp = Path(tempfile.mkdtemp(prefix="bench-history-"))
    try:
        cfg = HistoryConfig(queue_batches=100, minute_grace_s=0)
        for _ in range(REPEAT):
            w = FlowHistoryWriter(cfg, tmp, clock=lambda: T0 + 3600)
            t = time.process_time()
            for b in batches:
                w.accept(b)
            w.flush(T0 + 3600, final=True)
            cpu.append(time.process_time() - t)
            rows = w.counters.get("rows")
        w = FlowHistoryWriter(cfg, tmp)  # the collector's side: add() of every batch (not started)
        t = time.perf_counter_ns()
        for b in batches:
            w.add(b)
        add_ns = (time.perf_counter_ns() - t) / records
        size = Dataset(tmp, "flows").size() / 3
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    per = statistics.median(cpu) / records
    return {"records a key (per minute)": distinct_every, "records": records, "stored rows (mirrored)": rows,
            "writer CPU µs/record": round(per * 1e6, 3),
            "writer CPU at 10k records/s (% of a core)": round(per * RATE * 100, 2),
            "collector add() ns/record": round(add_ns, 2), "disk bytes/record": round(size / records, 2)}


def _write_day(root: Path, per_row: int, rng: np.random.Generator) -> int:
    """24 compacted hourly files of a day at RATE records/s, `per_row` records an aggregate."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    store = Dataset(root, "flows")
    rows_per_hour = RATE * HOUR_S // per_row
    total = 0
    for h in range(24):
        hour = T0 + h * HOUR_S
        k = _traffic(rng, rows_per_hour)
        minute = (hour + rng.integers(0, 60, rows_per_hour) * MINUTE_S).astype(np.int64)
        if h == 12:  # the attacker: ~1,500 aggregates in one hour with 300 inside hosts
            a = min(1500, rows_per_hour)
            k["src"][:a] = 0xCB00_712D  # 203.0.113.45
            k["dst"][:a] = INTERNAL + rng.integers(1, 300, a)
            k["dport"][:a] = 22
            k["proto"][:a] = 6
        ip = np.concatenate([k["src"], k["dst"]])
        order = np.lexsort((np.concatenate([minute, minute]), ip))

        def col(a: np.ndarray, b: np.ndarray, order: np.ndarray = order) -> np.ndarray:
            return np.concatenate([a, b])[order]

        def fixed(v4: np.ndarray) -> pa.Array:
            raw = np.zeros((v4.shape[0], 16), np.uint8)
            raw[:, 10:12] = 0xFF
            raw[:, 12:] = v4.astype(">u4").view(np.uint8).reshape(-1, 4)
            return pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), v4.shape[0], [None, pa.py_buffer(raw)])

        n = ip.shape[0]
        table = pa.table({
            "minute": col(minute, minute), "exporter": pa.array(["192.0.2.1"]).take(np.zeros(n, np.int32)),
            "ip": fixed(ip[order]), "peer": fixed(col(k["dst"], k["src"])),
            "ip_port": col(k["sport"], k["dport"]).astype(np.int32),
            "peer_port": col(k["dport"], k["sport"]).astype(np.int32),
            "proto": col(k["proto"], k["proto"]).astype(np.int16),
            "in_if": col(k["in_if"], k["in_if"]).astype(np.int64),
            "out_if": col(k["out_if"], k["out_if"]).astype(np.int64),
            "sampling_rate": np.full(n, 100, np.int64),
            "ip_is_src": col(np.ones(rows_per_hour, bool), np.zeros(rows_per_hour, bool)),
            "bytes": col(k["bytes"], k["bytes"]), "packets": col(k["packets"], k["packets"]),
            "flows": np.full(n, per_row, np.int64),
        }, schema=flow_schema())
        part = store.partition(hour)
        part.path.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, part.path / f"c-{next_seq():020d}.parquet", compression="zstd",
                       row_group_size=65536)
        total += n
        del table, k, ip, order
    return total


def query_times(per_row: int) -> list[dict[str, Any]]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-history-day-"))
    try:
        rows = _write_day(tmp, per_row, np.random.default_rng(2))
        size = Dataset(tmp, "flows").size()
        out = []
        for what, ip in (("attacker (1 hour of scans)", ATTACKER),
                         ("busy DNS server (1% of records)", SERVER),
                         ("address never seen", "198.51.100.99")):
            query_flows(tmp, ip, since=T0, until=T0 + 86400, limit=100)  # cold
            times, got = [], []
            for _ in range(REPEAT):
                t = time.perf_counter()
                got = query_flows(tmp, ip, since=T0, until=T0 + 86400, limit=100)
                times.append(time.perf_counter() - t)
            best = min(times)
            out.append({"records an aggregate": per_row, "stored rows (24 h)": rows,
                        "store GB": round(size / 1e9, 2), "address": what, "peer rows": len(got),
                        "query s (24 h)": round(best, 3),
                        f"goal {GOAL_S:g} s": "met" if best <= GOAL_S else "missed"})
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run() -> dict[str, Any]:
    writer = [writer_cost(1), writer_cost(10)]
    queries = query_times(40) + query_times(10)
    return {"rows": writer, "extra_tables": [queries],
            "notes": ["Writer CPU is the writer thread's (aggregate, mirror, sort, Parquet); the collector "
                      "only pays add(). Query: DuckDB over the 24 hourly files, 2 threads."]}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
