"""_evtxfast.decode_events builds each record's LogEvent in C exactly as windows_event builds
it from record_fields(text) (the path it replaces): every slot equal (raw text, fields with
their key order and value types, host, time, logsource, route key, parser, source, the
lowercase cache unset, `origin` unset) on every record of SigmaHQ's regression files, the
re-packed file and the benign day; on mutated chunks it declines where decode_chunk declines
and otherwise gives the same events; each record it leaves to Python is one a step of which
needs Python, and read_evtx finishes those through windows_event."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from nocsoc.collectors.windows import evtx as evtx_mod
from nocsoc.collectors.windows import evtxevents
from nocsoc.collectors.windows.event import windows_event
from nocsoc.collectors.windows.evtx import read_evtx
from nocsoc.collectors.windows.fields import record_fields
from nocsoc.collectors.windows.report import InputReport
from nocsoc.detections.windows import PRODUCT
from nocsoc.events import LogEvent
from tests.collectors.windows.lazyfields import assert_reads_equal
from tests.collectors.windows.test_evtxfast import _chunks, _mutate, corpus  # noqa: F401 (fixture)

fast = pytest.importorskip("nocsoc.collectors.windows._evtxfast",
                           reason="C accelerator not built (tests/test_speedups.py says so)")
winfast = pytest.importorskip("nocsoc.collectors.windows._winfast",
                              reason="C accelerator not built (tests/test_speedups.py says so)")
pytest.importorskip("evtx")

_SLOTS = ("raw", "fields", "host", "time", "product", "services", "categories", "parser", "source",
          "route_key", "_low")


def _state(ev: Any) -> tuple[Any, ...]:
    """Everything an event carries, with each field's and slot's type: an int is not a float,
    a key order is part of it."""
    assert type(ev) is LogEvent
    out: list[Any] = []
    for name in _SLOTS:
        v = getattr(ev, name)
        if name == "fields":
            v = [(k, type(x).__name__, x) for k, x in v.items()]
        out.append((name, type(v).__name__, v))
    out.append(("origin", hasattr(ev, "origin")))
    return tuple(out)


def _read(paths: list[Path], lazy: list[int] | None = None,
          want: list[dict[str, Any]] | None = None) -> tuple[list[Any], list[Any]]:
    """Every event's state and every file's report. `want`: the reference's fields, event by
    event: a Fields is first read through its own paths against it (before _state makes its
    dict); `lazy` counts them."""
    events, reports = [], []
    for p in paths:
        rep = InputReport(str(p))
        for e in read_evtx(p, rep, threads=1):
            if type(e.fields) is not dict:
                assert want is not None and lazy is not None
                assert_reads_equal(e.fields, want[len(events)], full=len(events) % 101 == 0)
                lazy[0] += 1
            events.append(_state(e))
        reports.append(rep.to_dict())
    return events, reports


def _fields_of(states: list[Any]) -> list[dict[str, Any]]:
    return [{k: v for k, _t, v in st[1][2]} for st in states]


@pytest.mark.parametrize(("name", "records"), [("regression", 238), ("repacked", 2380), ("day", 20_000)])
def test_every_event_equals_windows_events(corpus: dict[str, list[Path]],  # noqa: F811
                                           monkeypatch: pytest.MonkeyPatch, name: str,
                                           records: int) -> None:
    assert evtxevents.events_decoder("x") is not None
    with monkeypatch.context() as m:  # the path it replaces: C texts, record_fields, windows_event
        m.setattr(evtxevents, "_ON", False)
        ref = _read(corpus[name])
    want, lazy = _fields_of(ref[0]), [0]
    if name != "day":  # NOCSOC_EVTX_FIELDS=dict: the events' fields record_fields' dicts (the
        # day's records are the others' templates: left out for the suite's time)
        with monkeypatch.context() as m:
            m.setattr(evtxevents, "_CTX", (record_fields, *evtxevents._CTX[1:]))
            assert _read(corpus[name], lazy, want) == ref and lazy == [0]
    calls = 0

    def counted(*args: Any, **kw: Any) -> Any:
        nonlocal calls
        calls += 1
        return windows_event(*args, **kw)

    monkeypatch.setattr(evtx_mod, "windows_event", counted)
    got = _read(corpus[name], lazy, want)
    assert len(got[0]) == records
    assert got == ref
    # every route the file holds is learnt by now: read again, C finishes every event whose
    # route it may cache, Python only the rest (none of evtx's records is declined)
    calls = 0
    lazy = [0]
    again = _read(corpus[name], lazy, want)
    uncached = sum(1 for st in again[0] if not _cached({k: v for k, _t, v in st[1][2]}))
    assert again == ref
    assert calls == uncached
    # the C events' fields are Fields (read as the reference's dicts), but where a route adds
    # aliases (none in these files): those get the dict
    assert lazy[0] == records - uncached
    print(f"{name}: {records} events equal; {uncached} finished in Python once routes are known")
    assert uncached < records // 10


def _cached(fields: dict[str, Any]) -> bool:
    return fields["EventID"] in evtxevents.ROUTES.get(fields.get("Channel"), {})  # type: ignore[arg-type]


def test_mutated_chunks_decline_or_give_the_same_events(corpus: dict[str, list[Path]]) -> None:  # noqa: F811
    """decode_events declines exactly where decode_chunk does; else each item is the event
    windows_event makes of decode_chunk's text, or that text (never a crash)."""
    rnd = random.Random(1507)
    sources = [c for p in corpus["regression"][::3] for c in _chunks(p)] + \
        [c for c in _chunks(corpus["repacked"][0])][:10] + [c for c in _chunks(corpus["day"][0])][:10]
    for _head, chunk in sources:  # routes learnt as read_evtx learns them: the test alone
        for text in fast.decode_chunk(chunk) or ():  # in a process finds none cached
            fields = record_fields(text)
            if fields is not None:
                evtxevents.learn(fields)
    decode = evtxevents.events_decoder("evtx:m.evtx")
    assert decode is not None
    tried = declined = events = texts = lazy = 0
    for _ in range(2000):
        _head, chunk = rnd.choice(sources)
        bad = _mutate(chunk, rnd)
        got = decode(bad)
        ref = fast.decode_chunk(bad)
        tried += 1
        if ref is None:
            assert got is None
            declined += 1
            continue
        items, slow = got
        assert len(items) == len(ref) and slow == sum(type(x) is str for x in items)
        for item, text in zip(items, ref, strict=True):
            if type(item) is str:
                assert item == text
                texts += 1
                continue
            fields = record_fields(text)
            assert fields is not None
            want, _ = windows_event(fields, text, parser="evtx", source="evtx:m.evtx")
            if type(item.fields) is not dict:
                assert_reads_equal(item.fields, want.fields, full=events % 23 == 0)
                lazy += 1
            assert _state(item) == _state(want)
            events += 1
    print(f"mutations: {tried} chunks, {declined} declined, {events} events equal ({lazy} with "
          f"Fields), {texts} left to Python")
    assert declined > 300 and events > 3000 and lazy > 3000


def _one_chunk(corpus: dict[str, list[Path]]) -> bytes:  # noqa: F811
    """The benign day's first chunk, its routes learnt (as read_evtx learns them)."""
    chunk = next(c for _h, c in _chunks(corpus["day"][0]))
    for text in fast.decode_chunk(chunk):
        fields = record_fields(text)
        assert fields is not None
        evtxevents.learn(fields)
    return chunk


def _fake_ctx(fields_of: Any, routes: dict[str, Any], max_chars: int = 1 << 20) -> tuple[Any, ...]:
    return (fields_of, winfast.epoch, routes, PRODUCT, "evtx", max_chars)


_ROUTE = (("sysmon",), ("process_creation",), (("Image", "NewProcessName"),),
          (PRODUCT, ("sysmon",), ("process_creation",), 1))


def _items(chunk: bytes, fields_of: Any, routes: dict[str, Any] | None = None, **kw: Any) -> list[Any]:
    got = fast.decode_events(_fake_ctx(fields_of, {"C": {1: _ROUTE}} if routes is None else routes, **kw),
                             "evtx:f.evtx", chunk)
    assert got is not None
    items, slow = got
    assert slow == sum(type(x) is str for x in items)
    return list(items)


@pytest.mark.parametrize(("fields", "why"), [
    ({"EventID": 1, "Channel": "C", "Computer": 5}, "Computer not a str"),
    ({"EventID": 1, "Channel": "C", "SystemTime": "2024-01-01 00:00:00"}, "SystemTime not evtx's form"),
    ({"EventID": 1, "Channel": ""}, "empty Channel"),
    ({"EventID": 1, "Channel": 7}, "Channel not a str"),
    ({"EventID": "1", "Channel": "C"}, "EventID not an int"),
    ({"EventID": 2, "Channel": "C"}, "no route for the EventID"),
    ({"EventID": 1, "Channel": "D"}, "no route for the channel"),
    ({"Channel": "C"}, "no EventID"),
])
def test_what_needs_python_is_left_as_text(corpus: dict[str, list[Path]], fields: dict[str, Any],  # noqa: F811
                                           why: str) -> None:
    chunk = _one_chunk(corpus)
    items = _items(chunk, lambda text: dict(fields))
    assert items and all(type(x) is str for x in items), why
    assert items == fast.decode_chunk(chunk)


def test_record_fields_declining_or_too_long_leaves_text(corpus: dict[str, list[Path]]) -> None:  # noqa: F811
    chunk = _one_chunk(corpus)
    assert _items(chunk, lambda text: None) == fast.decode_chunk(chunk)
    ref = fast.decode_chunk(chunk)
    longest = max(map(len, ref))
    items = _items(chunk, record_fields, routes=evtxevents.ROUTES, max_chars=longest - 1)
    assert [type(x) is str for x in items] == [len(t) > longest - 1 for t in ref]


@pytest.mark.parametrize("fields", [
    {"EventID": 1, "Channel": "C"},  # no Computer: host ""; no SystemTime: time 0.0
    {"EventID": 1, "Channel": "C", "Computer": None, "SystemTime": 5},
    {"EventID": 1, "Channel": "C", "Computer": "", "SystemTime": ""},
    {"EventID": 1, "Channel": "C", "Computer": "h", "SystemTime": "2024-02-29T23:59:59.1234567Z",
     "NewProcessName": "a.exe"},  # the alias is added
    {"EventID": 1, "Channel": "C", "Image": "b.exe", "NewProcessName": "a.exe"},  # present: kept
    {"EventID": 1, "Channel": "C", "NewProcessName": None},  # None: no alias
])
def test_events_built_in_c_equal_windows_event(corpus: dict[str, list[Path]],  # noqa: F811
                                               monkeypatch: pytest.MonkeyPatch,
                                               fields: dict[str, Any]) -> None:
    import nocsoc.collectors.windows.event as event_mod
    from nocsoc.detections.windows import Logsource

    chunk = _one_chunk(corpus)
    items = _items(chunk, lambda text: dict(fields))
    ls = Logsource(_ROUTE[0], _ROUTE[1], _ROUTE[2])
    monkeypatch.setattr(event_mod, "classify", lambda channel, eid, f: ls)
    for item, text in zip(items, fast.decode_chunk(chunk), strict=True):
        want, _ = windows_event(dict(fields), text, parser="evtx", source="evtx:f.evtx")
        assert _state(item) == _state(want)


def test_an_error_in_record_fields_is_raised_not_swallowed(corpus: dict[str, list[Path]]) -> None:  # noqa: F811
    def boom(text: str) -> Any:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        _items(_one_chunk(corpus), boom)


def test_events_made_in_c_are_left_out_of_the_cyclic_gc(corpus: dict[str, list[Path]]) -> None:  # noqa: F811
    """What an event holds cannot lead back to it (see make_event): untracked, and no reference
    to it is kept but the caller's."""
    import gc
    import sys

    items = _items(_one_chunk(corpus), record_fields, routes=evtxevents.ROUTES)
    events = [x for x in items if type(x) is LogEvent]
    assert events and not any(gc.is_tracked(e) for e in events)
    # each held by the two lists alone: the same count as a list-held event windows_event made
    want, _ = windows_event(dict(events[0].fields), events[0].raw, parser="evtx", source="s")
    held = [want]
    assert {sys.getrefcount(e) for e in events} == {sys.getrefcount(held[0]) + 1}


def test_event_layout_refuses_other_classes() -> None:
    class Other:
        __slots__ = ("fields", "raw")

    class Dicty:
        pass

    for cls in (Other, Dicty):
        with pytest.raises(TypeError):
            fast.event_layout(cls)
    fast.event_layout(LogEvent)  # (what evtxevents did at import)
    assert evtxevents._layout_ok()


def test_a_slot_added_to_logevent_switches_the_c_events_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LogEvent, "__slots__", (*LogEvent.__slots__, "extra"))
    assert not evtxevents._layout_ok()



def test_chunk_crcs_read_as_zlib_reads_them(corpus: dict[str, list[Path]]) -> None:  # noqa: F811
    """crcs_ok (zlib-ng's CRC32 where installed) answers as zlib's CRC32 does, on every real
    chunk and on chunks with a byte, the free-space offset or a stated CRC changed."""
    import struct
    import zlib

    from nocsoc.collectors.windows import evtxchunks

    def ref(chunk: bytes) -> bool:
        free = struct.unpack_from("<I", chunk, 48)[0]
        if not 512 <= free <= 65536:
            return False
        return zlib.crc32(chunk[:120] + chunk[128:512]) == struct.unpack_from("<I", chunk, 124)[0] \
            and zlib.crc32(chunk[512:free]) == struct.unpack_from("<I", chunk, 52)[0]

    rnd = random.Random(77)
    chunks = [c for p in corpus["regression"] + corpus["repacked"] for _h, c in _chunks(p)]
    assert all(evtxchunks.crcs_ok(c) for c in chunks)
    for n in range(600):
        b = bytearray(rnd.choice(chunks))
        where = [rnd.randrange(512, 65536), 48 + rnd.randrange(4), 52 + rnd.randrange(4),
                 124 + rnd.randrange(4), rnd.randrange(120)][n % 5]
        b[where] ^= 1 << rnd.randrange(8)
        assert evtxchunks.crcs_ok(bytes(b)) == ref(bytes(b))
    for size in (0, 1, 15, 16, 17, 63, 64, 65, 1000, 65536):
        data = rnd.randbytes(size)
        assert evtxchunks._crc32(data) == zlib.crc32(data)
        assert evtxchunks._crc32(data, 12345) == zlib.crc32(data, 12345)


def test_a_chunk_decoded_while_another_is_decoding(corpus: dict[str, list[Path]]) -> None:  # noqa: F811
    """The decoder state kept between chunks is not shared with a decode started from inside
    one (record_fields may be any Python code): both give what they give alone."""
    chunks = [c for _h, c in _chunks(corpus["day"][0])][:3]
    inner_ref = fast.decode_chunk(chunks[1])
    inner: list[Any] = []

    def fields_of(text: str) -> Any:
        inner.append(fast.decode_chunk(chunks[1]))
        return record_fields(text)

    _one_chunk(corpus)  # routes learnt
    items = _items(chunks[0], fields_of, routes=evtxevents.ROUTES)
    assert [x.raw for x in items] == fast.decode_chunk(chunks[0])
    assert inner and all(x == inner_ref for x in inner)
    after = _items(chunks[2], record_fields, routes=evtxevents.ROUTES)
    assert [e.raw for e in after] == fast.decode_chunk(chunks[2])


def test_lazy_fields_and_a_route_with_aliases(corpus: dict[str, list[Path]]) -> None:  # noqa: F811
    """With record_fields_lazy, an event whose route adds aliases gets record_fields' dict with
    the aliases added (as windows_event adds them); the others a Fields reading as that dict."""
    from nocsoc.collectors.windows.fields import record_fields_lazy

    chunk = _one_chunk(corpus)
    aliased = {ch: {eid: (r[0], r[1], (("AliasOfImage", "Image"), ("EventID", "Image")), r[3])
                    for eid, r in by_eid.items()} for ch, by_eid in evtxevents.ROUTES.items()}
    plain = _items(chunk, record_fields_lazy, routes=evtxevents.ROUTES)
    got = _items(chunk, record_fields_lazy, routes=aliased)
    texts = fast.decode_chunk(chunk)
    assert len(got) == len(plain) == len(texts) > 50
    with_image = 0
    for ev, lazy_ev, text in zip(got, plain, texts, strict=True):
        want = record_fields(text)
        assert want is not None and type(lazy_ev.fields) is not dict
        assert_reads_equal(lazy_ev.fields, dict(want), full=False)
        if want.get("Image") is not None:  # added where absent and not None; EventID is present
            want["AliasOfImage"] = want["Image"]
            with_image += 1
        assert type(ev.fields) is dict
        assert [(k, type(v), v) for k, v in ev.fields.items()] == [(k, type(v), v) for k, v in want.items()]
        assert _state(ev)[2:] == _state(lazy_ev)[2:]  # host, time, logsource, ... the same
    assert with_image > 10


# names rewritten in a chunk (its name table and its templates' text, same length in UTF-16):
# Latin-1, beyond it (a 2-byte and a 4-byte str), a space (squeezed), a quote and a backslash
# (escaped in the text: the scan declines such a name, so must the walk)
_RENAMES = [("CommandLine", "CommandLinè"), ("ParentImage", "Parent Imag"), ("Company", "Compañí"),
            ("Description", "Descripció\u1ec7"), ("Product", "Prod\U0001f600t"[:7]), ("Hashes", 'Ha"hes'),
            ("TargetFilename", "Target\\ilename"), ("Computer", "Compu\u2713er")]
# string values written over the start of UTF-16 values
_TEXTS = ["café ®", "Nguyễn Văn An", "x\U0001f600y", 'a"b\\c', "tab\there\n", "\u00ff\u0100", "ascii only"]


def _rewrite(chunk: bytes, rnd: random.Random, names: bool) -> bytes:
    from tests.collectors.windows.test_evtxfast import _values

    b = bytearray(chunk)
    if names:
        for old, new in rnd.sample(_RENAMES, 3):
            o, n = old.encode("utf-16-le"), new.encode("utf-16-le")
            if len(o) == len(n):
                b = bytearray(bytes(b).replace(o, n))
    for desc, at, size in _values(chunk):
        if b[desc + 2] == 0x01 and rnd.random() < 0.3:
            t = rnd.choice(_TEXTS).encode("utf-16-le")[:size]
            b[at:at + len(t) - len(t) % 2] = t[:len(t) - len(t) % 2]
    return bytes(b)


def test_fields_from_the_tape_equal_the_scan_of_the_text(corpus: dict[str, list[Path]]) -> None:  # noqa: F811
    """decode_events' Fields made from what it wrote (walk, or a template's plan, its text
    replayed) read as record_fields' dict of the record's text, and its events (raw text
    included) equal the ones made by writing and scanning that text (ctx without the 7th item),
    on chunks whose names and values are rewritten to non-ASCII text (Latin-1, wider, astral),
    escapes and spaces; the walk declines only the names with an escape (the scan declines
    them too), and then the scan makes the fields."""
    assert evtxevents._CTX[6] is not None and evtxevents._CTX[6][0] is evtxevents._CTX[0]
    rnd = random.Random(1515)
    _one_chunk(corpus)
    chunks = [c for _h, c in _chunks(corpus["day"][0])][:40]
    walked, declined, planned, replayed = fast.walk_counts()
    scan_ctx = evtxevents._CTX[:6]
    lazy = kinds = escaped = records = 0
    for n in range(120):
        chunk = _rewrite(rnd.choice(chunks), rnd, names=n % 2 == 0)
        texts = fast.decode_chunk(chunk)
        got = fast.decode_events(evtxevents._CTX, "evtx:t.evtx", chunk)
        ref = fast.decode_events(scan_ctx, "evtx:t.evtx", chunk)
        assert texts is not None and got is not None and ref is not None
        assert got[1] == ref[1]
        # the records whose walk must decline: a name written with an escape
        escaped += sum(1 for t in texts if '"Ha\\"hes":' in t or '"Target\\\\ilename":' in t)
        records += len(texts)
        for item, other, text in zip(got[0], ref[0], texts, strict=True):
            if type(item) is str:
                assert item == other == text
                continue
            want = record_fields(text)
            assert want is not None
            if type(item.fields) is not dict:
                assert_reads_equal(item.fields, want, full=lazy % 17 == 0)
                lazy += 1
            assert _state(item) == _state(other)
            kinds |= 1 << {1: 0, 2: 1, 4: 2}[_kind(text)]
    w, dcl, pl, rp = fast.walk_counts()
    print(f"rewritten chunks: {lazy} events with Fields; walked {w - walked}, declined {dcl - declined}, "
          f"by a template's plan {pl - planned} (text replayed: {rp - replayed})")
    assert lazy > 3000 and kinds == 7  # 1-, 2- and 4-byte texts all met
    assert rp - replayed > 1000
    assert w - walked == records and escaped > 100
    assert dcl - declined == escaped


def _kind(text: str) -> int:
    m = max(map(ord, text))
    return 1 if m < 256 else 2 if m < 65536 else 4


def test_the_walk_declines_no_real_record(corpus: dict[str, list[Path]]) -> None:  # noqa: F811
    """Every record of the three corpora has its Fields made from the tape (the scan of the
    text runs for none); in the full chunks, most by their template's plan, their text replayed
    from it (the events equal the reference's: test_every_event_equals_windows_events)."""
    for name in ("regression", "repacked", "day"):
        assert fast.forget_plans() == (0, 0)  # (as when the tables fill up: made again)
        walked, declined, planned, replayed = fast.walk_counts()
        n = sum(1 for p in corpus[name] for _e in read_evtx(p, InputReport(str(p)), threads=1))
        w, d, pl, rp = fast.walk_counts()
        assert d == declined and w - walked == n, name
        print(f"{name}: {n} records walked, {pl - planned} by a plan, {rp - replayed} replayed")
        if name != "regression":  # (one record a chunk: but their templates repeat across files)
            assert rp - replayed > n * 0.9
