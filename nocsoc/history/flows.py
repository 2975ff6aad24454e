"""The flow history: per-minute aggregates in hourly Parquet files, and the query the CLI and
the SOC console ask ("what did 203.0.113.45 talk to around this alert").

Each aggregate is stored twice, once under each of its two addresses (`ip`, `peer`, `ip_is_src`
says which side `ip` was), and each file is sorted by `ip`: a query for one address then reads
only the row groups whose min/max `ip` hold it (DuckDB prunes on Parquet statistics), whatever
side of the flow the address was on. This doubles the rows but turns the question an analyst
asks from a scan of a day of traffic into a lookup (figures in docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from nocsoc.collectors.flows.records import FlowBatch
from nocsoc.history.aggregate import (
    MINUTE_S,
    Aggregate,
    address_bytes,
    address_text,
    aggregate,
    check_batch,
    to_fixed16,
)
from nocsoc.history.config import HistoryConfig
from nocsoc.history.store import HOUR_S, Dataset, run_query
from nocsoc.history.writer import BackgroundWriter

log = logging.getLogger(__name__)

DATASET = "flows"
ORDER_BY = "ip, minute"


def flow_schema() -> Any:
    import pyarrow as pa

    return pa.schema([
        ("minute", pa.int64()), ("exporter", pa.string()), ("ip", pa.binary(16)),
        ("peer", pa.binary(16)), ("ip_port", pa.int32()), ("peer_port", pa.int32()),
        ("proto", pa.int16()), ("in_if", pa.int64()), ("out_if", pa.int64()),
        ("sampling_rate", pa.int64()), ("ip_is_src", pa.bool_()), ("bytes", pa.int64()),
        ("packets", pa.int64()), ("flows", pa.int64()),
    ])


def _fixed(hi: np.ndarray, lo: np.ndarray) -> Any:
    import pyarrow as pa

    raw = to_fixed16(hi, lo)
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), raw.shape[0], [None, pa.py_buffer(raw)])


def mirrored_table(agg: Aggregate) -> Any:
    """The aggregate as the stored table: each row under its source, then its destination,
    sorted by `ip` then minute."""
    import pyarrow as pa

    n = len(agg)
    ip_hi = np.concatenate([agg.src_hi, agg.dst_hi])
    ip_lo = np.concatenate([agg.src_lo, agg.dst_lo])
    peer_hi = np.concatenate([agg.dst_hi, agg.src_hi])
    peer_lo = np.concatenate([agg.dst_lo, agg.src_lo])
    minute = np.concatenate([agg.minute, agg.minute])
    order = np.lexsort((minute, ip_lo, ip_hi))

    def both(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        return np.concatenate([a, a if b is None else b])[order]

    exporter = pa.DictionaryArray.from_arrays(pa.array(both(agg.exporter).astype(np.int32)),
                                              pa.array(agg.exporters, pa.string())).cast(pa.string())
    return pa.table({
        "minute": minute[order],
        "exporter": exporter,
        "ip": _fixed(ip_hi[order], ip_lo[order]),
        "peer": _fixed(peer_hi[order], peer_lo[order]),
        "ip_port": both(agg.sport, agg.dport).astype(np.int32),
        "peer_port": both(agg.dport, agg.sport).astype(np.int32),
        "proto": both(agg.proto).astype(np.int16),
        "in_if": both(agg.in_if).astype(np.int64),
        "out_if": both(agg.out_if).astype(np.int64),
        "sampling_rate": both(agg.sampling),
        "ip_is_src": np.concatenate([np.ones(n, bool), np.zeros(n, bool)])[order],
        "bytes": both(agg.bytes), "packets": both(agg.packets), "flows": both(agg.flows),
    }, schema=flow_schema())


def write_table(path: Path, table: Any, row_group_size: int = 65536) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path, compression="zstd", row_group_size=row_group_size)


class FlowAccumulator:
    """Batches held per minute until the minute closes (bounded by `max_records`)."""

    def __init__(self, max_records: int) -> None:
        self.max_records = max_records
        self.minutes: dict[int, list[FlowBatch]] = defaultdict(list)
        self.records = 0

    def add(self, batch: FlowBatch) -> bool:
        if self.records + len(batch) > self.max_records:
            return False
        self.minutes[int(batch.time // MINUTE_S) * MINUTE_S].append(batch)
        self.records += len(batch)
        return True

    def take(self, closed_before: float | None) -> list[FlowBatch]:
        """The batches of minutes ending at or before `closed_before` (all with None)."""
        out: list[FlowBatch] = []
        for m in sorted(self.minutes):
            if closed_before is None or m + MINUTE_S <= closed_before:
                out.extend(self.minutes.pop(m))
        self.records -= sum(len(b) for b in out)
        return out


class FlowHistoryWriter(BackgroundWriter[FlowBatch]):
    """Takes the collector's decoded batches; writes a part per closed minute (per hour), and
    keeps the dataset within its retention and disk budget. `add` is the collector's hook."""

    dataset = DATASET

    def __init__(self, config: HistoryConfig, root: Path, clock: Callable[[], float] = time.time) -> None:
        super().__init__(config, config.queue_batches, clock)
        self.store = Dataset(root, DATASET)
        self.buffer = FlowAccumulator(config.max_buffer_records)

    def add(self, batch: FlowBatch) -> None:
        """The collector's hook (`FlowPipeline.history`): queue, never wait. Only traffic: as
        in the rollups, event records (NAT/firewall logging) and sFlow drop samples carry no
        volume and are not kept here."""
        if len(batch) and getattr(batch, "kind", "flow") == "flow":
            self.offer(batch)

    def size(self, item: FlowBatch) -> int:
        return len(item)

    def accept(self, item: FlowBatch) -> None:
        check_batch(item)
        if not self.buffer.add(item):
            self.counters.add("dropped", len(item))

    def flush(self, now: float, final: bool = False) -> None:
        batches = self.buffer.take(None if final else now - self.config.minute_grace_s)
        if not batches:
            return
        try:
            self.write(aggregate(batches), sum(len(b) for b in batches))
        except Exception:
            self.counters.add("dropped", sum(len(b) for b in batches))
            raise

    def write(self, agg: Aggregate, records: int) -> None:
        """One part per hour the aggregate touches."""
        hours = agg.minute // HOUR_S * HOUR_S
        for hour in np.unique(hours).tolist():
            sel = hours == hour
            part = Aggregate(agg.exporters, *(getattr(agg, f)[sel] for f in (
                "minute", "exporter", "src_hi", "src_lo", "dst_hi", "dst_lo", "sport", "dport", "proto",
                "in_if", "out_if", "sampling", "bytes", "packets", "flows")))
            table = mirrored_table(part)
            self.store.write_part(int(hour), partial(write_table, table=table))
            self.counters.add("rows", table.num_rows)
            self.counters.add("files")
        self.counters.add("written", records)

    def maintain(self, now: float) -> None:
        maintain(self.store, self.counters, now, self.config.flows_retention_days * 86400,
                 self.config.flows_max_bytes, self.config.compact_after_s, ORDER_BY)


def maintain(store: Dataset, counters: Any, now: float, retention_s: float, max_bytes: int,
             compact_after_s: float, order_by: str) -> None:
    """Retention, then disk budget, then compaction of closed hours (shared with the logs)."""
    counters.add("expired", store.expire(now, retention_s))
    counters.add("evicted", store.enforce_budget(max_bytes))
    for part in store.compactable(now, compact_after_s):
        if store.compact(part, order_by):
            counters.add("compactions")
    counters.set("disk_bytes", store.size())


# --- queries ---------------------------------------------------------------------------------


def _address(option: str, text: str) -> bytes:
    try:
        return address_bytes(text)
    except ValueError:
        raise ValueError(f"{option} {text!r}: not an IP address") from None


@dataclass(frozen=True)
class FlowPeer:
    """What `ip` exchanged with one peer on one (protocol, ports, direction) over the window.

    `direction` is "out" when `ip` was the records' source, "in" when it was the destination.
    `first_seen`/`last_seen` are minute boundaries (epoch seconds): the first minute's start
    and the last minute's end.
    """

    ip: str
    peer: str
    direction: str
    proto: int
    ip_port: int
    peer_port: int
    bytes: int
    packets: int
    flows: int
    first_seen: float
    last_seen: float
    exporters: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["exporters"] = list(self.exporters)
        return d


def query_flows(root: Path, ip: str, *, peer: str | None = None, port: int | None = None,
                since: float | None = None, until: float | None = None,
                limit: int = 1000) -> list[FlowPeer]:
    """Peers of `ip` in [since, until) (epoch seconds; None: unbounded), largest bytes first.

    `root` is the history directory (`history.dir`). Raises ValueError for an address that is
    not one (the message names it)."""
    target = _address("--ip", ip)
    other = _address("--peer", peer) if peer is not None else None
    if port is not None and not 0 <= port <= 65535:
        raise ValueError(f"--port {port}: not in 0-65535")
    if since is not None and until is not None and until <= since:
        raise ValueError("until must be after since")
    where = ["ip = ?"]
    params: list[Any] = [target]
    if other is not None:
        where.append("peer = ?")
        params.append(other)
    if port is not None:
        where.append("(ip_port = ? OR peer_port = ?)")
        params += [port, port]
    if since is not None:
        where.append("minute >= ?")
        params.append(int(since // MINUTE_S) * MINUTE_S)
    if until is not None:
        where.append("minute < ?")
        params.append(int(until))
    sql = ("SELECT peer, ip_is_src, proto, ip_port, peer_port, sum(bytes)::BIGINT, sum(packets)::BIGINT, "
           "sum(flows)::BIGINT, min(minute), max(minute), list(DISTINCT exporter ORDER BY exporter) "
           "FROM read_parquet(?) WHERE " + " AND ".join(where) +
           " GROUP BY peer, ip_is_src, proto, ip_port, peer_port "
           "ORDER BY 6 DESC, 1, 2, 3, 4, 5 LIMIT ?")

    def run(con: Any, files: list[str]) -> list[Any]:
        return con.execute(sql, [files, *params, limit]).fetchall()

    rows = run_query(Dataset(root, DATASET), since, until, run)
    shown = address_text(target)
    return [FlowPeer(shown, address_text(bytes(r[0])), "out" if r[1] else "in", int(r[2]), int(r[3]),
                     int(r[4]), int(r[5]), int(r[6]), int(r[7]), float(r[8]), float(r[9] + MINUTE_S),
                     tuple(r[10])) for r in rows]
