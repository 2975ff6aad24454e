"""The publisher's batch cut and the one-source envelope against their plain definitions: the
fast paths (runs checked with C-level sums and min/max, columns joined once) must give exactly
what the record-by-record greedy cut and `envelope.encode` give, on random input that hits every
limit (count, bytes, interval, a record bigger than a batch) and on the usual batches."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from nocsoc.bus import envelope, publish
from nocsoc.bus.config import BusConfig
from nocsoc.bus.partition import partition_of
from nocsoc.bus.publish import BusPublisher, group_key
from nocsoc.bus.transport import make_transport
from nocsoc.collectors.flows import speedups

Rec = tuple[bytes, str, float]


def test_submit_keeps_chunks_and_order(tmp_path: Path) -> None:
    """Bursts handed over as Datagrams and lists of tuples come out in order, as one sequence;
    beyond queue_records the rest is dropped and counted."""
    cfg = BusConfig(url="nats://127.0.0.1:1", queue_records=100)
    pub = BusPublisher(cfg, make_transport(cfg, "t"), tmp_path, "m", {"flows": 60.0})
    a = [(b"a%d" % i, "10.0.0.1", float(i)) for i in range(3)]
    b = [(b"b%d" % i, "10.0.0.2", 3.0 + i) for i in range(3)]
    burst = speedups.ext.Datagrams(b) if speedups.ext is not None else b
    assert pub.submit("flows", a[:1]) and pub.submit("flows", a[1:]) and pub.submit("flows", burst)
    assert pub.submit("flows", [(b"f", "10.0.0.4", 8.0)] * 93)
    assert not pub.submit("flows", [(b"c", "10.0.0.3", 9.0), (b"d", "10.0.0.3", 9.5)])
    assert pub.counters["flows"].get("dropped") == 1
    taken, _acked = pub._take()
    assert list(publish._joined(taken["flows"])) == a + b + [(b"f", "10.0.0.4", 8.0)] * 93 + [
        (b"c", "10.0.0.3", 9.0)]


def reference_cut(cfg: BusConfig, records: list[Rec], interval: float | None,
                  partitions: int) -> list[tuple[int, str, list[Rec]]]:
    """The definition: per source in first-seen order, a batch ends where the next record would
    pass batch_records or batch_bytes (record_size each) or is in another interval."""
    by_source: dict[str, list[Rec]] = {}
    for r in records:
        by_source.setdefault(r[1], []).append(r)
    out = []
    for source, recs in by_source.items():
        p = partition_of(group_key(source), partitions)
        cur: list[Rec] = []
        size, idx = 0, None
        for r in recs:
            ridx = int(r[2] // interval) if interval else None
            rsize = envelope.record_size(r[0], r[1])
            if cur and (len(cur) >= cfg.batch_records or size + rsize > cfg.batch_bytes or ridx != idx):
                out.append((p, source, cur))
                cur, size = [], 0
            cur.append(r)
            size += rsize
            idx = ridx
        if cur:
            out.append((p, source, cur))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_cut_equals_the_greedy_definition(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    cfg = BusConfig(url="nats://127.0.0.1:1", flow_partitions=4, batch_records=rng.choice([1, 3, 16, 256]),
                    batch_bytes=rng.choice([4096, 8192, 512 * 1024]))
    interval = rng.choice([None, 1.0, 10.0, 60.0])
    pub = BusPublisher(cfg, make_transport(cfg, "t"), tmp_path, "m", {"flows": interval})
    t = 1000.0
    records = []
    for _ in range(rng.randrange(0, 3000)):
        t += rng.choice([0.0, 1e-4, 0.01, 0.3, -0.5])  # clocks step back too
        size = rng.choice([0, 40, 1300, 1400, rng.randrange(0, 9000)])
        records.append((rng.randbytes(size), f"10.0.0.{rng.randrange(1, 6)}", t))
    got = pub.batches("flows", records)
    want = reference_cut(cfg, records, interval, 4)
    assert got == want
    if speedups.ext is not None:  # a flow receiver's Datagrams: cut from views, the same batches
        viewed = pub.batches("flows", speedups.ext.Datagrams(records))
        assert [(p, s, list(r)) for p, s, r in viewed] == want


def test_encode_source_is_encode_of_one_source() -> None:
    rng = random.Random(7)
    recs = [(rng.randbytes(rng.randrange(0, 2000)), "2001:db8::1", 1.7e9 + i / 3) for i in range(300)]
    data = envelope.encode_source("2001:db8::1", [r[0] for r in recs], [r[2] for r in recs])
    assert data == envelope.encode(recs)
    got = envelope.decode(data)
    assert got == recs and got.last_time == max(r[2] for r in recs)
    assert envelope.encode_source("h", [], []) == envelope.encode([])
    assert envelope.decode(envelope.encode([])).last_time == 0.0
    mixed = [(b"a", "h1", 5.0), (b"b", "h2", 9.0), (b"c", "h1", 2.0)]
    assert envelope.decode(envelope.encode(mixed)).last_time == 9.0
    with pytest.raises(ValueError, match="2 payloads and 1 times"):
        envelope.encode_source("h", [b"a", b"b"], [1.0])


needs_ext = pytest.mark.skipif(speedups.ext is None or envelope._SWAP,
                               reason="the flow C extension is not built (or a big-endian host)")


@needs_ext
@pytest.mark.parametrize("seed", range(12))
def test_c_frame_and_view_equal_the_python_envelope(seed: int) -> None:
    """envelope_frame writes the bytes encode_source writes (from tuples and from a Datagrams),
    and decode_view reads back the records, latest time and errors decode gives."""
    assert speedups.ext is not None
    rng = random.Random(seed)
    source = rng.choice(["10.0.0.1", "2001:db8::1", "tcp/192.0.2.7"])
    recs = [(rng.randbytes(rng.choice([0, 1, 40, 1400, rng.randrange(0, 9000)])), source,
             1.7e9 + rng.uniform(-5, 5)) for _ in range(rng.randrange(1, 600))]
    want = envelope.encode_source(source, [r[0] for r in recs], [r[2] for r in recs])
    assert envelope.frame_source(source, recs) == want
    assert envelope.frame_source(source, speedups.ext.Datagrams(recs)) == want
    got = envelope.decode_view(want)
    assert isinstance(got, envelope.Viewed)
    assert list(got.datagrams) == envelope.decode(want) == recs
    assert got.last_time == envelope.decode(want).last_time == max(r[2] for r in recs)
    for bad in (want[:-1], want + b"z", want[:12 + len(source)], want[:-(len(recs[-1][0]) + 1)]):
        with pytest.raises(envelope.EnvelopeError) as py:
            envelope.decode(bad)
        with pytest.raises(envelope.EnvelopeError) as c:
            envelope.decode_view(bad)
        # the same cause in other words where the C check meets it first (a payload past the end)
        assert ("do not fit" in str(py.value)) == ("do not fit" in str(c.value))


@needs_ext
@pytest.mark.parametrize("seed", range(4))
def test_a_bytearray_message_is_viewed_in_place_as_its_bytes_are(seed: int) -> None:
    """What the NATS reader hands on for a large message (a bytearray of its own): read back as
    the bytes would be, in place, held against resizing while viewed; the same errors."""
    assert speedups.ext is not None
    rng = random.Random(seed)
    recs = [(rng.randbytes(rng.randrange(0, 3000)), "10.0.0.9", 1.7e9 + i)
            for i in range(rng.randrange(1, 300))]
    want = envelope.encode_source("10.0.0.9", [r[0] for r in recs], [r[2] for r in recs])
    data = bytearray(want)
    got = envelope.decode_view(data)
    assert isinstance(got, envelope.Viewed)
    assert list(got.datagrams) == envelope.decode(data) == envelope.decode(want) == recs
    assert all(type(p) is bytes for p, _s, _t in envelope.decode(data))
    with pytest.raises(BufferError):
        data.extend(b"x")  # the view points into it
    del got
    data.extend(b"x")  # let go with the view
    for bad in (data, bytearray(want[:-1])):
        with pytest.raises(envelope.EnvelopeError) as py:
            envelope.decode(bad)
        with pytest.raises(envelope.EnvelopeError) as c:
            envelope.decode_view(bad)
        assert ("do not fit" in str(py.value)) == ("do not fit" in str(c.value))
    with pytest.raises(TypeError):
        speedups.ext.envelope_view(memoryview(want), 0, 0, "h")  # type: ignore[arg-type]


@needs_ext
def test_decode_view_falls_back_where_it_cannot_view() -> None:
    mixed = [(b"a", "h1", 5.0), (b"b", "h2", 9.0)]
    got = envelope.decode_view(envelope.encode(mixed))
    assert isinstance(got, envelope.Records) and got == mixed and got.last_time == 9.0
    assert envelope.decode_view(envelope.encode([])) == []
    assert envelope.frame_source("h", []) == envelope.encode([])
    with pytest.raises(envelope.EnvelopeError, match="not a nocsoc bus batch"):
        envelope.decode_view(b"XX\x01" + bytes(12))
    with pytest.raises(envelope.EnvelopeError, match="shorter than the header"):
        envelope.decode_view(b"NB")


def test_frame_source_takes_bytes_like_payloads() -> None:
    recs = [(bytearray(b"ab"), "h", 1.0), (memoryview(b"cde"), "h", 2.0)]
    want = envelope.encode_source("h", [b"ab", b"cde"], [1.0, 2.0])
    assert envelope.frame_source("h", recs) == want  # type: ignore[arg-type]
