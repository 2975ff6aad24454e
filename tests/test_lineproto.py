"""nocsoc.lineproto against influxdb-client's Point: same bytes for the same inputs, or a refusal.

The refusal rules are the ones in nocsoc.lineproto's docstring, restated here independently.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from influxdb_client import Point as ClientPoint
from influxdb_client.domain.write_precision import WritePrecision

from nocsoc import lineproto
from nocsoc.lineproto import LineProtocolError, encode, encode_many
from nocsoc.schema import FLOW_TOP, INTERFACE, Point

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


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(points(), st.sampled_from(sorted(PRECISIONS)))
def test_encode_equals_influxdb_client_point(p: Point, precision: str) -> None:
    if refused(p):
        with pytest.raises(LineProtocolError):
            encode(p, precision)
    else:
        assert encode(p, precision) == client_line(p, precision)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(plain_names, safe_values, min_size=1, max_size=4), min_size=1, max_size=6),
       st.sampled_from(sorted(PRECISIONS)))
def test_one_shape_many_value_types(field_sets: list[dict[str, object]], precision: str) -> None:
    """Same measurement and keys with changing value types: the compiled shape must not misformat."""
    keys_ = list(field_sets[0])
    pts = [Point("m", {"host": "a b", "site": f"s{i % 2}"},
                 {k: fs.get(k, 1.5) for k in keys_}, 1_700_000_000_000_000_000 + i)  # type: ignore[misc]
           for i, fs in enumerate(field_sets)]
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


def test_schema_points_match_client_and_cache_series() -> None:
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


def test_refusal_after_a_compiled_shape() -> None:
    """A shape compiled from a good point still refuses a later bad value of that shape."""
    good = Point("logline", {"host": "a"}, {"msg": "fine", "n": 1}, 1)
    bad = Point("logline", {"host": "a"}, {"msg": "two\nlines", "n": 1}, 2)
    bad_tag = Point("logline", {"host": "b\\"}, {"msg": "x", "n": 1}, 3)
    assert encode_many([good]) == ['logline,host=a msg="fine",n=1i 1']
    with pytest.raises(LineProtocolError, match="newline"):
        encode_many([good, bad])
    with pytest.raises(LineProtocolError, match="backslash"):
        encode_many([bad_tag])


def test_non_finite_and_empty() -> None:
    assert encode(Point("m", {}, {"a": math.nan, "b": math.inf}, 1)) == ""
    assert encode(Point("m", {}, {}, 1)) == ""
    assert encode(Point("m", {"e": ""}, {"a": math.nan, "b": 2.0}, 1)) == "m b=2 1"
    assert encode_many([Point("m", {}, {"a": math.nan}, 1), Point("m", {}, {"a": 0.5}, 2)]) == ["m a=0.5 2"]
    with pytest.raises(LineProtocolError, match="precision"):
        encode(Point("m", {}, {"a": 1.0}, 1), "h")


def test_bounded_caches_stay_correct_when_they_overflow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lineproto, "_MAX_PREFIXES", 3)
    monkeypatch.setattr(lineproto, "_MAX_SHAPES", 2)
    pts = [Point(f"m{i % 3}", {"host": f"h{i % 7}"}, {"v": i / 3, f"f{i % 4}": i}, i) for i in range(100)]
    assert encode_many(pts) == [client_line(p) for p in pts]
    assert len(lineproto._series) <= 3 and len(lineproto._shapes) <= 2
