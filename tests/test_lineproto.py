"""nocsoc.lineproto against influxdb-client's Point: same bytes for the same inputs, or a refusal.

The refusal rules are the ones in nocsoc.lineproto's docstring, restated here independently.
`encode_many` runs through the C assembler (nocsoc/_lineproto.c) where it is built and through
the pure-Python path otherwise: the tests taking the `impl` fixture run both.
"""

from __future__ import annotations

import math
import random
import struct
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from influxdb_client import Point as ClientPoint
from influxdb_client.domain.write_precision import WritePrecision

from nocsoc import lineproto
from nocsoc.lineproto import LineProtocolError, encode, encode_many, encode_valid
from nocsoc.schema import FLOW_TOP, INTERFACE, FieldValue, Point
from tests.servers.base import in_ci

# names mix plain letters with every character line protocol treats specially
SPECIAL = ',= "\\#\n\r\t{}\'.0'
name_chars = st.one_of(st.sampled_from(SPECIAL), st.characters(codec="utf-8", exclude_categories=["Cs"]))
names = st.text(name_chars, min_size=0, max_size=6)
plain_names = st.text("abcdefghij_", min_size=1, max_size=5)
keys = st.one_of(plain_names, names)

floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, 10.0, 100.0, 0.5, 1e16, 1e-5, 1e308, -1e308, 123456789.0]),
    st.integers(-10**6, 10**6).map(float),
)
values = st.one_of(
    floats,
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.text(name_chars, max_size=8),
)
safe_values = st.one_of(floats, st.integers(-(2**63), 2**63 - 1), st.booleans(),
                        st.text(name_chars.filter(lambda c: c not in "\n\r\t"), max_size=8))
PRECISIONS = {"ns": WritePrecision.NS, "us": WritePrecision.US, "ms": WritePrecision.MS,
              "s": WritePrecision.S}


@st.composite
def points(draw: st.DrawFn) -> Point:
    return Point(
        measurement=draw(st.one_of(plain_names, names)),
        tags=draw(st.dictionaries(keys, st.one_of(plain_names, names), max_size=4)),
        fields=draw(st.dictionaries(keys, values, max_size=5)),
        time_ns=draw(st.integers(0, 2**62)),
    )


def refused(p: Point) -> bool:
    """The docstring's refusal rules, independently of the encoder's code."""
    names_ = [p.measurement, *p.tags, *p.fields]
    tag_values = [v for v in p.tags.values() if v != ""]
    strings = [v for v in p.fields.values() if isinstance(v, str)]
    if any(n == "" for n in names_) or p.measurement.startswith("#"):
        return True
    if any(n.endswith("\\") for n in names_ + tag_values):
        return True
    return any(c in s for s in names_ + tag_values + strings for c in "\n\r\t")


def client_line(p: Point, precision: str = "ns", uint_fields: frozenset[str] = frozenset()) -> str:
    cp = ClientPoint(p.measurement)
    for k, tv in p.tags.items():
        cp.tag(k, tv)
    for k, fv in p.fields.items():
        cp.field(k, fv)
    cp._field_types = {k: "u" for k in uint_fields}  # what Point.from_dict(field_types=uint) sets
    div = lineproto.PRECISION_DIVISORS[precision]
    cp.time(p.time_ns // div, PRECISIONS[precision])
    return str(cp.to_line_protocol())


@pytest.fixture(params=["c", "python"])
def impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """encode_many through the C assembler, and through the pure-Python path (its fallback where
    the extension is not built), with the caches emptied: a shape's plans are compiled for the
    path in use."""
    if request.param == "python":
        monkeypatch.setattr(lineproto, "_lineproto", None)
    elif lineproto._lineproto is None:
        reason = "nocsoc._lineproto is not built (pip install -e . with a C compiler)"
        if in_ci():
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    lineproto._clear_caches()
    yield str(request.param)
    lineproto._clear_caches()


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(points(), st.sampled_from(sorted(PRECISIONS)))
def test_encode_equals_influxdb_client_point(p: Point, precision: str) -> None:
    if refused(p):
        with pytest.raises(LineProtocolError):
            encode(p, precision)
    else:
        assert encode(p, precision) == client_line(p, precision)


@settings(max_examples=250, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(points(), min_size=1, max_size=8), st.lists(st.integers(0, 7), max_size=30),
       st.sampled_from(sorted(PRECISIONS)))
def test_encode_many_of_mixed_batches_equals_point(impl: str, pts: list[Point], picks: list[int],
                                                  precision: str) -> None:
    """Batches of many shapes (every special and non-ASCII character in names, non-finite floats,
    strings, ints at the int64 bounds, bools), points repeated so that series come from the cache."""
    batch = pts + [pts[i % len(pts)] for i in picks]
    if any(refused(p) for p in batch):
        with pytest.raises(LineProtocolError):
            encode_many(batch, precision)
    else:
        expected = [line for line in (client_line(p, precision) for p in batch) if line]
        assert encode_many(batch, precision) == expected
        assert encode_many(batch, precision) == expected  # now every series is cached


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.dictionaries(plain_names, safe_values, min_size=1, max_size=4), min_size=1, max_size=6),
       st.sampled_from(sorted(PRECISIONS)))
def test_one_shape_many_value_types(impl: str, field_sets: list[dict[str, object]], precision: str) -> None:
    """Same measurement and keys with changing value types: the compiled shape must not misformat."""
    keys_ = list(field_sets[0])
    pts = [Point("m", {"host": "a b", "site": f"s{i % 2}"},
                 {k: fs.get(k, 1.5) for k in keys_}, 1_700_000_000_000_000_000 + i)  # type: ignore[misc]
           for i, fs in enumerate(field_sets * 4)]  # from 2 sets on: batched
    expected = [line for line in (client_line(p, precision) for p in pts) if line]
    assert encode_many(pts, precision) == expected


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(plain_names, st.one_of(st.integers(0, 2**64 - 1), floats), min_size=1, max_size=4),
       st.data())
def test_unsigned_fields(fields: dict[str, object], data: st.DataObject) -> None:
    ints = sorted(k for k, v in fields.items() if type(v) is int)
    uint = frozenset(data.draw(st.lists(st.sampled_from(ints), unique=True)) if ints else [])
    p = Point("counters", {"device": "core-1"}, fields, 1_700_000_000_123_456_789)  # type: ignore[arg-type]
    assert encode(p, uint_fields=uint) == client_line(p, uint_fields=uint)


def test_schema_points_match_client_and_cache_series(impl: str) -> None:
    pts = [INTERFACE.point(1_700_000_000_000_000_000 + i,
                           {"device": "dx-core-1", "site": "dong-xoai", "role": "core",
                            "ifname": f"Gi0/{i % 3}", "ifalias": "to Bình Long, ring=1"},
                           {"in_bps": i / 7, "out_bps": float(i), "in_octets": 2**40 + i,
                            "oper_status": 1})
           for i in range(50)]
    pts += [FLOW_TOP.point(1_700_000_000_000_000_000, {"exporter": "127.0.0.5", "kind": "src",
                                                       "key": "10.0.0.1"},
                           {"bytes": 10, "bps": 0.0, "rank": 1})]
    assert encode_many(pts) == [client_line(p) for p in pts]
    assert encode_many(pts, "s") == [client_line(p, "s") for p in pts]


@pytest.mark.parametrize(("point", "message"), [
    (Point("#comment", {}, {"v": 1}, 0), "starts with '#'"),
    (Point("", {}, {"v": 1}, 0), "empty measurement"),
    (Point("m\\", {}, {"v": 1}, 0), "ends with a backslash"),
    (Point("m", {"t": "C:\\"}, {"v": 1}, 0), "ends with a backslash"),
    (Point("m", {"t\\": "x"}, {"v": 1}, 0), "ends with a backslash"),
    (Point("m", {}, {"v\\": 1}, 0), "ends with a backslash"),
    (Point("m", {"": "x"}, {"v": 1}, 0), "empty tag key"),
    (Point("m", {}, {"": 1}, 0), "empty field key"),
    (Point("m", {"t": "a\nb"}, {"v": 1}, 0), "newline"),
    (Point("m\tx", {}, {"v": 1}, 0), "newline"),
    (Point("m", {}, {"msg": "line1\nline2"}, 0), "newline"),
    (Point("m", {}, {"msg": "ok", "other": "tab\there"}, 0), "newline"),
    (Point("m", {}, {"v": None}, 0), "unsupported value type NoneType"),  # type: ignore[dict-item]
    (Point("m", {}, {"v": [1]}, 0), "unsupported value type list"),  # type: ignore[dict-item]
])
def test_refusals_name_the_problem(point: Point, message: str) -> None:
    with pytest.raises(LineProtocolError, match=message):
        encode(point)


def test_refusal_after_a_compiled_shape(impl: str) -> None:
    """A shape compiled from a good point still refuses a later bad value of that shape."""
    good = Point("logline", {"host": "a"}, {"msg": "fine", "n": 1}, 1)
    bad = Point("logline", {"host": "a"}, {"msg": "two\nlines", "n": 1}, 2)
    bad_tag = Point("logline", {"host": "b\\"}, {"msg": "x", "n": 1}, 3)
    assert encode_many([good]) == ['logline,host=a msg="fine",n=1i 1']
    with pytest.raises(LineProtocolError, match="newline"):
        encode_many([good, bad])
    with pytest.raises(LineProtocolError, match="backslash"):
        encode_many([bad_tag])



def test_encode_valid_leaves_out_only_the_bad_points(impl: str) -> None:
    good = [Point("logline", {"host": "a"}, {"msg": f"ok {i}", "n": i}, i) for i in range(10)]
    bad = Point("logline", {"host": "a"}, {"msg": "two\nlines", "n": 1}, 99)
    errors: list[LineProtocolError] = []
    assert encode_valid([*good[:5], bad, *good[5:]], errors.append) == encode_many(good)
    assert len(errors) == 1 and "newline" in str(errors[0])
    assert encode_valid(good, errors.append) == encode_many(good)
    assert len(errors) == 1

def test_non_finite_and_empty(impl: str) -> None:
    assert encode(Point("m", {}, {"a": math.nan, "b": math.inf}, 1)) == ""
    assert encode(Point("m", {}, {}, 1)) == ""
    assert encode(Point("m", {"e": ""}, {"a": math.nan, "b": 2.0}, 1)) == "m b=2 1"
    assert encode_many([Point("m", {}, {"a": math.nan}, 1), Point("m", {}, {"a": 0.5}, 2)]) == ["m a=0.5 2"]
    with pytest.raises(LineProtocolError, match="precision"):
        encode(Point("m", {}, {"a": 1.0}, 1), "h")


def test_bounded_caches_stay_correct_when_they_overflow(impl: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lineproto, "_MAX_PREFIXES", 3)
    monkeypatch.setattr(lineproto, "_MAX_SHAPES", 2)
    if impl == "c":
        monkeypatch.setattr(lineproto, "_c_series", lineproto._lineproto.SeriesCache(3))
    pts = [Point(f"m{i % 3}", {"host": f"h{i % 7}"}, {"v": i / 3, f"f{i % 4}": i}, i) for i in range(100)]
    assert encode_many(pts) == [client_line(p) for p in pts]
    assert encode_many(pts[::-1], "s") == [client_line(p, "s") for p in pts[::-1]]
    assert len(lineproto._series) <= 3 and len(lineproto._shapes) <= 2
    if impl == "c":
        assert lineproto._c_series is not None and 1 <= len(lineproto._c_series) <= 3


# -- the batched path of encode_many (points of one shape encoded column by column) -----------

batch_floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e17, max_value=1e17),
    st.floats(min_value=-1e-3, max_value=1e-3),
    st.sampled_from([0.0, -0.0, 1e16, 1e-5, 1e-4, 9.999999999999999e-05, 1e15, 1e17, 5e-324,
                     2.2250738585072014e-308, 1.7976931348623157e308, 123456789.0, 0.1, 1 / 3]),
    st.integers(-10**17, 10**17).map(float),
)
batch_values = {
    float: batch_floats,
    int: st.one_of(st.integers(-(2**63), 2**64 - 1),
                   st.sampled_from([0, -1, 2**63 - 1, 2**63, 2**64 - 1, 10**18, 10**19])),
    bool: st.booleans(),
}


@pytest.fixture(params=["orjson", "repr"])
def float_formatter(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The batched path with orjson's column formatting, and without orjson (repr per float)."""
    if request.param == "repr":
        monkeypatch.setattr(lineproto, "orjson", None)
    elif lineproto.orjson is None:
        pytest.skip("orjson is not installed")
    return str(request.param)


@st.composite
def one_shape_batches(draw: st.DrawFn) -> tuple[list[Point], frozenset[str]]:
    """Many points of one shape (float, int and bool fields, special characters in every name,
    several series), so that encode_many takes the batched path."""
    fkeys = draw(st.lists(keys, min_size=1, max_size=6, unique=True))
    types = [draw(st.sampled_from([float, float, int, bool])) for _ in fkeys]
    uint = frozenset(k for k, t in zip(fkeys, types, strict=True) if t is int and draw(st.booleans()))
    tkeys = draw(st.lists(keys, max_size=3, unique=True))
    measurement = draw(st.one_of(plain_names, names))
    n = draw(st.integers(lineproto._MIN_BATCH, 40))
    series = draw(st.lists(st.fixed_dictionaries({k: st.one_of(plain_names, names) for k in tkeys}),
                           min_size=1, max_size=4))
    pts = []
    for i in range(n):
        fields: dict[str, FieldValue] = {}
        for k, t in zip(fkeys, types, strict=True):
            v = draw(batch_values[t])
            fields[k] = v if k in uint or t is not int else v % 2**63 - draw(st.sampled_from([0, 2**63]))
        pts.append(Point(measurement, series[i % len(series)], fields, draw(st.integers(0, 2**62))))
    float_keys = [k for k, t in zip(fkeys, types, strict=True) if t is float]
    if draw(st.booleans()) and float_keys:  # a few non-finite floats: those points go per point
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.integers(0, n - 1))
            bad = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
            pts[i].fields[draw(st.sampled_from(float_keys))] = bad
    return pts, uint


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(one_shape_batches(), st.sampled_from(sorted(PRECISIONS)))
def test_batched_path_equals_influxdb_client_point(
        impl: str, float_formatter: str, batch: tuple[list[Point], frozenset[str]], precision: str) -> None:
    pts, uint = batch
    if any(refused(p) for p in pts):
        with pytest.raises(LineProtocolError):
            encode_many(pts, precision)
        return
    lineproto._UINT_FIELDS[pts[0].measurement] = uint  # as if the schema declared them UINT
    lineproto._clear_caches()  # compiled with an earlier example's unsigned fields
    try:
        expected = [client_line(p, precision, uint) for p in pts]
        assert encode_many(pts, precision) == [line for line in expected if line]
    finally:
        del lineproto._UINT_FIELDS[pts[0].measurement]


@pytest.fixture
def pure_python(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Only the pure-Python path (for tests of its own machinery)."""
    monkeypatch.setattr(lineproto, "_lineproto", None)
    lineproto._clear_caches()
    yield
    lineproto._clear_caches()


def test_batched_path_is_taken_and_keeps_order(pure_python: None, float_formatter: str) -> None:
    """A mixed batch: several shapes interleaved, each large enough to be batched, plus points the
    batched code hands back to the per-point path (a string field, a NaN, a changed value type).
    The pure-Python path's batching (the C assembler does not group by shape)."""
    calls = []
    real = lineproto._Batch.encode

    def spy(self: lineproto._Batch, points: list[Point], prefixes: list[str]) -> list[str] | None:
        lines = real(self, points, prefixes)
        calls.append((len(points), lines is not None))
        return lines

    pts: list[Point] = []
    for i in range(60):
        pts.append(INTERFACE.point(1_700_000_000_000_000_000 + i,
                                   {"device": f"d{i % 3}", "ifname": f"Gi0/{i}"},
                                   {"in_bps": i / 7, "in_octets": 2**40 + i, "oper_status": 1}))
        pts.append(Point("sensor", {"s": "t 1"}, {"value": i * 0.1, "ok": i % 2 == 0}, i))
        pts.append(Point("log", {"h": "a"}, {"msg": f"line {i}", "n": i}, i))
    mp = pytest.MonkeyPatch()
    mp.setattr(lineproto._Batch, "encode", spy)
    try:
        assert encode_many(pts) == [client_line(p) for p in pts]
        assert sorted(calls) == [(60, True), (60, True)]  # interface and sensor batched, log not
        calls.clear()
        nan = [Point("nan", {}, {"a": float(i), "b": 1.5}, i) for i in range(20)]
        nan[7] = Point("nan", {}, {"a": math.nan, "b": math.inf}, 7)  # no field left: no line
        nan[9] = Point("nan", {}, {"a": math.nan, "b": 2.0}, 9)
        lines = encode_many(nan)
        assert lines == [line for line in map(client_line, nan) if line]
        assert len(lines) == 19 and lines[8] == "nan b=2 9" and lines[9] == "nan a=10,b=1.5 10"
        assert calls == [(18, True), (20, True)]  # the 18 finite points still batched
        calls.clear()
        retyped = [Point("rt", {}, {"a": 1.5, "n": i}, i) for i in range(20)]
        retyped[5] = Point("rt", {}, {"a": 1.5, "n": True}, 5)  # bool where the shape has int
        retyped[6] = Point("rt", {}, {"a": 2, "n": 6}, 6)  # int where the shape has float
        assert encode_many(retyped) == [client_line(p) for p in retyped]
        assert calls == [(20, False)]  # handed back to the per-point path
    finally:
        mp.undo()


def test_float_column_rule_on_random_doubles(float_formatter: str) -> None:
    """`_float_column` gives repr's tokens (trimmed of '.0') for doubles from every exponent, bit
    patterns drawn at random, and the ranges telemetry lives in; orjson's other notation below
    1e-4 must be caught by its rule, or this fails."""
    rnd = random.Random(20261125)
    xs: list[float] = []
    while len(xs) < 150_000:
        x = struct.unpack("<d", rnd.getrandbits(64).to_bytes(8, "little"))[0]
        if math.isfinite(x):
            xs.append(x)
    xs += [rnd.random() * 10.0 ** rnd.randint(-8, 20) for _ in range(150_000)]
    xs += [round(rnd.uniform(-1e4, 1e4), rnd.randint(0, 6)) for _ in range(50_000)]
    xs += [float(rnd.randrange(-(2**62), 2**62)) for _ in range(50_000)]
    expected = [r[:-2] if r.endswith(".0") else r for r in map(repr, xs)]
    for start in range(0, len(xs), 1000):  # columns of 1,000: many hold only orjson's notation
        col = xs[start:start + 1000]
        out = lineproto._float_column(col)
        assert out is not None
        assert out.split(",") == expected[start:start + 1000]
    assert lineproto._float_column([1.0, math.nan]) is None
    assert lineproto._float_column([math.inf]) is None
    assert lineproto._float_column([1e-7, 0.5]) == "1e-07,0.5"
    assert lineproto._float_column([1e16, -0.0, 100.0]) == "1e+16,-0,100"


# -- the C assembler (nocsoc/_lineproto.c) against the pure-Python path and Point --------------

def both_paths(pts: list[Point], precision: str = "ns") -> list[str]:
    """encode_many's lines through the C assembler and the pure-Python path, asserted equal."""
    lineproto._clear_caches()
    c_lines = encode_many(pts, precision)
    saved, lineproto._lineproto = lineproto._lineproto, None  # type: ignore[assignment]
    try:
        lineproto._clear_caches()
        py_lines = encode_many(pts, precision)
    finally:
        lineproto._lineproto = saved
        lineproto._clear_caches()
    assert c_lines == py_lines
    return c_lines


@pytest.fixture
def c_ext() -> None:
    if lineproto._lineproto is None:
        reason = "nocsoc._lineproto is not built (pip install -e . with a C compiler)"
        if in_ci():
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)


def test_c_path_is_taken_and_writes_every_prefix_kind(c_ext: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tag values of every str kind (ASCII, Latin-1, UCS-2 as in "Đồng Xoài", UCS-4) in the
    prefixes of lines the C code assembles, without the pure-Python batching ever running."""
    def no_python_batching(*args: object) -> None:
        raise AssertionError("the pure-Python batch path ran")

    monkeypatch.setattr(lineproto, "_encode_group", no_python_batching)
    sites = ["dong-xoai", "Bình Phước", "Đồng Xoài", "trạm 🛰 1", "a,b=c d"]
    pts = [INTERFACE.point(1_700_000_000_000_000_000 + i,
                           {"device": f"core-{i % 2}", "site": sites[i % len(sites)], "ifname": "Gi0/1"},
                           {"in_bps": i / 3, "out_bps": 1e-7 * i, "in_octets": 2**63 - 1 - i,
                            "oper_status": 1})
           for i in range(40)]
    expected = [client_line(p) for p in pts]
    lineproto._clear_caches()
    assert encode_many(pts) == expected
    assert encode_many(pts) == expected  # cached series
    assert "site=Đồng\\ Xoài in_bps=" in expected[2] and "site=trạm\\ 🛰\\ 1 " in expected[3]


def test_c_path_non_finite_floats_and_wrong_types(c_ext: None) -> None:
    """A batch holding non-finite floats (the field left out; no field left: no line) and values
    of another type than the shape's: exactly Point's lines; a value no line can hold: the same
    LineProtocolError as the pure-Python path, naming the field."""
    def pt(i: int, **fields: object) -> Point:
        values: dict[str, object] = {"in_bps": i / 7, "out_bps": float(i), "in_octets": i, "oper_status": 1}
        values.update(fields)
        return Point("interface", {"device": "d1", "ifname": f"Gi0/{i % 3}"},
                     values, 1_700_000_000_000_000_000 + i)  # type: ignore[arg-type]

    pts = [pt(i) for i in range(30)]
    pts[3] = pt(3, in_bps=math.nan)
    pts[4] = Point("interface", {"device": "d1"}, {"in_bps": math.inf, "out_bps": -math.inf}, 4)
    pts[5] = pt(5, in_bps=7)  # int where the shape has float: Point writes 7i
    pts[6] = pt(6, oper_status=True)  # bool where the shape has int
    pts[7] = pt(7, in_octets=2**70, oper_status=-(2**70))  # ints beyond 64 bits (as Point: str())
    lines = both_paths(pts)
    assert lines == [line for line in map(client_line, pts) if line]
    assert len(lines) == 29 and lines[3].startswith("interface,device=d1,ifname=Gi0/0 in_octets=3i,")
    assert "in_bps=7i," in lines[4] and "oper_status=true" in lines[5]
    assert f"in_octets={2**70}i,oper_status=-{2**70}i," in lines[6]

    bad = [*pts[:10], pt(10, out_bps=None), *pts[10:]]
    messages = []
    for c in (True, False):
        saved = lineproto._lineproto
        if not c:
            lineproto._lineproto = None  # type: ignore[assignment]
        try:
            lineproto._clear_caches()
            with pytest.raises(LineProtocolError) as exc:
                encode_many(bad)
            messages.append(str(exc.value))
        finally:
            lineproto._lineproto = saved
            lineproto._clear_caches()
    assert messages[0] == messages[1] == "interface.out_bps: unsupported value type NoneType"


@pytest.mark.parametrize("precision", sorted(PRECISIONS))
def test_c_path_times_and_int_bounds(c_ext: None, precision: str) -> None:
    """Floor division of negative times, times beyond int64, ints and uints at their bounds."""
    times = [0, 1, -1, -1_500_000_001, 1_999_999_999, 2**63 - 1, -(2**63), 2**63, 2**80 + 7, -(2**80)]
    ints = [0, -1, 2**63 - 1, -(2**63), 2**63, 2**64 - 1, 2**64, -(2**64) - 1, 10**30]
    pts = [Point("counters", {"device": "core-1"},
                 {"n": ints[i % len(ints)], "x": i * 0.25, "ok": i % 3 == 0}, t)
           for i, t in enumerate(times * 2)]
    assert both_paths(pts, precision) == [client_line(p, precision) for p in pts]
    lineproto._UINT_FIELDS["ucounters"] = frozenset({"n"})
    try:
        upts = [Point("ucounters", {}, {"n": v, "x": 1.0}, 5) for v in [0, 1, 2**63 - 1, 2**63, 2**64 - 1]]
        assert both_paths(upts, precision) == [client_line(p, precision, frozenset({"n"})) for p in upts]
    finally:
        del lineproto._UINT_FIELDS["ucounters"]


def test_c_float_tokens_on_random_doubles(c_ext: None, float_formatter: str) -> None:
    """The C assembler's floats (orjson's tokens where their notation is repr's, repr otherwise;
    repr only without orjson) are repr's without '.0' for doubles from every exponent."""
    rnd = random.Random(20261126)
    xs: list[float] = []
    while len(xs) < 100_000:
        x = struct.unpack("<d", rnd.getrandbits(64).to_bytes(8, "little"))[0]
        if math.isfinite(x):
            xs.append(x)
    xs += [rnd.random() * 10.0 ** rnd.randint(-8, 20) for _ in range(100_000)]
    xs += [round(rnd.uniform(-1e4, 1e4), rnd.randint(0, 6)) for _ in range(30_000)]
    xs += [1e-4, -1e-4, 9.999999999999999e-05, 1e16, 1e15, 9999999999999998.0, 0.0, -0.0, 5e-324]
    pts = [Point("m", {}, {"v": x}, i) for i, x in enumerate(xs)]
    lineproto._clear_caches()
    got = encode_many(pts)
    expected = [f"m v={r[:-2] if r.endswith('.0') else r} {i}" for i, r in enumerate(map(repr, xs))]
    assert got == expected


def test_c_plan_refuses_malformed_plans(c_ext: None) -> None:
    plan = lineproto._lineproto.Plan
    with pytest.raises(ValueError, match="permutation"):
        plan("ff", (0, 0), (b"a=", b"b="))
    with pytest.raises(ValueError, match="kind"):
        plan("fx", (0, 1), (b"a=", b"b="))
    with pytest.raises(ValueError, match="ASCII"):
        plan("f", (0,), ("é=".encode(),))
    with pytest.raises(ValueError, match="one length"):
        plan("ff", (0,), (b"a=",))
    with pytest.raises(TypeError):
        plan("f", (0,), ("a=",))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        lineproto._lineproto.encode_many((), 1, {}, None, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="div"):
        lineproto._lineproto.encode_many([], 0, {}, None, None)  # type: ignore[arg-type]


def test_c_series_cache_tells_apart_keys_of_the_same_strings(c_ext: None) -> None:
    """The same strings split differently between tag keys, tag values and field keys, in another
    order, at another precision, and equal strings that are other objects: each its own series."""
    b = "".join(["b"])  # equal to "b", another object
    pts = [Point("m", {"a": "b"}, {"c": 1.5}, 1), Point("m", {}, {"a": 1.5, "b": 2.5, "c": 3.5}, 2),
           Point("m", {"a": "b", "c": "d"}, {"e": 1}, 3), Point("m", {"a": "b"}, {"c": 1, "d": 2.5}, 4),
           Point("m", {"b": "a"}, {"c": 1.5}, 5), Point("m", {"a": "c"}, {"b": 1.5}, 6),
           Point("m", {"a": b}, {"c": 2.5}, 7), Point("m", {"c": "d", "a": "b"}, {"e": 1}, 8),
           Point("n", {"a": "b"}, {"c": 1.5}, 9), Point("m", {"a": "b"}, {"c": True}, 10)]
    lineproto._clear_caches()
    for precision in ("ns", "s", "ns"):
        batch = pts * 3
        assert encode_many(batch, precision) == [client_line(p, precision) for p in batch]
