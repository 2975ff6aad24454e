"""InfluxDB line-protocol encoder.

Deliberately hand-written instead of influxdb-client's `Point.to_line_protocol()`: Point encodes
~70k points/s here; this encoder is several times faster (see docs/benchmarks.md). Its output is
checked byte for byte against Point by a hypothesis test (tests/test_lineproto.py): tags and fields
sorted by key, floats as `str()` without a trailing `.0`, non-finite floats and empty tag values
left out, integers `i`, unsigned `u`, booleans `true`/`false`, strings quoted with `"` and `\\`
escaped.

Where Point would silently write something InfluxDB reads back differently (or not at all), this
encoder refuses with `LineProtocolError`:
- a newline, carriage return or tab in the measurement, a tag key or value, a field key or a
  string field value;
- a measurement, tag key, tag value or field key ending in a backslash (it would escape the
  separator that follows);
- an empty measurement, tag key or field key, or a measurement starting with `#` (a comment);
- a field value of another type than float, int, bool or str.

Why it is fast: points of one shape (measurement, tag keys, field keys, in the order given)
repeat endlessly, so each shape gets code generated once, with the names already escaped and
sorted, and each series (shape plus tag values) caches its escaped `measurement,tags ` prefix.
- `encode` (one point): one dict lookup and one f-string, guarded by a check of the value types
  the shape was compiled for. What it cannot do exactly (a non-finite float, a value of another
  type) takes the generic path, which is also the reference the generated code must equal.
- `encode_many` (a batch), where the C extension nocsoc._lineproto is built (setup.py): C looks
  each point's series up from its strings (`SeriesCache`, no key tuple) and assembles its line
  from the cached prefix and the shape's `Plan` (compiled here by `_c_plan`: escaped keys in
  sorted order, which ints are unsigned): floats from one orjson call for the whole batch (repr
  where orjson's notation differs), ints, booleans, the time. Why hand-written C: in pure Python a
  15-field point costs ~0.6 us of lookup, ~1.2 us of float repr and ~1.3 us for one f-string, and
  the f-string alone is about the whole budget of 800k points/s (issue #2); no library encodes
  line protocol faster (influxdb-client's Point is the reference). The C code holds no rule:
  what its plan does not cover (string fields, a value of another type than the shape's,
  non-ASCII field names) goes through this module's per-point encoder, in the batch's order.
- `encode_many` without the extension groups the points by shape and encodes each group of
  floats, ints and bools at once (`_Batch`): all its floats in one call (orjson where installed),
  then one f-string a point. A group it cannot do exactly goes point by point through `encode`'s
  code.
On 2 cores here, points per CPU-second (docs/benchmarks.md, two runs): with C 0.97-0.98M for
15-field interface points, 2.3-2.6M for five fields, 5.4-5.9M for one, 1.6-1.9M for a mix of the
three: 3.1-4.0x the pure-Python batched path (0.29-0.30M, 0.74-0.79M, 1.4-1.5M, 0.51-0.52M) and
24-49x influxdb-client's Point (built and encoded).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from operator import attrgetter, itemgetter

from nocsoc.schema import REGISTRY, FieldType, Point

try:  # optional: formats a whole column of floats in one C call (see _float_column)
    import orjson
except ImportError:  # pragma: no cover - the repr path below is exact, only slower
    orjson = None  # type: ignore[assignment]

try:  # optional: the C assembly of encode_many (nocsoc/_lineproto.c); this module is its fallback
    from nocsoc import _lineproto
except ImportError:  # pragma: no cover - built by `pip install` where a C compiler exists
    _lineproto = None  # type: ignore[assignment]

_ESC_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ "})
_ESC_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_ESC_STRING = str.maketrans({'"': r"\"", "\\": r"\\"})
_FORBIDDEN = re.compile(r"[\n\r\t]")

PRECISION_DIVISORS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}

_UINT_FIELDS: dict[str, frozenset[str]] = {
    m.name: frozenset(f.name for f in m.fields if f.type is FieldType.UINT)
    for m in REGISTRY.values()
    if any(f.type is FieldType.UINT for f in m.fields)
}

# Bounds on the caches, so that a stream of ever-new shapes or series cannot grow memory forever.
_MAX_SHAPES = 4_096
_MAX_PREFIXES = 20_000  # ~430 bytes each (key tuple + prefix): ~9 MB at most

_Encoder = Callable[[Point, str], str]


class LineProtocolError(ValueError):
    """A point that cannot be written as line protocol without changing its meaning."""


def _check_name(what: str, name: str, context: str) -> None:
    if not name:
        raise LineProtocolError(f"{context}: empty {what}")
    if name[-1] == "\\":
        raise LineProtocolError(f"{context}: {what} {name!r} ends with a backslash")
    if _FORBIDDEN.search(name):
        raise LineProtocolError(f"{context}: newline, carriage return or tab in {what} {name!r}")


def _measurement(m: str) -> str:
    _check_name("measurement", m, "line protocol")
    if m[0] == "#":
        raise LineProtocolError(f"measurement {m!r} starts with '#' (a comment in line protocol)")
    return m.translate(_ESC_MEASUREMENT)


def _series_prefix(em: str, m: str, tags: dict[str, str]) -> str:
    """`measurement,k=v,... ` with tags sorted and escaped, empty values left out (as Point)."""
    parts = [em]
    for k in sorted(tags):
        v = tags[k]
        _check_name("tag key", k, m)
        if v == "":
            continue
        _check_name(f"value of tag {k}", v, m)
        parts.append(f",{k.translate(_ESC_KEY)}={v.translate(_ESC_KEY)}")
    parts.append(" ")
    return "".join(parts)


def _float(v: float) -> str:
    s = str(v)
    return s[:-2] if s.endswith(".0") else s


def _encode_generic(point: Point, div: int, uint_fields: frozenset[str] | None) -> str:
    """The reference path: every rule checked per point. Used for what a compiled shape cannot do."""
    m = point.measurement
    prefix = _series_prefix(_measurement(m), m, point.tags)
    fields = point.fields
    out = []
    for k in sorted(fields):
        v = fields[k]
        _check_name("field key", k, m)
        t = type(v)
        if t is float:
            if not math.isfinite(v):  # type: ignore[arg-type]
                continue
            s = _float(v)  # type: ignore[arg-type]
        elif t is int:
            s = f"{v}u" if uint_fields and k in uint_fields else f"{v}i"
        elif t is bool:
            s = "true" if v else "false"
        elif t is str:
            if _FORBIDDEN.search(v):  # type: ignore[arg-type]
                raise LineProtocolError(f"{m}.{k}: newline, carriage return or tab in string value")
            s = f'"{v.translate(_ESC_STRING)}"'  # type: ignore[union-attr]
        else:
            raise LineProtocolError(f"{m}.{k}: unsupported value type {t.__name__}")
        out.append(f"{k.translate(_ESC_KEY)}={s}")
    if not out:
        return ""
    return f"{prefix}{','.join(out)} {point.time_ns // div}"


def _compile(point: Point, div: int, uint_fields: frozenset[str] | None) -> _Encoder:
    """An encoder `(point, series_prefix) -> line` for every point shaped like `point` (same
    measurement, tag keys, field keys, value types) at one precision."""
    m = point.measurement
    _measurement(m)
    for k in point.tags:
        _check_name("tag key", k, m)
    fkeys = list(point.fields)
    ftypes = [type(v) for v in point.fields.values()]
    for k, t in zip(fkeys, ftypes, strict=True):
        _check_name("field key", k, m)
        if t not in (float, int, bool, str):
            raise LineProtocolError(f"{m}.{k}: unsupported value type {t.__name__}")
    if uint_fields is None:
        uint_fields = _UINT_FIELDS.get(m)
    has_str = str in ftypes
    floats = [i for i, t in enumerate(ftypes) if t is float]
    # Few floats: trim each one's ".0" on its own. Many: one replace over the whole field part.
    per_float = has_str or len(floats) <= 3
    lines = ["def encode(p, pre):"]
    if not fkeys:
        lines.append("    return ''")
    else:
        lines.append(f"    {', '.join(f'v{i}' for i in range(len(fkeys)))}, = p.fields.values()")
        # the shape key leaves out value types (computing them costs more than checking them)
        tnames = {float: "float", int: "int", bool: "bool", str: "str"}
        guard = " or ".join(f"type(v{i}) is not {tnames[t]}" for i, t in enumerate(ftypes))
        lines += [f"    if {guard}:", "        return generic(p, DIV, uint_fields)"]
    if floats and per_float:
        # repr(float) ends in ".0" for whole numbers (Point trims it), in "nan" or "inf" for
        # non-finite ones (Point leaves the field out: the generic path does that), else in a digit
        for i in floats:
            lines += [f"    f{i} = f'{{v{i}!r}}'",
                      f"    e{i} = f{i}[-2:]",
                      f"    if e{i} == '.0':",
                      f"        f{i} = f{i}[:-2]",
                      f"    elif e{i} == 'an' or e{i} == 'nf':",
                      "        return generic(p, DIV, uint_fields)"]
    elif floats:
        # one finiteness test for all floats: a sum is finite only if every term is (an overflow
        # to inf merely takes the exact generic path)
        lines += [f"    if not _isfinite({' + '.join(f'v{i}' for i in floats)}):",
                  "        return generic(p, DIV, uint_fields)"]
    # The field part as adjacent string literals (repr() of escaped names: safe for any character)
    # and f-string pieces; Python joins them into one formatting operation.
    src: list[str] = []
    for n, i in enumerate(sorted(range(len(fkeys)), key=fkeys.__getitem__)):
        k, t, v = fkeys[i], ftypes[i], f"v{i}"
        src.append(repr(("," if n else "") + k.translate(_ESC_KEY) + "="))
        if t is float:
            src.append(f"f'{{f{i}}}'" if per_float else f"f'{{{v}!r}}'")
        elif t is int:
            src.append(f"f'{{{v}}}'")
            src.append(repr("u" if uint_fields and k in uint_fields else "i"))
        elif t is bool:
            src.append(f"f'{{_BOOL[{v}]}}'")
        else:
            src += ["'\"'", f"f'{{{v}.translate(_ESC_STRING)}}'", "'\"'"]
    time_src = "f' {p.time_ns}'" if div == 1 else f"f' {{p.time_ns // {div}}}'"
    if fkeys and per_float and not has_str:
        lines.append(f"    return f'{{pre}}' {' '.join(src)} {time_src}")  # one formatting op
    elif fkeys and per_float:
        lines += [f"    s = {' '.join(src)}",
                  "    if _FORBIDDEN.search(s):",
                  "        return generic(p, DIV, uint_fields)  # raises, naming the field",
                  f"    return pre + s + {time_src}"]
    elif fkeys:
        # repr(float) ends in ".0" for whole numbers; Point trims it. Without string fields a
        # ".0" followed by "," or the end can only be such a float's tail: keys never end in
        # ".0" (an "=" follows them) and their commas are escaped.
        lines += [f"    s = {' '.join(src)}",
                  "    s = s.replace('.0,', ',')",
                  "    if s[-2:] == '.0':",
                  "        s = s[:-2]",
                  f"    return pre + s + {time_src}"]
    namespace: dict[str, object] = {
        "generic": _encode_generic, "uint_fields": uint_fields, "DIV": div,
        "_isfinite": math.isfinite, "_ESC_STRING": _ESC_STRING, "_FORBIDDEN": _FORBIDDEN,
        "_BOOL": _BOOL,
    }
    exec("\n".join(lines), namespace)  # generated from escaped names only; no input is executed
    return namespace["encode"]  # type: ignore[return-value]


def _float_column(col: list[float]) -> str | None:
    """A column of floats as Point writes them, comma-separated; None if one is not finite (Point
    leaves such a field out, which the per-point path does).

    orjson formats the whole column in one C call, ~25x faster than CPython's repr per float here.
    Both write the shortest digits that round-trip, correctly rounded, so the digits agree; the
    notation differs only where repr uses an exponent below 1e-4 (orjson: `1e-7`, `0.00001`;
    repr: `1e-07`, `1e-05`). A column with an `e` or `0.0000` anywhere is therefore formatted
    with repr (rare in telemetry, and exact). tests/test_lineproto.py checks this rule on millions
    of random doubles and proves the lines equal Point's.
    """
    if orjson is not None:
        s = orjson.dumps(col).decode()[1:-1]
        if "n" in s:  # null: NaN or an infinity
            return None
        if "e" in s or "0.0000" in s:
            s = ",".join(map(float.__repr__, col))
    else:
        s = ",".join(map(float.__repr__, col))
        if "n" in s:  # nan, inf
            return None
    # trim whole numbers' ".0" (as Point): in a list of numbers ".0," only ends such a number
    s = s.replace(".0,", ",")
    return s[:-2] if s.endswith(".0") else s


def _orjson_agrees() -> bool:
    """Whether this orjson formats as `_float_column` expects (a guard against another version's
    notation; the tests check the rule on millions of doubles)."""
    probe = [0.1, 1 / 3, 2 / 3, -1.5, 100.0, 0.0, -0.0, 1e-4, 1.5e-5, 1e15, 9007199254740993.0,
             1e16, 1.7976931348623157e308, 5e-324, 123456.789, 2.5e-7, 299792458.0, 1e22]
    expected = ",".join(r[:-2] if r.endswith(".0") else r for r in map(repr, probe))
    return _float_column(probe) == expected


if orjson is not None and not _orjson_agrees():  # pragma: no cover - depends on the installed version
    orjson = None  # type: ignore[assignment]


_FIELDS = attrgetter("fields")
_PREFIX = itemgetter(1)
_PLAN = itemgetter(2)
_BOOL = ("false", "true")
# below this many points of one shape in a batch, the per-point encoders are as fast
_MIN_BATCH = 8

_BatchEncoder = Callable[[list[Point], list[str], Iterable[object]], list[str]]


class _Batch:
    """Encodes many points of one shape at once. The float columns of the whole batch are
    formatted first, each in one call (`_float_column`: CPython's repr per float is most of the
    per-point encoder's time on float-heavy shapes); then one generated comprehension builds the
    lines, a single f-string each, with the series prefix, the names already escaped, the float
    strings, and integers and booleans formatted in place. For shapes of floats, ints and bools: a
    string field needs checks per value, so such shapes keep the per-point encoder, and so do a
    point holding a non-finite float (Point leaves that field out) and a batch holding a value of
    another type than the shape's.
    """

    __slots__ = ("float_getter", "n_floats", "run", "single")

    def __init__(self, float_keys: list[str], run: _BatchEncoder, single: _Encoder) -> None:
        # one call per point gives its float values (a tuple when there are several)
        self.float_getter = itemgetter(*float_keys) if float_keys else None
        self.n_floats = len(float_keys)
        self.run = run
        self.single = single  # the per-point encoder of this shape

    @classmethod
    def plan(cls, point: Point, div: int, uint_fields: frozenset[str] | None,
             single: _Encoder) -> _Batch | None:
        """The plan for points shaped like `point` (whose names _compile has checked)."""
        fkeys = list(point.fields)
        ftypes = [type(v) for v in point.fields.values()]
        if not fkeys or any(t not in (float, int, bool) for t in ftypes):
            return None
        if uint_fields is None:
            uint_fields = _UINT_FIELDS.get(point.measurement)
        floats = [i for i, t in enumerate(ftypes) if t is float]
        others = [i for i, t in enumerate(ftypes) if t is not float]
        src: list[str] = ["f'{pre}'"]
        for n, i in enumerate(sorted(range(len(fkeys)), key=fkeys.__getitem__)):
            k, t = fkeys[i], ftypes[i]
            src.append(repr(("," if n else "") + k.translate(_ESC_KEY) + "="))  # a safe literal
            if t is float:
                src.append(f"f'{{f{i}}}'")
            elif t is int:
                src += [f"f'{{v{i}}}'", repr("u" if uint_fields and k in uint_fields else "i")]
            else:
                src.append(f"f'{{_BOOL[v{i}]}}'")
        src.append("f' {p.time_ns}'" if div == 1 else f"f' {{p.time_ns // {div}}}'")
        if not floats:
            loop = "for p, pre in zip(points, prefixes)"
        elif len(floats) == 1:
            loop = f"for p, pre, f{floats[0]} in zip(points, prefixes, floats)"
        else:
            loop = f"for p, pre, ({', '.join(f'f{i}' for i in floats)}) in zip(points, prefixes, floats)"
        if others:  # unpack the fields once per point; a wrong type drops the point (see encode)
            loop += (f" for {', '.join(f'v{i}' for i in range(len(fkeys)))}, in (p.fields.values(),)"
                     f" if {' and '.join(f'type(v{i}) is {ftypes[i].__name__}' for i in others)}")
        code = (f"def run(points, prefixes, floats):\n"
                f"    return [{' '.join(src)}\n            {loop}]")
        namespace: dict[str, object] = {"_BOOL": _BOOL}
        exec(code, namespace)  # generated from escaped names only; no input is executed
        return cls([fkeys[i] for i in floats], namespace["run"], single)  # type: ignore[arg-type]

    def encode(self, points: list[Point], prefixes: list[str]) -> list[str] | None:
        """The lines of `points` (all of this shape), or None where the per-point path must."""
        floats: Iterable[object] = ()
        n = self.n_floats
        if self.float_getter is not None:
            # all floats of the batch, point after point, as one list: one type check, one
            # formatting call, one split for the whole batch
            values = list(map(self.float_getter, map(_FIELDS, points)))
            if n > 1:
                values = list(chain.from_iterable(values))
            if set(map(type, values)) != {float}:
                return None
            s = _float_column(values)
            if s is None:
                return self._split(points, prefixes, values)
            tokens = s.split(",")
            floats = tokens if n == 1 else zip(*[iter(tokens)] * n, strict=True)  # per point
        lines = self.run(points, prefixes, floats)
        return lines if len(lines) == len(points) else None  # fewer: a value of another type

    def _split(self, points: list[Point], prefixes: list[str], values: list[float]) -> list[str] | None:
        """Points holding a non-finite float (whose field Point leaves out) through the per-point
        encoder, the others still batched; "" for a point left without a field."""
        bad = {i // self.n_floats for i, v in enumerate(values) if not math.isfinite(v)}
        good = [i for i in range(len(points)) if i not in bad]
        lines = self.encode([points[i] for i in good], [prefixes[i] for i in good]) if good else []
        if lines is None:
            return None
        out = [""] * len(points)
        for i, line in zip(good, lines, strict=True):
            out[i] = line
        for i in bad:
            out[i] = self.single(points[i], prefixes[i])
        return out


def _c_plan(point: Point, uint_fields: frozenset[str] | None) -> object | None:
    """The C assembler's plan for points shaped like `point` (whose names _compile has checked):
    per field in sorted order its kind, its index in the point's order and its escaped `key=`.
    None where the C code must not write the shape (it has no C path for string fields, whose
    values need checks, nor for names that are not ASCII; their points go through `_compile`'s
    encoder)."""
    if _lineproto is None:
        return None
    fkeys = list(point.fields)
    ftypes = [type(v) for v in point.fields.values()]
    if not fkeys or len(fkeys) > _lineproto.MAX_FIELDS or any(t not in (float, int, bool) for t in ftypes):
        return None
    if uint_fields is None:
        uint_fields = _UINT_FIELDS.get(point.measurement)
    order = tuple(sorted(range(len(fkeys)), key=fkeys.__getitem__))
    keys = [fkeys[i].translate(_ESC_KEY) + "=" for i in order]
    if not all(k.isascii() for k in keys):
        return None
    kinds = "".join("f" if ftypes[i] is float else "b" if ftypes[i] is bool
                    else "u" if uint_fields and fkeys[i] in uint_fields else "i" for i in order)
    return _lineproto.Plan(kinds, order, tuple(k.encode() for k in keys))


# (precision divisor, uint_fields, measurement, tag keys..., None, field keys...)
#   -> (encoder, batch plan or None, C plan or None)
_shapes: dict[tuple[object, ...], tuple[_Encoder, _Batch | None, object | None]] = {}
# the same with the tag values after the tag keys
#   -> (encoder, series prefix, batch plan or None, C plan or None)
_Hit = tuple[_Encoder, str, "_Batch | None", object | None]
_series: dict[tuple[object, ...], _Hit] = {}
# the C assembler's own table of the same keys and hits, looked up without building a key tuple
_c_series = _lineproto.SeriesCache(_MAX_PREFIXES) if _lineproto is not None else None


def _clear_caches() -> None:
    """Forget every compiled shape and series (they depend on _UINT_FIELDS and on whether the C
    assembler is in use: for tests that change either)."""
    _shapes.clear()
    _series.clear()
    if _c_series is not None:
        _c_series.clear()


def _divisor(precision: str) -> int:
    try:
        return PRECISION_DIVISORS[precision]
    except KeyError:
        raise LineProtocolError(f"unknown precision {precision!r} (ns, us, ms or s)") from None


def _new_series(p: Point, key: tuple[object, ...], div: int,
                uint_fields: frozenset[str] | None) -> _Hit:
    """First point of a series (or of a shape): compile what is missing, cache both."""
    shape = (div, uint_fields, p.measurement, *p.tags, None, *p.fields)
    compiled = _shapes.get(shape)
    if compiled is None:
        if len(_shapes) >= _MAX_SHAPES:
            _shapes.clear()
        enc = _compile(p, div, uint_fields)
        compiled = _shapes[shape] = (enc, _Batch.plan(p, div, uint_fields, enc),
                                     _c_plan(p, uint_fields))
    hit = (compiled[0], _series_prefix(_measurement(p.measurement), p.measurement, p.tags),
           compiled[1], compiled[2])
    if len(_series) >= _MAX_PREFIXES:
        _series.clear()
    _series[key] = hit
    return hit


def encode(point: Point, precision: str = "ns", uint_fields: frozenset[str] | None = None) -> str:
    """Encode one point; an empty string when it has no writable field (as Point does).

    `uint_fields` names integer fields to write as unsigned (`u`); by default the schema's UINT
    fields of the point's measurement.
    """
    div = _divisor(precision)
    t = point.tags
    key = (div, uint_fields, point.measurement, *t, *t.values(), None, *point.fields)
    hit = _series.get(key)
    if hit is None:
        hit = _new_series(point, key, div, uint_fields)
    return hit[0](point, hit[1])


def encode_many(points: Iterable[Point], precision: str = "ns") -> list[str]:
    """Encode points to lines (in their order), skipping points with no writable field.

    Equal to `[encode(p) for p in points]` without the empty lines, several times faster on
    batches: the C assembler writes them (nocsoc/_lineproto.c), or without it points of one shape
    are encoded together by their `_Batch`.
    """
    div = _divisor(precision)
    pts = points if isinstance(points, list) else list(points)
    if _lineproto is not None:
        lines = _lineproto.encode_many(pts, div, _series, _new_series,
                                       None if orjson is None else orjson.dumps, _c_series)
        if lines is not None:
            return lines
    hits: list[_Hit] = []
    append = hits.append
    get = _series.get
    for p in pts:
        t = p.tags
        # series key: tag keys then tag values (n keys, n values: unambiguous), then field keys
        key = (div, None, p.measurement, *t, *t.values(), None, *p.fields)
        hit = get(key)
        if hit is None:
            hit = _new_series(p, key, div, None)
        append(hit)
    plans = list(map(_PLAN, hits))
    if plans and plans.count(plans[0]) == len(plans):  # one shape: the usual batch
        return list(filter(None, _encode_group(plans[0], pts, hits)))
    groups: dict[_Batch | None, list[int]] = {}
    for i, plan in enumerate(plans):
        group = groups.get(plan)
        if group is None:
            groups[plan] = [i]
        else:
            group.append(i)
    out = [""] * len(pts)
    for plan, idx in groups.items():
        lines = _encode_group(plan, [pts[i] for i in idx], [hits[i] for i in idx])
        for i, line in zip(idx, lines, strict=True):
            out[i] = line
    return list(filter(None, out))



def encode_valid(points: Sequence[Point], on_error: Callable[[LineProtocolError], None]) -> list[str]:
    """`encode_many`, except that a point that cannot be encoded goes to `on_error` and is left
    out instead of failing the batch: what a sink wants. The fast batch path runs first; only a
    batch holding a bad point is redone point by point."""
    try:
        return encode_many(points)
    except LineProtocolError:
        pass
    lines = []
    for p in points:
        try:
            line = encode(p)
        except LineProtocolError as exc:
            on_error(exc)
            continue
        if line:
            lines.append(line)
    return lines

def _encode_group(plan: _Batch | None, points: list[Point], hits: list[_Hit]) -> list[str]:
    """Lines of points of one shape (empty strings for points without a writable field)."""
    if plan is not None and len(points) >= _MIN_BATCH:
        lines = plan.encode(points, list(map(_PREFIX, hits)))
        if lines is not None:
            return lines
    return [h[0](p, h[1]) for p, h in zip(points, hits, strict=True)]
