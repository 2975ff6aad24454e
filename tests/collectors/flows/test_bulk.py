"""The vectorized (whole-batch) decoder gives exactly what the per-datagram path gives.

Streams mix everything that makes a batch irregular: template refreshes and a redefinition,
options data repeating a rate and then changing it, data before its template, loss, reordering,
a malformed datagram, two exporters, IPv4 and IPv6 sets. Each stream is decoded in batches of
several sizes both ways; records, counters and held data must be identical.
"""

from __future__ import annotations

import random
import struct

import pytest

from nocsoc.collectors.flows import speedups
from nocsoc.collectors.flows.decoder import NetflowDecoder
from nocsoc.collectors.flows.records import FlowBatch
from tests.collectors.flows import craft
from tests.collectors.flows.test_decoder import V4_FIELDS

V6_FIELDS = [(27, 16), (28, 16), (1, 4), (2, 4), (4, 1), (7, 2), (11, 2), (10, 4), (14, 4)]
V4_OTHER = [(8, 4), (12, 4), (1, 8), (2, 8), (4, 1), (11, 2), (7, 2)]  # a redefinition of 300
OPT_SCOPE, OPT_FIELDS = [(1, 4)], [(34, 4), (35, 1)]
A, B = "127.0.0.21", "127.0.0.22"


def _v4(rnd: random.Random, n: int, fields: list[tuple[int, int]] = V4_FIELDS) -> list[list[int | bytes]]:
    rows: list[list[int | bytes]] = []
    for _ in range(n):
        row: list[int | bytes] = [craft.ip4(f"10.0.{rnd.randrange(4)}.{rnd.randrange(1, 30)}"),
                                  craft.ip4(f"10.9.0.{rnd.randrange(1, 9)}"), rnd.randrange(40, 1500),
                                  rnd.randrange(1, 9), rnd.choice([6, 17]), rnd.randrange(1024, 65535),
                                  rnd.choice([443, 53, 22])]
        if fields is V4_FIELDS:
            row += [rnd.randrange(1, 5), rnd.randrange(1, 5)]
        rows.append(row)
    return rows


def _v6(rnd: random.Random, n: int) -> list[list[int | bytes]]:
    return [[craft.ip6(f"2001:db8::{rnd.randrange(1, 40):x}"),
             craft.ip6(f"2001:db8:9::{rnd.randrange(1, 5):x}"), rnd.randrange(60, 1500),
             rnd.randrange(1, 9), 6, rnd.randrange(1024, 65535), 443,
             rnd.randrange(1, 5), rnd.randrange(1, 5)] for _ in range(n)]


def netflow_stream(version: int, n: int = 150) -> list[tuple[bytes, str]]:
    """(datagram, exporter) for v9 (9) or IPFIX (10), with every irregularity listed above."""
    rnd = random.Random(version)
    ipfix = version == 10
    tset = craft.ipfix_template_set if ipfix else craft.v9_template_set
    oset = craft.ipfix_options_template_set if ipfix else craft.v9_options_template_set
    seq = {A: 0, B: 0}
    out: list[tuple[bytes, str]] = []
    for i in range(n):
        exporter = A if i % 3 else B
        sets: list[bytes] = []
        v4_fields = V4_OTHER if (exporter == A and i >= 110) else V4_FIELDS
        if i % 5 == 0 or i in (1, 2):
            sets += [tset(300, v4_fields), tset(301, V6_FIELDS)]
        if i % 7 == 3:
            rate = 50 if i >= 80 else 100  # a rate change in the middle of the stream
            sets += [oset(400, OPT_SCOPE, OPT_FIELDS),
                     craft.data_set(400, [*OPT_SCOPE, *OPT_FIELDS], [[0, rate, 2]])]
        if i == 30:
            sets.append(craft.data_set(999, V4_FIELDS, _v4(rnd, 2)))  # its template never comes
        records = 0
        for _ in range(rnd.randrange(1, 5)):
            k = rnd.randrange(1, 6)
            if rnd.random() < 0.8:
                sets.append(craft.data_set(300, v4_fields, _v4(rnd, k, v4_fields)))
            else:
                sets.append(craft.data_set(301, V6_FIELDS, _v6(rnd, k)))
            records += k
        if ipfix:
            seq[exporter] += records  # counted up to and including this message, as softflowd does
            data = craft.ipfix(sets, seq=seq[exporter])
        else:
            data = craft.v9(sets, seq=seq[exporter])
            seq[exporter] += 1
        if i in (50, 51) and exporter == B:
            continue  # lost
        if i == 70:
            data = data[:-3]  # cut short: its last set's length (IPFIX: its header's) lies
        out.append((data, exporter))
    out[90], out[91] = out[91], out[90]  # reordered
    return out


def v5_stream(n: int = 150) -> list[tuple[bytes, str]]:
    rnd = random.Random(5)
    seq = {A: 0, B: 0}
    out: list[tuple[bytes, str]] = []
    for i in range(n):
        exporter = A if i % 4 else B
        k = rnd.randrange(1, 30)
        recs = [{"src": f"10.0.0.{rnd.randrange(1, 60)}", "dst": "10.9.0.1", "packets": rnd.randrange(1, 9),
                 "bytes": rnd.randrange(40, 1500), "proto": 6, "sport": rnd.randrange(1024, 65535),
                 "dport": 443} for _ in range(k)]
        sampling = (1 << 14) | 10 if i >= 100 else 0
        data = craft.v5(recs, seq=seq[exporter], sampling=sampling, engine=(0, 1 if i % 2 else 0))
        seq[exporter] += k
        if i == 40:
            continue  # lost
        if i == 60:
            data = data[:2] + struct.pack("!H", 31) + data[4:]  # a count above 30
        out.append((data, exporter))
    out[20], out[21] = out[21], out[20]
    return out


def _decode_all(stream: list[tuple[bytes, str]], batch: int,
                vectorized: bool) -> tuple[list[str], dict, int, NetflowDecoder]:
    dec = NetflowDecoder()
    dec.vectorized = vectorized
    batches: list[FlowBatch] = []
    for i in range(0, len(stream), batch):
        batches += dec.decode([(d, e, 100.0) for d, e in stream[i:i + batch]])
    rows = sorted(repr(sorted(r.items())) for b in batches for r in b.rows())
    return rows, dec.stats.snapshot(), len(dec.early), dec


@pytest.mark.parametrize("version", [5, 9, 10])
@pytest.mark.parametrize("batch", [8, 40, 1000])
def test_bulk_decoding_equals_per_datagram(version: int, batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    stream = v5_stream() if version == 5 else netflow_stream(version)
    slow_rows, slow_stats, slow_early, _ = _decode_all(stream, batch, vectorized=False)
    one_by_one = 0
    original = NetflowDecoder._decode_one

    def counting(self: NetflowDecoder, data: bytes, exporter: str, t: float) -> list[FlowBatch]:
        nonlocal one_by_one
        one_by_one += 1
        return original(self, data, exporter, t)

    monkeypatch.setattr(NetflowDecoder, "_decode_one", counting)
    fast_rows, fast_stats, fast_early, dec = _decode_all(stream, batch, vectorized=True)
    assert fast_rows == slow_rows
    assert fast_stats == slow_stats
    assert fast_early == slow_early
    assert dec.unexpected_errors == 0
    # the streams exercised what they were built for ...
    totals = {k: sum(v[k] for v in slow_stats.values())
              for k in ("records", "decode_errors", "sequence_lost")}
    assert totals["decode_errors"] >= 1 and totals["sequence_lost"] >= 1 and totals["records"] > 500
    # ... and most datagrams took the bulk path (in one 150-datagram batch, this stream's dozen
    # state changes use up the walk budget: the rest goes one by one, by design)
    if speedups.ext is None:  # without C the decoder is its reference path only
        assert one_by_one == len(stream)
    elif batch < len(stream):
        assert one_by_one < len(stream) / 2, f"{one_by_one} of {len(stream)} datagrams went one by one"
