"""The C chunk decoder (_evtxfast.c) writes each record's JSON text byte for byte as the Rust
evtx package's records_json() does: on every record of SigmaHQ's regression files, of the
re-packed file (bench/evtx_repack.py, ~41 records a chunk) and of the benign day
(bench/evtx_synth.py, 20,000 records); on thousands of mutated chunks (value types and bytes
changed, sizes and offsets broken) it never crashes and either gives evtx's texts or declines
(None); and read_evtx gives the same events, reports and detections with it and without it."""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nocsoc.collectors.windows import evtxchunks
from nocsoc.collectors.windows.evtx import read_evtx
from nocsoc.collectors.windows.evtxchunks import HEADER, crcs_ok, evtx_texts, record_texts
from nocsoc.collectors.windows.report import InputReport
from tests.collectors.windows.conftest import evtx_file
from tests.conftest import SHARED

fast = pytest.importorskip("nocsoc.collectors.windows._evtxfast",
                           reason="C accelerator not built (tests/test_speedups.py says so)")
evtx = pytest.importorskip("evtx")

CHUNK = 65536


def _regression_files() -> list[Path]:
    root = SHARED / "sigmahq" / "regression_data"
    if not root.is_dir():
        pytest.skip(f"{root} not present")
    return sorted(root.rglob("*.evtx"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """The three record sets: SigmaHQ's files, the re-packed file, the benign day."""
    from bench.bench_windows import BIG_COPIES, DAY_RECORDS
    from bench.evtx_repack import repack
    from bench.evtx_synth import build

    files = _regression_files()
    tmp = tmp_path_factory.mktemp("evtx")
    repack(files, tmp / "repacked.evtx", BIG_COPIES)
    build(files, tmp / "day.evtx", DAY_RECORDS)
    return {"regression": files, "repacked": [tmp / "repacked.evtx"], "day": [tmp / "day.evtx"]}


def _chunks(path: Path) -> Iterator[tuple[bytes, bytes]]:
    data = path.read_bytes()
    for o in range(HEADER, len(data) - CHUNK + 1, CHUNK):
        yield data[:HEADER], data[o:o + CHUNK]


def _by_evtx(head: bytes, chunk: bytes) -> list[str | str]:
    """evtx's answer for one chunk (as a one-chunk file): texts, and `ERR` for each error."""
    return [t if isinstance(t, str) else "ERR" for t in evtxchunks.by_evtx(evtx.PyEvtxParser, head, chunk, 0)]


@pytest.mark.parametrize(("name", "records"), [("regression", 238), ("repacked", 2380), ("day", 20_000)])
def test_every_record_is_evtx_text_byte_for_byte(corpus: dict[str, list[Path]], name: str,
                                                 records: int) -> None:
    same = declined = 0
    for path in corpus[name]:
        for head, chunk in _chunks(path):
            ref = _by_evtx(head, chunk)
            assert crcs_ok(chunk)
            got = fast.decode_chunk(chunk)
            if got is None:
                declined += len(ref)
                continue
            assert got == ref, f"{path.name}: the C text differs from evtx's"
            same += len(got)
    print(f"{name}: {same}/{records} records identical, {declined} declined")
    assert (same, declined) == (records, 0)


def _values(chunk: bytes) -> list[tuple[int, int, int]]:
    """(descriptor offset, value offset, size) of every substitution value of the chunk's
    records' outer template instances: fragment header, token 0x0C, its definition inline
    (when its offset points right after the token) or elsewhere, then the array."""
    out: list[tuple[int, int, int]] = []
    free = struct.unpack_from("<I", chunk, 48)[0]
    p = 512
    while p + 28 <= free and chunk[p:p + 4] == b"\x2a\x2a\x00\x00":
        size = struct.unpack_from("<I", chunk, p + 4)[0]
        q = p + 28
        if size < 28 or chunk[q] != 0x0C:
            break
        q += 10
        if struct.unpack_from("<I", chunk, q - 4)[0] == q:
            q += 24 + struct.unpack_from("<I", chunk, q + 20)[0]
        count = struct.unpack_from("<I", chunk, q)[0]
        v = q + 4 + 4 * count
        for i in range(min(count, 400)):
            n = struct.unpack_from("<H", chunk, q + 4 + 4 * i)[0]
            out.append((q + 4 + 4 * i, v, n))
            v += n
        p += size
    return out


# value types by size: a value re-typed to a type of its own size is read by both decoders
_BY_SIZE = {1: [0x03, 0x04], 2: [0x05, 0x06], 4: [0x07, 0x08, 0x0D, 0x14, 0x0B, 0x10],
            8: [0x09, 0x0A, 0x11, 0x15, 0x0C, 0x10], 16: [0x0F, 0x12]}
_ANY = [0x00, 0x01, 0x02, 0x0E, 0x13, 0x21, 0x81, 0x88, 0x20, 0x23, 0x7F]


def _mutate(chunk: bytes, rnd: random.Random) -> bytes:
    b = bytearray(chunk)
    vals = _values(chunk)
    for _ in range(rnd.choice([1, 1, 2, 4])):
        r = rnd.random()
        if vals and r < 0.35:  # a value re-typed (renderers of every type, against evtx's)
            desc, at, size = rnd.choice(vals)
            b[desc + 2] = rnd.choice(_BY_SIZE.get(size, []) + _ANY)
        elif vals and r < 0.6:  # a value's bytes changed (control characters, surrogates, ...)
            desc, at, size = rnd.choice(vals)
            for _k in range(rnd.randint(1, 4)):
                if size:
                    b[at + rnd.randrange(size)] = rnd.choice([0, 1, 0x0A, 0x22, 0x5C, 0x7F, 0xD8, 0xDC, 0xFF,
                                                              rnd.randrange(256)])
        elif r < 0.7:  # the free-space offset or a record's size
            free = struct.unpack_from("<I", b, 48)[0]
            struct.pack_into("<I", b, 48, max(0, free + rnd.randint(-600, 600)))
        elif r < 0.75:
            struct.pack_into("<Q", b, 32, rnd.randrange(1, 300))  # the last record id
        else:  # any byte of the used part
            free = min(struct.unpack_from("<I", b, 48)[0], CHUNK)
            if free > 512:
                b[rnd.randrange(512, free)] = rnd.randrange(256)
    return bytes(b)


def _fix_crcs(chunk: bytes) -> bytes:
    b = bytearray(chunk)
    free = struct.unpack_from("<I", b, 48)[0]
    if 512 <= free <= CHUNK:
        struct.pack_into("<I", b, 52, zlib.crc32(bytes(b[512:free])))
    struct.pack_into("<I", b, 124, zlib.crc32(bytes(b[:120]) + bytes(b[128:512])))
    return bytes(b)


def test_mutated_chunks_give_evtx_texts_or_decline(corpus: dict[str, list[Path]]) -> None:
    rnd = random.Random(15)
    sources = [c for p in corpus["regression"][::3] for c in _chunks(p)] + \
        [c for c in _chunks(corpus["repacked"][0])][:10]
    tried = equal = declined = 0
    for _ in range(3000):
        head, chunk = rnd.choice(sources)
        bad = _mutate(chunk, rnd)
        got = fast.decode_chunk(bad)  # never a crash (and under ASan, never a bad read)
        tried += 1
        if got is None:
            declined += 1
            continue
        ref = _by_evtx(head, _fix_crcs(bad))
        assert got == ref
        equal += 1
    print(f"mutations: {tried} chunks, {equal} read the same as evtx, {declined} declined")
    assert equal > 500 and declined > 500  # both sides of the boundary are exercised


def test_files_of_mutated_chunks_read_as_evtx_reads_them(corpus: dict[str, list[Path]],
                                                         tmp_path: Path) -> None:
    """Whole files (some cut short), CRCs fixed so the C decoder takes what it can:
    record_texts gives what evtx's own iterator gives, errors included, chunk after chunk."""
    rnd = random.Random(1515)
    files = corpus["regression"]
    for n in range(40):
        chunks = [_fix_crcs(_mutate(c, rnd)) if rnd.random() < 0.5 else c
                  for p in rnd.sample(files, 6) for _h, c in _chunks(p)]
        chunks.insert(rnd.randrange(len(chunks)), bytes(CHUNK))  # a never-written chunk
        path = tmp_path / f"m{n}.evtx"
        data = evtx_file(files[0], chunks)
        if n % 4 == 0:  # a cut copy: the last chunk partial (evtx stops before it)
            data = data[:rnd.randrange(len(data) - CHUNK, len(data))]
        path.write_bytes(data)
        ref = [t if isinstance(t, str) else "ERR"
               for t in evtx_texts(evtx.PyEvtxParser(str(path), number_of_threads=1).records_json())]
        got = [t if isinstance(t, str) else "ERR" for t in record_texts(path, evtx.PyEvtxParser)]
        assert got == ref


def _read(paths: list[Path]) -> tuple[list[Any], list[Any]]:
    events, reports = [], []
    for p in paths:
        rep = InputReport(str(p))
        events += [(e.raw, list(e.fields.items()), e.time, e.host, e.route_key, e.source)
                   for e in read_evtx(p, rep, threads=1)]
        reports.append(rep)
    return events, reports


def test_read_evtx_gives_the_same_events_and_detections(corpus: dict[str, list[Path]],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    paths = corpus["regression"] + corpus["repacked"]
    monkeypatch.setenv("NOCSOC_EVTX_DECODER", "rust")
    assert not evtxchunks.c_decoder_on()
    ref = _read(paths)
    monkeypatch.setenv("NOCSOC_EVTX_DECODER", "c")
    assert evtxchunks.c_decoder_on()
    got = _read(paths)
    assert len(got[0]) == 2618
    assert got == ref


def _detections(paths: list[Path], ruleset: Any) -> list[tuple[Any, ...]]:
    """Every detection with what the alert shows of it (group, count, host, source, target,
    user) and its samples' raw texts; the last sample's fields as a typed list (the C path's
    events carry a Fields: read here as the alert code reads it)."""
    from nocsoc.detections.engine import Engine

    engine = Engine(ruleset)
    out: list[tuple[Any, ...]] = []
    for p in paths:
        for ev in read_evtx(p, InputReport(str(p)), threads=1):
            out += [(d.rule_id, ev.raw, d.group_key, d.count, d.host, d.src_ip, d.dst_ip, d.user,
                     [e.raw for e in d.samples], [(k, type(v), v) for k, v in d.samples[-1].fields.items()])
                    for d in engine.process(ev)]
    return out


def test_the_same_detections_with_all_windows_rules(corpus: dict[str, list[Path]],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from nocsoc.detections.loader import load_rules

    root = SHARED / "sigmahq"
    ruleset = load_rules([root / "rules" / "windows", root / "rules-emerging-threats",
                          root / "rules-threat-hunting"])
    paths = corpus["regression"] + corpus["repacked"] + corpus["day"]
    monkeypatch.setenv("NOCSOC_EVTX_DECODER", "rust")
    ref = _detections(paths, ruleset)
    monkeypatch.setenv("NOCSOC_EVTX_DECODER", "c")
    got = _detections(paths, ruleset)
    print(f"detections: {len(got)} with the C decoder, {len(ref)} with evtx")
    assert len(ref) > 3000
    assert got == ref
