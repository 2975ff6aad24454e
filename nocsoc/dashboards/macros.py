"""Grafana's substitution of InfluxQL macros and template variables, done the way Grafana does it.

Used to prove every panel query on a real InfluxDB (tests, `nocsoc dashboards check`) exactly as
Grafana will send it: `$timeFilter` in the server-side form (`time >= {from}ms and time <=
{to}ms`, Grafana's Go backend) or the browser form (`time >= now() - 1h and time <= now()`),
`$__interval` / `$__interval_ms` from the range and max data points rounded like Grafana's
`roundInterval`, and variables formatted like the InfluxDB datasource's `interpolateQueryExpr`
(multi-value -> `(a|b)` with regex escaping, All -> the variable's allValue unescaped).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Grafana's roundInterval (pkg/tsdb/intervalv2): upper bound in ms -> rounded interval in ms.
_ROUND_STEPS: tuple[tuple[int, int], ...] = (
    (10, 1),
    (15, 10),
    (35, 20),
    (75, 50),
    (150, 100),
    (350, 200),
    (750, 500),
    (1500, 1000),
    (3500, 2000),
    (7500, 5000),
    (12500, 10000),
    (17500, 15000),
    (25000, 20000),
    (45000, 30000),
    (90000, 60000),
    (210000, 120000),
    (450000, 300000),
    (750000, 600000),
    (1050000, 900000),
    (1500000, 1200000),
    (2700000, 1800000),
    (5400000, 3600000),
    (9000000, 7200000),
    (16200000, 10800000),
    (24300000, 21600000),
    (64800000, 43200000),
    (129600000, 86400000),
    (604800000, 604800000),
)
_UNITS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1))
_RELATIVE = re.compile(r"^now-(\d+)([smhdw])$")
_VAR = re.compile(r"\$(\w+)|\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)\]\]")
_REGEX_SPECIAL = re.compile(r"([\\^$*+?.()|\[\]{}/])")
ALL = "$__all"


def round_interval(ms: int) -> int:
    for bound, rounded in _ROUND_STEPS:
        if ms <= bound:
            return rounded
    return 30 * 86_400_000


def format_interval(ms: int) -> str:
    """Grafana's interval text: the largest whole unit (`30s`, `1m`, `2h`, `500ms`)."""
    for unit, size in _UNITS:
        if ms >= size and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


@dataclass(frozen=True)
class TimeRange:
    """A dashboard time range: absolute ms epochs plus, optionally, the raw relative text."""

    from_ms: int
    to_ms: int
    raw_from: str | None = None  # e.g. "now-1h" (browser-style $timeFilter uses it)
    raw_to: str | None = None  # e.g. "now"

    def interval_ms(self, max_data_points: int = 1000, min_interval_ms: int = 1) -> int:
        span = max(self.to_ms - self.from_ms, 1)
        return max(round_interval(span // max(max_data_points, 1)), min_interval_ms)


def time_filter(tr: TimeRange, style: str = "backend") -> str:
    if style == "backend":
        return f"time >= {tr.from_ms}ms and time <= {tr.to_ms}ms"

    def influx_time(raw: str | None, ms: int) -> str:
        if raw == "now":
            return "now()"
        m = _RELATIVE.match(raw or "")
        return f"now() - {m.group(1)}{m.group(2)}" if m else f"{ms}ms"

    return f"time >= {influx_time(tr.raw_from, tr.from_ms)} and time <= {influx_time(tr.raw_to, tr.to_ms)}"


@dataclass(frozen=True)
class Variable:
    """A template variable's current selection: values, or ALL; as the dashboard declares it."""

    name: str
    values: Sequence[str] | str  # a list, one value, or ALL
    multi: bool = True
    include_all: bool = True
    all_value: str | None = ".*"
    options: Sequence[str] = ()  # every value the variable offers (All without allValue joins them)


def regex_escape(value: str) -> str:
    return _REGEX_SPECIAL.sub(r"\\\1", value)


def format_variable(v: Variable) -> str:
    """The InfluxDB datasource's interpolateQueryExpr."""
    values = v.values
    if values == ALL:
        if v.all_value is not None:
            return v.all_value  # Grafana leaves a custom all value unformatted
        values = list(v.options)
    if not v.multi and not v.include_all:
        return values if isinstance(values, str) else ",".join(values)
    if isinstance(values, str):
        return regex_escape(values)
    escaped = [regex_escape(x) for x in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def interpolate_variables(text: str, variables: Mapping[str, Variable]) -> str:
    """Replace `$var`, `${var}`, `${var:regex}` and `[[var]]`; unknown names stay as they are."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(4)
        var = variables.get(name)
        return m.group(0) if var is None else format_variable(var)

    return _VAR.sub(sub, text)


def render_query(
    query: str,
    tr: TimeRange,
    variables: Mapping[str, Variable] | None = None,
    max_data_points: int = 1000,
    style: str = "backend",
) -> str:
    """The InfluxQL Grafana sends for a raw panel query."""
    ms = tr.interval_ms(max_data_points)
    out = query.replace("$timeFilter", time_filter(tr, style))
    # `$__interval_ms` first: `$__interval` is its prefix (Grafana replaces in this order too).
    out = out.replace("$__interval_ms", str(ms)).replace("$__interval", format_interval(ms))
    out = out.replace("$interval", format_interval(ms))
    return interpolate_variables(out, variables or {})


BUILTINS = frozenset(
    {
        "timeFilter",
        "__interval",
        "__interval_ms",
        "interval",
        "__range",
        "__range_s",
        "__range_ms",
        "__from",
        "__to",
        "__timeFilter",
    }
)


def variables_used(text: str) -> set[str]:
    """Template variable names a query refers to (Grafana built-ins left out)."""
    names = {m.group(1) or m.group(2) or m.group(4) for m in _VAR.finditer(text)}
    return {n for n in names if n not in BUILTINS}
