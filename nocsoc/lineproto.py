"""InfluxDB line-protocol encoder.

Deliberately hand-written instead of influxdb-client's `Point.to_line_protocol()`: Point encodes
~70k points/s here, this encoder several times that (see docs/benchmarks.md). Its output is
checked byte for byte against Point by a hypothesis test (tests/test_lineproto.py): tags and fields
sorted by key, floats as `str()` without a trailing `.0`, non-finite floats and empty tag values
left out, integers `i`, unsigned `u`, booleans `true`/`false`, strings quoted with `"` and `\\`
escaped.

Where Point would silently write something InfluxDB reads back differently, this encoder refuses
with `LineProtocolError`: newlines, carriage returns and tabs anywhere, and a tag value ending in
a backslash (it would escape the separator that follows).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from nocsoc.schema import REGISTRY, FieldType, Point

_ESC_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ "})
_ESC_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_ESC_STRING = str.maketrans({'"': r"\"", "\\": r"\\"})
_FORBIDDEN = re.compile(r"[\n\r\t]")

PRECISION_DIVISORS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}

# Escaped names repeat endlessly (a handful of measurements, tags and fields): cache them.
_key_cache: dict[str, str] = {}
_measurement_cache: dict[str, str] = {}

_UINT_FIELDS: dict[str, frozenset[str]] = {
    m.name: frozenset(f.name for f in m.fields if f.type is FieldType.UINT)
    for m in REGISTRY.values()
    if any(f.type is FieldType.UINT for f in m.fields)
}


class LineProtocolError(ValueError):
    """A point that cannot be written as line protocol without changing its meaning."""


def _key(k: str) -> str:
    e = _key_cache.get(k)
    if e is None:
        e = k.translate(_ESC_KEY)
        if len(_key_cache) < 10_000:
            _key_cache[k] = e
    return e


def encode(point: Point, precision: str = "ns", uint_fields: frozenset[str] | None = None) -> str:
    """Encode one point; an empty string when it has no writable field (as Point does)."""
    m = point.measurement
    em = _measurement_cache.get(m)
    if em is None:
        if m.startswith("#"):
            raise LineProtocolError(f"measurement {m!r} starts with '#' (a comment in line protocol)")
        em = _measurement_cache[m] = m.translate(_ESC_MEASUREMENT)
    parts = [em]
    tags = point.tags
    for k in sorted(tags):
        v = tags[k]
        if v == "":
            continue
        if v[-1] == "\\":
            raise LineProtocolError(f"{m}: tag {k}={v!r} ends with a backslash")
        parts.append(f",{_key(k)}={v.translate(_ESC_KEY)}")
    parts.append(" ")
    if uint_fields is None:
        uint_fields = _UINT_FIELDS.get(m)
    fields = point.fields
    first = True
    for k in sorted(fields):
        v = fields[k]
        t = type(v)
        if t is float:
            if not math.isfinite(v):  # type: ignore[arg-type]
                continue
            s = str(v)
            if s.endswith(".0"):
                s = s[:-2]
        elif t is int:
            s = f"{v}u" if uint_fields and k in uint_fields else f"{v}i"
        elif t is str:
            s = f'"{v.translate(_ESC_STRING)}"'  # type: ignore[union-attr]
        elif t is bool:
            s = "true" if v else "false"
        else:
            raise LineProtocolError(f"{m}.{k}: unsupported value type {t.__name__}")
        parts.append(f"{_key(k)}={s}" if first else f",{_key(k)}={s}")
        first = False
    if first:
        return ""
    div = PRECISION_DIVISORS[precision]
    parts.append(f" {point.time_ns // div if div != 1 else point.time_ns}")
    line = "".join(parts)
    if _FORBIDDEN.search(line):
        raise LineProtocolError(f"{m}: newline, carriage return or tab in a name or value: {line[:120]!r}")
    return line


def encode_many(points: Iterable[Point], precision: str = "ns") -> list[str]:
    """Encode points to lines, skipping points with no writable field."""
    out = []
    for p in points:
        line = encode(p, precision)
        if line:
            out.append(line)
    return out
