"""Real exporters' datagrams (../shared/flow-captures, every case) through the flow pipeline
with the history hook: what the store holds equals, key by key, the decoded records summed per
minute in plain Python (an independent check of the numpy aggregation)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from nocsoc.collectors.flows.collector import FlowPipeline
from nocsoc.collectors.flows.config import FlowsConfig
from nocsoc.collectors.flows.records import FlowBatch
from nocsoc.history.aggregate import address_bytes
from nocsoc.history.config import HistoryConfig
from nocsoc.history.flows import FlowHistoryWriter
from nocsoc.history.store import Dataset

ROOT = Path(__file__).resolve().parents[2]
CAPTURES = Path(os.environ.get("NOCSOC_SHARED_DIR") or ROOT.parent / "shared") / "flow-captures"
CASES = sorted(CAPTURES.glob("*/*.pcap")) if CAPTURES.is_dir() else []


def read_pcap(path: Path) -> list[tuple[bytes, str, float]]:
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.utils import PcapReader

    out = []
    with PcapReader(str(path)) as reader:
        for pkt in reader:
            udp = pkt.getlayer(UDP)
            ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
            if udp is not None and ip is not None:
                out.append((bytes(udp.payload), str(ip.src), float(pkt.time)))
    return out


@pytest.mark.skipif(not CASES, reason=f"{CAPTURES} not present (set NOCSOC_SHARED_DIR)")
@pytest.mark.parametrize("pcap", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_store_holds_the_decoded_records_summed_per_minute(pcap: Path, tmp_path: Path) -> None:
    datagrams = read_pcap(pcap)
    expected: Counter[tuple[object, ...]] = Counter()
    seen: list[FlowBatch] = []

    def keep(batch: FlowBatch) -> None:
        if batch.kind != "flow":  # events and drops carry no volume: not history (as rollups)
            return
        seen.append(batch)
        for r in batch.rows():
            key = (int(batch.time // 60 * 60), r["exporter"], address_bytes(str(r["src"])),
                   address_bytes(str(r["dst"])), r["sport"], r["dport"], r["proto"], r["in_if"], r["out_if"],
                   0 if r["sampled"] == "unknown" else r["sampling_rate"])
            expected[(*key, "bytes")] += int(r["bytes"])  # type: ignore[call-overload]
            expected[(*key, "packets")] += int(r["packets"])  # type: ignore[call-overload]
            expected[(*key, "flows")] += 1

    last = max((d[2] for d in datagrams), default=0.0)
    writer = FlowHistoryWriter(HistoryConfig(minute_grace_s=0, compact_after_s=0), tmp_path,
                               clock=lambda: last + 7200)
    pipeline = FlowPipeline(FlowsConfig())
    pipeline.history = writer.add
    pipeline.process(datagrams, on_batch=keep)
    writer.sync()
    records = sum(len(b) for b in seen)
    assert writer.counters.get("written") == records and writer.counters.get("dropped") == 0
    got: Counter[tuple[object, ...]] = Counter()
    files = [str(f) for f in Dataset(tmp_path, "flows").files()]
    if records:
        import duckdb

        rows = duckdb.connect().execute(
            "SELECT minute, exporter, ip, peer, ip_port, peer_port, proto, in_if, out_if, sampling_rate, "
            "bytes, packets, flows, ip_is_src FROM read_parquet(?)", [files]).fetchall()
        mirrored = Counter()
        for r in rows:
            key = (r[0], r[1], bytes(r[2]), bytes(r[3]), r[4], r[5], r[6], r[7], r[8], r[9])
            if not r[13]:  # the mirrored copy: the same sums under the destination
                key = (r[0], r[1], bytes(r[3]), bytes(r[2]), r[5], r[4], r[6], r[7], r[8], r[9])
            target = got if r[13] else mirrored
            for i, name in ((10, "bytes"), (11, "packets"), (12, "flows")):
                target[(*key, name)] += r[i]
        assert mirrored == got
    assert got == expected
    assert records == sum(v for k, v in expected.items() if k[-1] == "flows")
