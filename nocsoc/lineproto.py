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
repeat endlessly, so each shape gets an encoder generated once: one f-string with the names
already escaped and sorted, guarded by a check of the value types it was made for. Each series
(shape plus tag values) caches its escaped `measurement,tags ` prefix, so a line costs one dict
lookup and one formatting operation. What a generated encoder cannot do exactly (a non-finite
float, a value of another type than its shape's) takes the generic path, which is also the
reference the generated code must equal. On 2 cores here: ~1M points/s for one-field points,
~180k/s for 15-field interface points, where CPython's float repr (which Point needs as well)
takes ~60% of the time; 4-8x Point throughout (docs/benchmarks.md).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable

from nocsoc.schema import REGISTRY, FieldType, Point

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
        "_BOOL": ("false", "true"),
    }
    exec("\n".join(lines), namespace)  # generated from escaped names only; no input is executed
    return namespace["encode"]  # type: ignore[return-value]


# (precision divisor, uint_fields, measurement, tag keys..., None, field keys...) -> encoder
_shapes: dict[tuple[object, ...], _Encoder] = {}
# the same with the tag values after the tag keys -> (encoder, series prefix)
_series: dict[tuple[object, ...], tuple[_Encoder, str]] = {}


def _divisor(precision: str) -> int:
    try:
        return PRECISION_DIVISORS[precision]
    except KeyError:
        raise LineProtocolError(f"unknown precision {precision!r} (ns, us, ms or s)") from None


def _new_series(p: Point, key: tuple[object, ...], div: int,
                uint_fields: frozenset[str] | None) -> tuple[_Encoder, str]:
    """First point of a series (or of a shape): compile what is missing, cache both."""
    shape = (div, uint_fields, p.measurement, *p.tags, None, *p.fields)
    enc = _shapes.get(shape)
    if enc is None:
        if len(_shapes) >= _MAX_SHAPES:
            _shapes.clear()
        enc = _shapes[shape] = _compile(p, div, uint_fields)
    hit = (enc, _series_prefix(_measurement(p.measurement), p.measurement, p.tags))
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
    """Encode points to lines, skipping points with no writable field."""
    div = _divisor(precision)
    out: list[str] = []
    append = out.append
    get = _series.get
    for p in points:
        t = p.tags
        # series key: tag keys then tag values (n keys, n values: unambiguous), then field keys
        key = (div, None, p.measurement, *t, *t.values(), None, *p.fields)
        hit = get(key)
        if hit is None:
            hit = _new_series(p, key, div, None)
        line = hit[0](p, hit[1])
        if line:
            append(line)
    return out
