"""The C accelerator (_flowfast) against the numpy path it replaces: identical rollups and counters
on random and on hostile input, and clear errors (never a crash) on arguments that do not fit."""

from __future__ import annotations

import random
import socket
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from nocsoc.collectors.flows import batchwalk, speedups
from nocsoc.collectors.flows.decoder import NetflowDecoder
from nocsoc.collectors.flows.records import MAX_SCALED, SCALED, UNKNOWN, UNSAMPLED, V6, FlowBatch, make_batch
from nocsoc.collectors.flows.rollup import Rollups
from nocsoc.collectors.flows.templates import EarlyData, TemplateCache
from nocsoc.schema import Point
from tests.collectors.flows.test_fuzz import mutate, seeds
from tests.servers.base import in_ci

BUILT = speedups.ext


@pytest.fixture(autouse=True)
def flow_path() -> Iterator[str]:
    """Overrides the conftest's: these tests switch between the two paths themselves."""
    if BUILT is None:
        reason = "nocsoc.collectors.flows._flowfast is not built"
        if in_ci():
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    try:
        yield "both"
    finally:
        speedups.ext = BUILT


def rows(points: list[Point]) -> list[tuple]:
    return [(p.measurement, p.time_ns, sorted(p.tags.items(), key=str), sorted(p.fields.items()))
            for p in points]


def random_batches(rng: np.random.Generator, n_batches: int) -> list[FlowBatch]:
    out = []
    for i in range(n_batches):
        n = int(rng.integers(1, 3000))
        fam = 6 if i % 3 == 2 else 4
        if fam == 4:
            src = rng.integers(0, 3000, n).astype(np.uint32) | np.uint32(0x0A000000)
            dst = rng.integers(0, 50, n).astype(np.uint32) | np.uint32(0x0A000000)
            dst[::7] = src[::7]  # a host talking to itself: one conversation key either way
        else:
            raw = rng.integers(0, 256, (n, 16), dtype=np.uint8)
            raw[:, :14] = 0x20
            src = np.ascontiguousarray(raw).view(V6).ravel()
            raw2 = raw.copy()
            raw2[:, 15] = rng.integers(0, 4, n)
            dst = np.ascontiguousarray(raw2).view(V6).ravel()
        # byte counts large enough that float64 sums could round: exactness is checked too
        big = i % 4 == 1
        cols = {
            "src": src, "dst": dst,
            "bytes": rng.integers(1, (1 << 45) if big else 1500, n).astype(np.uint64),
            "packets": rng.integers(1, 50, n).astype(np.uint64),
            "sport": rng.integers(0, 65536, n).astype(np.uint32),
            "dport": rng.choice(np.array([0, 22, 53, 80, 443], dtype=np.uint32), n),
            "proto": rng.choice(np.array([1, 6, 17, 47, 132], dtype=np.uint32), n),
            "in_if": rng.integers(0, 5, n).astype(np.uint32),
            "out_if": rng.integers(0, 70000, n).astype(np.uint32),
        }
        rate = rng.choice(np.array([1, 1, 100], dtype=np.int64), n)
        unscaled = rng.choice(np.array([UNKNOWN, UNSAMPLED], dtype=np.int8), n)
        state = np.where(rate > 1, SCALED, unscaled).astype(np.int8)
        exporter = f"127.0.0.{1 + i % 2}"
        out.append(make_batch(exporter, "9", fam, 10.0 + i * 7.0, cols, rate, state))
    return out


def rollup_points(batches: list[FlowBatch], ext: object) -> list[Point]:
    speedups.ext = ext  # type: ignore[assignment]
    r = Rollups(interval_s=60, top_n=7)
    for b in batches:
        r.add(b)
    points = r.due(100.0)  # closes the first interval, the rest at the end
    return points + r.flush_all()


def test_hash_rollup_equals_numpy_rollup_on_random_batches() -> None:
    batches = random_batches(np.random.default_rng(11), 24)
    fast, slow = rollup_points(batches, BUILT), rollup_points(batches, None)
    assert rows(fast) == rows(slow)
    # and exact: the `total` points add up to the Python sum of every record
    total = sum(int(b.bytes.sum(dtype=object)) for b in batches)
    assert sum(int(p.fields["bytes"]) for p in fast if p.measurement == "flow_total") == total
    assert len({p.tags.get("key") for p in fast if p.tags.get("kind") == "conversation"}) > 7


def decode_all(batches: list[list[tuple[bytes, str, float]]], ext: object) -> tuple[list, dict, int]:
    speedups.ext = ext  # type: ignore[assignment]
    decoder = NetflowDecoder(TemplateCache(), early=EarlyData(max_sets=256))
    rollups = Rollups(interval_s=60, top_n=10)
    for batch in batches:
        for b in decoder.decode(batch):
            rollups.add(b)
    return rows(rollups.flush_all()), decoder.stats.snapshot(), decoder.unexpected_errors


def test_c_and_numpy_paths_count_and_roll_up_mutated_datagrams_identically() -> None:
    """The fuzz test's mutations (lying lengths, truncation, splices, garbage) through both
    paths: the same records kept, the same datagrams counted as errors, the same rollups."""
    pool = seeds()[:-1]  # NetFlow v5/v9 and IPFIX (the last, sFlow, has no C part)
    rng = random.Random(5)
    batches = []
    for _ in range(20):
        batch = []
        for i in range(500):
            batch.append((mutate(rng, rng.choice(pool), pool), f"127.0.0.{1 + i % 3}", 1000.0))
            if i % 10 == 0:
                batch.append((rng.choice(pool), f"127.0.0.{1 + i % 3}", 1000.0))
        batches.append(batch)
    fast = decode_all(batches, BUILT)
    slow = decode_all(batches, None)
    assert fast[2] == slow[2] == 0
    assert fast[1] == slow[1]
    assert fast[0] == slow[0]
    assert sum(v.get("records", 0) for v in fast[1].values()) > 1000


def test_sum_table_sums_exactly_and_refuses_what_does_not_fit() -> None:
    assert BUILT is not None
    t = BUILT.SumTable(8)
    keys = np.array([5, 7, 5, 1 << 63], dtype=np.uint64)
    big = np.full(4, (1 << 50) + 1, dtype=np.int64)
    for _ in range(1000):  # sums past 2**53: float64 would round them
        t.add(keys, big, np.ones(4, dtype=np.int64))
    dtypes = (np.uint64, np.int64, np.int64, np.int64)
    k, b, p, f = (np.frombuffer(x, dtype=d) for x, d in zip(t.result(), dtypes, strict=True))
    got = {int(kk): (int(bb), int(pp), int(ff)) for kk, bb, pp, ff in zip(k, b, p, f, strict=True)}
    assert got == {5: (2000 * ((1 << 50) + 1), 2000, 2000), 7: (1000 * ((1 << 50) + 1), 1000, 1000),
                   1 << 63: (1000 * ((1 << 50) + 1), 1000, 1000)}
    assert len(t) == 3 and t.key_size == 8
    ones = np.ones(4, dtype=np.int64)
    with pytest.raises(ValueError, match="keys has 16 bytes, expected 32"):
        t.add(np.zeros(4, dtype=np.uint32), ones, ones)
    with pytest.raises(ValueError, match="bytes has 4 values, packets 3"):
        t.add(keys, ones, ones[:3])
    with pytest.raises(TypeError, match="int64"):
        t.add(keys, ones.astype(np.float64), ones)
    with pytest.raises(TypeError, match="C-contiguous"):
        t.add(np.zeros(8, dtype=np.uint64)[::2], ones, ones)
    with pytest.raises(ValueError, match="8-byte"):
        BUILT.SumTable(4).add_pairs(keys, keys, ones, ones)
    with pytest.raises(ValueError, match="key_size must be"):
        BUILT.SumTable(3)
    # many keys: the index grows (rehashes) and nothing is lost on the way
    t16 = BUILT.SumTable(16)
    many = np.arange(200_000, dtype=np.uint64).repeat(2).view(V6)
    t16.add(many, np.ones(200_000, dtype=np.int64), np.ones(200_000, dtype=np.int64))
    t16.add(many, np.ones(200_000, dtype=np.int64), np.ones(200_000, dtype=np.int64))
    assert len(t16) == 200_000
    assert np.frombuffer(t16.result()[3], dtype=np.int64).tolist() == [2] * 200_000


def test_sum_table_made_for_expected_keys_does_not_grow_until_they_are_exceeded() -> None:
    assert BUILT is not None
    assert BUILT.SumTable(4).capacity == 64
    t = BUILT.SumTable(4, 1000)
    assert t.capacity == 2048  # at most half full with 1000 keys
    keys = np.arange(1000, dtype=np.uint32)
    ones = np.ones(1000, dtype=np.int64)
    t.add(keys, ones, ones)
    assert t.capacity == 2048 and len(t) == 1000
    t.add(np.arange(1000, 1024, dtype=np.uint32), ones[:24], ones[:24])
    assert t.capacity == 2048  # half full
    t.add(np.array([1024], dtype=np.uint32), ones[:1], ones[:1])
    assert t.capacity == 4096  # past half
    plain = BUILT.SumTable(4)
    plain.add(np.arange(1025, dtype=np.uint32), np.ones(1025, dtype=np.int64), np.ones(1025, dtype=np.int64))
    assert sorted(zip(*(np.frombuffer(x, dtype=np.int64 if i else np.uint32).tolist()
                        for i, x in enumerate(t.result())), strict=True)) == \
        sorted(zip(*(np.frombuffer(x, dtype=np.int64 if i else np.uint32).tolist()
                     for i, x in enumerate(plain.result())), strict=True))
    for bad in (-1, (1 << 32) + 1):
        with pytest.raises(ValueError, match="expect"):
            BUILT.SumTable(4, bad)


def test_rollup_tables_start_as_big_as_the_exporters_previous_interval() -> None:
    assert BUILT is not None
    rng = np.random.default_rng(4)

    def batch(exporter: str, t: float, n: int) -> FlowBatch:
        cols = {"src": (np.arange(n, dtype=np.uint32) | np.uint32(0x0A000000)),
                "dst": np.full(n, 0x0B000001, dtype=np.uint32),
                "bytes": rng.integers(1, 1500, n).astype(np.uint64), "packets": np.ones(n, dtype=np.uint64),
                "sport": np.full(n, 1234, dtype=np.uint32), "dport": np.full(n, 443, dtype=np.uint32),
                "proto": np.full(n, 6, dtype=np.uint32), "in_if": np.ones(n, dtype=np.uint32),
                "out_if": np.full(n, 2, dtype=np.uint32)}
        return make_batch(exporter, "9", 4, t, cols, np.ones(n, dtype=np.int64),
                          np.full(n, UNSAMPLED, dtype=np.int8))

    r = Rollups(interval_s=60, top_n=5)
    r.add(batch("127.0.0.1", 10.0, 5000))
    r.add(batch("127.0.0.2", 10.0, 300))
    r.due(60.0)  # interval 0 closed: 5000 and 300 sources
    r.add(batch("127.0.0.1", 70.0, 10))
    r.add(batch("127.0.0.3", 70.0, 10))  # new: no size known
    fast: dict[str, Any] = {e: er.fast for e, er in r._open[1].items()}
    assert fast["127.0.0.1"][("src", 4)].capacity == 16384  # 5000 keys at most half full
    assert fast["127.0.0.1"][("conversation", 4)].capacity == 16384
    assert fast["127.0.0.3"][("src", 4)].capacity == 64
    r.due(120.0)  # interval 1 closed: 127.0.0.2 sent nothing, its size is forgotten
    r.add(batch("127.0.0.2", 130.0, 10))
    r.add(batch("127.0.0.1", 130.0, 10))
    fast = {e: er.fast for e, er in r._open[2].items()}
    assert fast["127.0.0.2"][("src", 4)].capacity == 64
    assert fast["127.0.0.1"][("src", 4)].capacity == 64  # 10 keys in interval 1


def test_datagrams_are_tuples_to_python_and_payloads_in_place_to_c() -> None:
    """Datagrams (a receiver burst, or a view) behave as the list of tuples they hold, and every
    C function gives the same answer for either; a view keeps its payloads alive."""
    import gc

    from tests.collectors.flows import craft

    assert BUILT is not None
    ext = BUILT
    records = [{"src": f"10.0.0.{i}", "dst": "10.9.9.9", "in_if": 1, "out_if": 2, "packets": 2,
                "bytes": 100 * i, "sport": 1000 + i, "dport": 443, "proto": 6} for i in range(1, 4)]
    v5 = craft.v5(records, seq=7)
    items = [(v5, "127.0.0.1", 5.0), (b"\x00\x09" + bytes(18), "127.0.0.2", 6.0), (b"\x00", "127.0.0.1", 7.0),
             (v5, "127.0.0.2", 8.0), (b"\x00\x0a" + bytes(14), "127.0.0.3", 9.0)]
    dg = ext.Datagrams(items)
    assert len(dg) == 5 and list(dg) == items and dg[-1] == items[-1] and dg[1] == items[1]
    assert list(dg[1::2]) == items[1::2] and list(dg[::-1]) == items[::-1] and len(dg[9:]) == 0
    with pytest.raises(IndexError):
        dg[5]
    joined = ext.Datagrams.join([dg[:2], items[2:4], ext.Datagrams(), dg[4:]])
    assert list(joined) == items
    assert joined.exporters() == {"127.0.0.1", "127.0.0.2", "127.0.0.3"}
    assert dg[:1].exporters() == {"127.0.0.1"}
    # the C functions: the same results on the tuples and on the views
    for fn in (ext.time_range, ext.v5_walk):
        assert fn(joined[0::3]) == fn(items[0::3])
    assert ext.join_group(joined) == ext.join_group(items)
    parts = ext.by_version(joined)
    assert all(isinstance(p, ext.Datagrams) for p in parts)
    assert [list(p) for p in parts] == [list(p) for p in ext.by_version(items)]
    index = np.array([0, 1], dtype=np.int64)

    def rolled(datagrams: object) -> list[bytes]:
        tables = [ext.SumTable(k) for k in (1, 4, 4, 8, 4, 4, 8)]
        assert ext.v5_rollup(datagrams, index, 3, SCALED, tables) == 6
        return [b"".join(t.result()) for t in tables]

    assert rolled(parts[0]) == rolled([items[0], items[3]])
    # a view outlives what it views: its payloads stay where they were
    view = parts[0][1:]
    del dg, joined, parts
    gc.collect()
    assert list(view) == [items[3]]
    with pytest.raises(TypeError, match="datagram 1 is not a"):
        ext.Datagrams([items[0], ("x", "y", 1.0)])
    with pytest.raises(TypeError, match="float time"):
        ext.Datagrams.join([[(b"x", "e", "soon")]])


def test_columns_refuse_records_outside_the_buffer() -> None:
    assert BUILT is not None
    buf = np.arange(100, dtype=np.uint8)
    (got,) = BUILT.columns(buf, 10, [(0, 10, 1)], np.array([0, 90], dtype=np.int64))  # raw records
    assert bytes(got) == bytes(range(10)) + bytes(range(90, 100))
    for bad in ([91], [-1], [1 << 62]):
        with pytest.raises(ValueError, match="overruns the 100-byte buffer"):
            BUILT.columns(buf, 10, [(0, 4, 0)], np.array(bad, dtype=np.int64))
    with pytest.raises(TypeError, match="int64"):
        BUILT.columns(buf, 10, [(0, 4, 0)], np.array([0], dtype=np.int32))
    with pytest.raises(ValueError, match="does not fit a 10-byte record"):
        BUILT.columns(buf, 10, [(8, 4, 0)])
    with pytest.raises(ValueError, match="does not fit"):
        BUILT.columns(buf, 10, [(0, 3, 0)])  # 3 bytes is kind 2's job
    with pytest.raises(ValueError, match="positive"):
        BUILT.columns(buf, 0, [(0, 4, 0)], np.array([0], dtype=np.int64))
    # values: big-endian in, native out, each kind (9 whole records; the tail is ignored)
    cols = BUILT.columns(bytes(buf), 11, [(0, 1, 0), (1, 2, 0), (3, 4, 0), (0, 8, 0), (7, 3, 2), (8, 2, 1),
                                          (1, 2, 3), (0, 1, 3)])
    rec = [bytes(buf[i * 11:(i + 1) * 11]) for i in range(9)]
    assert np.frombuffer(cols[0], np.uint8).tolist() == [r[0] for r in rec]
    assert np.frombuffer(cols[1], np.uint16).tolist() == [int.from_bytes(r[1:3], "big") for r in rec]
    assert np.frombuffer(cols[2], np.uint32).tolist() == [int.from_bytes(r[3:7], "big") for r in rec]
    assert np.frombuffer(cols[3], np.uint64).tolist() == [int.from_bytes(r[0:8], "big") for r in rec]
    assert np.frombuffer(cols[4], np.uint64).tolist() == [int.from_bytes(r[7:10], "big") for r in rec]
    assert bytes(cols[5]) == b"".join(r[8:10] for r in rec)
    assert np.frombuffer(cols[6], np.uint32).tolist() == [int.from_bytes(r[1:3], "big") for r in rec]
    assert np.frombuffer(cols[7], np.uint32).tolist() == [r[0] for r in rec]


def test_join_group_and_by_version_split_as_specified() -> None:
    assert BUILT is not None
    group = [(b"\x00\x05abc", "127.0.0.1", 1.0), (b"\x00\x09", "127.0.0.2", 1.0),
             (b"\x00", "127.0.0.1", 1.0), (b"\x00\x0a" + bytes(30), "127.0.0.3", 2.0),
             (b"", "127.0.0.2", 2.0), (b"\x00\x00x", "127.0.0.1", 2.0)]
    fast = batchwalk.join_group(group)
    assert fast.raw == b"".join(d for d, _e, _t in group)
    assert fast.exporters == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert fast.lens.tolist() == [5, 2, 1, 32, 0, 3] and fast.starts.tolist() == [0, 5, 7, 8, 40, 40]
    assert fast.exporter_index is not None
    assert fast.exporter_index.tolist() == [0, 1, 0, 2, 1, 0]
    v5, v9, v10, other = BUILT.by_version(group)
    assert (v5, v9, v10, other) == ([group[0]], [group[1]], [group[3]], [group[2], group[4], group[5]])
    with pytest.raises(TypeError, match="datagram 1 is not"):
        BUILT.by_version([group[0], ("x", "y")])
    with pytest.raises(TypeError, match="datagram 0 is not"):
        BUILT.join_group([(b"x", 5, 1.0)])


def test_receiver_batches_datagrams_with_their_exporter_and_skips_empty_ones() -> None:
    assert BUILT is not None
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            rx_sock = socket.socket(family, socket.SOCK_DGRAM)
            rx_sock.bind((host, 0))
        except OSError as exc:  # no IPv6 loopback in this container
            if family == socket.AF_INET6:
                continue
            raise AssertionError(exc) from exc
        with rx_sock, socket.socket(family, socket.SOCK_DGRAM) as tx:
            rx = BUILT.Receiver(rx_sock.fileno(), 8)
            assert rx.recv(False) == ([], 0, -1)  # nothing waiting, no SO_RXQ_OVFL asked
            port = rx_sock.getsockname()[1]
            # sizes around the receiver's 2 kB slot head, and the largest UDP payload
            big = [random.Random(n).randbytes(n) for n in (2047, 2048, 2049, 9000, 65507)]
            for payload in (b"one", b"", b"three", *big):
                tx.sendto(payload, (host, port))
            got, received, _ = rx.recv(True, 0.05)
            assert received == 8
            expected = [(b"one", host), (b"three", host), *((b, host) for b in big)]
            assert [(d, e) for d, e, _t in got] == expected
            with pytest.raises(ValueError, match="linger"):
                rx.recv(True, 5.0)
    with pytest.raises(ValueError, match="slots"):
        BUILT.Receiver(0, 0)


def test_receiver_reports_the_sockets_drop_count_with_meminfo() -> None:
    """meminfo=True: the kernel's cumulative drop count comes with every call (also one that read
    nothing), and delivered + dropped accounts for every datagram sent."""
    assert BUILT is not None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx_sock, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        rx_sock.bind(("127.0.0.1", 0))
        rx_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        rx = BUILT.Receiver(rx_sock.fileno(), 16, True)
        assert rx.recv(False) == ([], 0, 0)
        for i in range(200):
            tx.sendto(i.to_bytes(4, "big") + bytes(1000), rx_sock.getsockname())
        delivered, drops = [], -1
        while True:
            got, received, drops = rx.recv(False)
            delivered += got
            if not received:
                break
        assert drops > 0
        assert len(delivered) + drops == 200
        sent_order = [int.from_bytes(d[:4], "big") for d, _e, _t in delivered]
        assert sent_order == sorted(sent_order)  # what was kept, in order


def _reference_walk(group: list[tuple[bytes, str, float]], version: int) -> int | tuple[list[int], ...]:
    """The set walk as the per-datagram decoder reads datagrams (decoder._sets), for comparison:
    (seq, domain, dgram, sid, body, body_len) or the index of the first datagram the bulk path
    must leave to it (short header, IPFIX length other than the datagram's, a set that does not fit
    or lies, IPFIX bytes after the last set)."""
    hdr = 20 if version == 9 else 16
    out: tuple[list[int], ...] = ([], [], [], [], [], [])
    start = 0
    for d, (data, _e, _t) in enumerate(group):
        if len(data) < hdr:
            return d
        end = len(data)
        if version == 10 and int.from_bytes(data[2:4], "big") != end:
            return d
        out[0].append(int.from_bytes(data[12:16] if version == 9 else data[8:12], "big"))
        out[1].append(int.from_bytes(data[16:20] if version == 9 else data[12:16], "big"))
        pos = hdr
        while end - pos >= 4:
            sid, slen = struct.unpack_from("!HH", data, pos)
            if slen < 4 or pos + slen > end:
                return d
            for col, v in zip(out[2:], (d, sid, start + pos + 4, slen - 4), strict=True):
                col.append(v)
            pos += slen
        if version == 10 and pos != end:
            return d
        start += len(data)
    return out


def test_set_walk_in_c_equals_the_reference_walk_on_mutated_datagrams() -> None:
    """Same sets or the same first bad datagram, for v9 and IPFIX batches with hostile members."""
    assert BUILT is not None
    pool = seeds()[1:6]
    rng = random.Random(9)
    compared = {"walked": 0, "refused": 0}
    for _ in range(300):
        version = rng.choice([9, 10])
        group = []
        for _i in range(rng.randint(1, 12)):
            seed = rng.choice([p for p in pool if p[1] == version])
            data = mutate(rng, seed, pool) if rng.random() < 0.3 else seed
            group.append((data, "127.0.0.1", 1.0))
        fast = batchwalk.walk_sets(batchwalk.join_group(group), version)
        slow = _reference_walk(group, version)
        if isinstance(slow, int):
            assert fast == slow
            compared["refused"] += 1
        else:
            assert not isinstance(fast, int)
            for name, ref in zip(("seq", "domain", "dgram", "sid", "body", "body_len"), slow, strict=True):
                assert getattr(fast, name).tolist() == ref, name
            compared["walked"] += 1
    assert compared["walked"] > 50 and compared["refused"] > 20
    speedups.ext = BUILT
    with pytest.raises(ValueError, match="outside the buffer"):
        BUILT.walk_sets(np.zeros(10, np.uint8), np.array([5], np.int64), np.array([10], np.int64), 9)
    with pytest.raises(ValueError, match="version must be 9 or 10"):
        BUILT.walk_sets(np.zeros(10, np.uint8), np.array([0], np.int64), np.array([10], np.int64), 5)


def v5_stream(rng: random.Random) -> list[list[tuple[bytes, str, float]]]:
    """Batches of v5 datagrams from three exporters with two engines, header sampling (none, 1 in
    10, and 0 with the inventory's 1 in 2**20 for 127.0.0.3, which makes the largest counts
    implausible once scaled), broken datagrams among them and sequence gaps."""
    from tests.collectors.flows import craft

    batches = []
    seq: dict[tuple[str, int], int] = {}
    for b in range(8):
        batch = []
        for i in range(300):
            exporter = f"127.0.0.{1 + i % 3}"
            engine = (0, rng.choice((0, 0, 0, 7)))
            n = rng.randint(1, 30)
            recs = [{"src": f"10.{rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                     "dst": f"10.200.0.{rng.randrange(1, 40)}",
                     "in_if": rng.randrange(4), "out_if": rng.choice((1, 2, 65535)),
                     "packets": rng.randrange(1, 1 << rng.choice((4, 32))),
                     "bytes": rng.choice((rng.randrange(40, 1500), (1 << 32) - 1)),
                     "sport": rng.randrange(65536), "dport": rng.choice((0, 53, 443)),
                     "proto": rng.choice((1, 6, 17, 47))} for _ in range(n)]
            s = seq.get((exporter, engine[1]), 0) + (rng.randrange(40) if rng.random() < 0.02 else 0)
            seq[(exporter, engine[1])] = s + n
            sampling = 0 if exporter == "127.0.0.3" else rng.choice((0, 0x4000 | 10))
            data = craft.v5(recs, seq=s, sampling=sampling, engine=engine)
            if rng.random() < 0.01:
                data = data[:rng.randrange(len(data))]  # truncated: counted, dropped
            batch.append((data, exporter, 1000.0 + b * 20.0 + i * 0.01))
        batches.append(batch)
    return batches


def test_v5_records_straight_from_their_datagrams_equal_the_column_path() -> None:
    """decode_for_rollup's V5Records (v5_walk + v5_rollup in C) and decode's FlowBatches (both C
    and numpy) give the same points and counters, implausible and malformed records included."""
    from nocsoc.collectors.flows.netflow5 import V5Records
    from nocsoc.collectors.flows.sampling import SamplingTable

    batches = v5_stream(random.Random(9))

    def run(ext: object, direct: bool) -> tuple[list, dict, int]:
        speedups.ext = ext  # type: ignore[assignment]
        decoder = NetflowDecoder(sampling=SamplingTable(lambda e: (1 << 20) if e == "127.0.0.3" else None))
        rollups = Rollups(interval_s=60, top_n=10)
        kinds = set()
        for batch in batches:
            for b in (decoder.decode_for_rollup(batch) if direct else decoder.decode(batch)):
                kinds.add(type(b))
                rollups.add(b)
        assert (V5Records in kinds) == (direct and ext is not None)
        points = rollups.due(1070.0) + rollups.flush_all()
        return rows(points), decoder.stats.snapshot(), decoder.unexpected_errors

    direct, columns, numpy = run(BUILT, True), run(BUILT, False), run(None, True)
    assert direct == columns == numpy
    stats = direct[1]
    assert all(stats[(e, "5")]["decode_errors"] > 0 for e in ("127.0.0.1", "127.0.0.2", "127.0.0.3"))
    assert stats[("127.0.0.1", "5")]["sequence_lost"] > 0
    assert stats[("127.0.0.1", "5")]["records"] > 10_000
    # exact against a ground truth computed here: every whole datagram's records, scaled, minus
    # those whose scaled count would exceed MAX_SCALED (dropped)
    want_bytes = want_flows = implausible = 0
    for batch in batches:
        for data, exporter, _t in batch:
            count = int.from_bytes(data[2:4], "big") if len(data) >= 24 else 0
            if len(data) < 24 + count * 48 or not 1 <= count <= 30:
                continue
            rate = int.from_bytes(data[22:24], "big") & 0x3FFF or (1 << 20 if exporter == "127.0.0.3" else 1)
            for r in range(count):
                rec = data[24 + 48 * r:72 + 48 * r]
                pk, by = int.from_bytes(rec[16:20], "big"), int.from_bytes(rec[20:24], "big")
                if max(pk, by) * rate > MAX_SCALED:
                    implausible += 1
                    continue
                want_bytes += by * rate
                want_flows += 1
    totals = [dict(p[3]) for p in direct[0] if p[0] == "flow_total"]
    assert implausible > 100
    assert sum(t["bytes"] for t in totals) == want_bytes
    assert sum(t["flows"] for t in totals) == want_flows


def test_v5_walk_and_rollup_refuse_what_does_not_fit() -> None:
    from tests.collectors.flows import craft

    ext = BUILT
    assert ext is not None
    good = craft.v5([{"src": "10.0.0.1", "dst": "10.0.0.2", "packets": 2, "bytes": 100}] * 3, seq=5)
    dgs = [(good, "127.0.0.1", 1.0), (good[:-1], "127.0.0.1", 1.0), (b"\x00\x05", "127.0.0.2", 1.0)]
    assert ext.v5_walk(dgs) == 1  # the first malformed datagram
    assert ext.v5_walk([(good[:2] + b"\x00\x00" + good[4:], "x", 1.0)]) == 0  # count 0
    assert ext.v5_walk([(good[:2] + b"\x00\x1f" + good[4:], "x", 1.0)]) == 0  # count 31
    with pytest.raises(TypeError):
        ext.v5_walk([(good, 1, 1.0)])
    walk = ext.v5_walk(dgs[:1] * 2)
    assert not isinstance(walk, int)
    assert walk[0] == ["127.0.0.1"]
    assert [np.frombuffer(c, dtype=np.int64).tolist() for c in walk[1:]] == \
        [[0, 0], [3, 3], [5, 5], [0, 0], [0, 0]]
    tables = [ext.SumTable(k) for k in (1, 4, 4, 8, 4, 4, 8)]
    idx = np.array([0, 0], dtype=np.int64)
    assert ext.v5_rollup(dgs, idx, 10, SCALED, tables) == 6
    keys, b, p, f = tables[4].result()
    assert (np.frombuffer(keys, np.uint32).tolist(), np.frombuffer(b, np.int64).tolist(),
            np.frombuffer(p, np.int64).tolist(), np.frombuffer(f, np.int64).tolist()) == \
        ([0x0A000001], [6000], [120], [6])
    with pytest.raises(ValueError, match="not a whole NetFlow v5"):
        ext.v5_rollup(dgs, np.array([1], dtype=np.int64), 1, SCALED, tables)
    with pytest.raises(ValueError, match="outside"):
        ext.v5_rollup(dgs, np.array([3], dtype=np.int64), 1, SCALED, tables)
    with pytest.raises(ValueError, match="twice"):
        ext.v5_rollup(dgs, idx, 1, SCALED, [tables[0], tables[1], tables[1], *tables[3:]])
    with pytest.raises(TypeError, match="table 6"):
        ext.v5_rollup(dgs, idx, 1, SCALED, [*tables[:6], ext.SumTable(4)])
    with pytest.raises(ValueError, match="rate"):
        ext.v5_rollup(dgs, idx, 0, SCALED, tables)
    with pytest.raises(TypeError, match="int64"):
        ext.v5_rollup(dgs, np.array([0], dtype=np.int32), 1, SCALED, tables)
    assert len(tables[4]) == 1  # nothing added by the refused calls


def test_time_range_equals_min_and_max_and_refuses_what_is_not_a_datagram() -> None:
    ext = BUILT
    assert ext is not None
    rng = random.Random(3)
    dgs = [(b"x", "127.0.0.1", rng.uniform(0, 1e9)) for _ in range(1000)]
    times = [d[2] for d in dgs]
    assert ext.time_range(dgs) == (min(times), max(times))
    assert ext.time_range([(b"", "e", 5)]) == (5.0, 5.0)
    with pytest.raises(ValueError, match="no datagrams"):
        ext.time_range([])
    with pytest.raises(TypeError, match="datagram 1"):
        ext.time_range([(b"", "e", 1.0), (b"", "e")])
    with pytest.raises(TypeError):
        ext.time_range([(b"", "e", "soon")])
