"""The flow history in ClickHouse (`history: {backend: clickhouse}`): the same per-minute
aggregates, inserted through clickhouse-connect into the table `DDL` creates.

The DDL and the queries below are run by the tests on chdb (ClickHouse's engine in-process);
the client path (HTTP to a server) has not been run against a live ClickHouse server here.
One row per aggregate (not mirrored as in Parquet): ClickHouse answers "src = X OR dst = X"
with the bloom-filter skip indexes on both columns. Retention is the table's TTL; the disk
budget is the server's business (storage policies), not nocsoc's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from nocsoc.history.aggregate import MINUTE_S, Aggregate, address_bytes, address_text, to_fixed16
from nocsoc.history.config import ClickHouseConfig, HistoryConfig
from nocsoc.history.flows import FlowHistoryWriter, FlowPeer

DDL = """CREATE TABLE IF NOT EXISTS {table}
(
    minute        DateTime('UTC') CODEC(Delta, ZSTD),
    exporter      LowCardinality(String),
    src           IPv6,
    dst           IPv6,
    src_port      UInt16,
    dst_port      UInt16,
    proto         UInt8,
    in_if         UInt32,
    out_if        UInt32,
    sampling_rate UInt32,
    bytes         UInt64,
    packets       UInt64,
    flows         UInt64,
    INDEX src_bf src TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX dst_bf dst TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = SummingMergeTree((bytes, packets, flows))
PARTITION BY toDate(minute)
ORDER BY (minute, exporter, src, dst, src_port, dst_port, proto, in_if, out_if, sampling_rate)
TTL minute + INTERVAL {retention_days} DAY DELETE"""

COLUMNS = ("minute", "exporter", "src", "dst", "src_port", "dst_port", "proto", "in_if", "out_if",
           "sampling_rate", "bytes", "packets", "flows")

# "what did {ip} talk to": both directions, the same columns as FlowPeer
PEERS_QUERY = """SELECT
    if(src = {{ip:IPv6}}, dst, src)           AS peer,
    src = {{ip:IPv6}}                         AS ip_is_src,
    proto,
    if(src = {{ip:IPv6}}, src_port, dst_port) AS ip_port,
    if(src = {{ip:IPv6}}, dst_port, src_port) AS peer_port,
    sum(bytes)                                AS bytes,
    sum(packets)                              AS packets,
    sum(flows)                                AS flows,
    toUnixTimestamp(min(minute))              AS first_minute,
    toUnixTimestamp(max(minute))              AS last_minute,
    arraySort(groupUniqArray(exporter))       AS exporters
FROM {table}
WHERE (src = {{ip:IPv6}} OR dst = {{ip:IPv6}})
  AND minute >= toDateTime({{since:UInt32}}, 'UTC') AND minute < toDateTime({{until:UInt32}}, 'UTC')
GROUP BY peer, ip_is_src, proto, ip_port, peer_port
ORDER BY bytes DESC, peer, ip_is_src, proto, ip_port, peer_port
LIMIT {{limit:UInt32}}"""


def ddl(table: str, retention_days: float) -> str:
    return DDL.format(table=table, retention_days=max(1, round(retention_days)))


def peers_query(table: str) -> str:
    return PEERS_QUERY.format(table=table)


def peers_params(ip: str, since: float | None, until: float | None, limit: int) -> dict[str, Any]:
    """The query parameters (`{ip:IPv6}` takes the address text; IPv4 as ::ffff:a.b.c.d)."""
    return {"ip": address_text_v6(address_bytes(ip)), "since": int((since or 0) // MINUTE_S) * MINUTE_S,
            "until": int(until if until is not None else 4_000_000_000), "limit": limit}


def address_text_v6(raw: bytes) -> str:
    import ipaddress

    return str(ipaddress.IPv6Address(raw))


def rows_of(agg: Aggregate) -> tuple[list[list[Any]], list[str]]:
    """The aggregate as insert rows in COLUMNS order (addresses as 16-byte IPv6 values)."""
    import ipaddress

    src = to_fixed16(agg.src_hi, agg.src_lo)
    dst = to_fixed16(agg.dst_hi, agg.dst_lo)
    rows = []
    for i in range(len(agg)):
        rows.append([int(agg.minute[i]), agg.exporters[int(agg.exporter[i])],
                     ipaddress.IPv6Address(src[i].tobytes()), ipaddress.IPv6Address(dst[i].tobytes()),
                     int(agg.sport[i]), int(agg.dport[i]), int(agg.proto[i]), int(agg.in_if[i]),
                     int(agg.out_if[i]), int(agg.sampling[i]), int(agg.bytes[i]), int(agg.packets[i]),
                     int(agg.flows[i])])
    return rows, list(COLUMNS)


def peers_from_rows(ip: str, rows: list[Any]) -> list[FlowPeer]:
    shown = address_text(address_bytes(ip))
    out = []
    for r in rows:
        peer = address_text(address_bytes(str(r[0])))
        out.append(FlowPeer(shown, peer, "out" if int(r[1]) else "in", int(r[2]), int(r[3]), int(r[4]),
                            int(r[5]), int(r[6]), int(r[7]), float(r[8]), float(int(r[9]) + MINUTE_S),
                            tuple(r[10])))
    return out


def connect(cfg: ClickHouseConfig, secret: Callable[[str, str], str]) -> Any:
    """A clickhouse-connect client for `cfg` (the password resolved from its reference)."""
    import clickhouse_connect

    u = urlsplit(cfg.url)
    secure = u.scheme == "https"
    password = secret(cfg.password, "history.clickhouse.password") if cfg.password else ""
    return clickhouse_connect.get_client(host=u.hostname or "127.0.0.1",
                                         port=u.port or (8443 if secure else 8123), username=cfg.username,
                                         password=password, database=cfg.database, secure=secure)


class ClickHouseFlowWriter(FlowHistoryWriter):
    """The flow history writer with ClickHouse as the store (untested against a live server)."""

    def __init__(self, config: HistoryConfig, root: Path, secret: Callable[[str, str], str],
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(config, root, clock)
        self.secret = secret
        self.client: Any = None

    def start(self) -> None:
        """Resolve the password reference now: an unset variable stops the worker at start with
        one line naming `history.clickhouse.password`, not at the first write."""
        if self.config.clickhouse.password:
            self.secret(self.config.clickhouse.password, "history.clickhouse.password")
        super().start()

    def _client(self) -> Any:
        if self.client is None:
            cfg = self.config.clickhouse
            client = connect(cfg, self.secret)
            if cfg.create_table:
                client.command(ddl(cfg.table, self.config.flows_retention_days))
            self.client = client
        return self.client

    def write(self, agg: Aggregate, records: int) -> None:
        rows, names = rows_of(agg)
        self._client().insert(self.config.clickhouse.table, rows, column_names=names)
        self.counters.add("rows", len(rows))
        self.counters.add("written", records)

    def maintain(self, now: float) -> None:
        """Retention is the table's TTL: nothing to do here."""


def query_flows_clickhouse(cfg: ClickHouseConfig, secret: Callable[[str, str], str], ip: str, *,
                           since: float | None = None, until: float | None = None,
                           limit: int = 1000) -> list[FlowPeer]:
    client = connect(cfg, secret)
    try:
        res = client.query(peers_query(cfg.table), parameters=peers_params(ip, since, until, limit))
        return peers_from_rows(ip, list(res.result_rows))
    finally:
        client.close()
