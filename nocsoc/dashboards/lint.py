"""The dashboard lint: units, headers and legends of the generated JSON, in either language.

Grafana shows a number with whatever unit the panel says: a utilization of 30.35 in a column
declared `bps` reads "30 b/s", and nothing complains. This reads each panel's InfluxQL, works out
the unit of every column from the schema (`Field.unit`: bps, pps, percent, dBm, celsius, s, ...)
through the aggregates applied to it, and compares it with the unit the panel (or a per-column /
per-query override) declares. It also checks what a person reads: every table column has a
header from the language's catalogue, every series legend is built from tag values plus catalogue
words (never `$col`, which would show a query alias like `in_p95`), and coded values (ifOperStatus
1/2, reachable 0/1) have value mappings. It reads the rendered JSON, so hand edits are caught too.

Hand-written rather than a full InfluxQL parser: nocsoc's queries come from one builder
(`influxql.Select`) with a small, known shape (aggregates, `top()`, one arithmetic rate form and
subqueries), and an unknown shape is reported, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from nocsoc.dashboards.i18n import catalog
from nocsoc.dashboards.validate import Problem, panels_of
from nocsoc.schema import REGISTRY

SAME_UNIT = {"mean", "max", "min", "last", "first", "median", "mode", "percentile", "top", "bottom", "spread"}
SAME_UNIT |= {"non_negative_difference", "difference", "sum"}
BYTE_UNITS = {"decbytes", "bytes"}
CODED_UNITS = {"none", "bool"}  # a number that stands for a state: needs value mappings
COUNT = "short"
# Plugin panels whose units live in their own options (the weathermap's link `units`, checked by
# its model): their legends are linted, their column units are not.
OWN_UNITS = {"knightss27-weathermap-panel"}
LEGEND_PANELS = {"timeseries", "state-timeline", "piechart", "bargauge", *OWN_UNITS}
_TAG_PLACEHOLDER = re.compile(r"\$tag_\w+|\[\[tag_\w+\]\]")
_RATE = re.compile(r"^(.+?)\s*\*\s*8000\s*/\s*\$__interval_ms$")
_CALL = re.compile(r"^(\w+)\((.*)\)$", re.S)
_QUOTED = re.compile(r'^"((?:\\.|[^"\\])*)"$')
_AS = re.compile(r'^(.*?)\s+AS\s+"((?:\\.|[^"\\])*)"$', re.I | re.S)


@dataclass(frozen=True)
class Column:
    name: str
    unit: str | None  # None: a text column (tag or string field)


def _scan(text: str) -> Iterator[tuple[int, str, bool]]:
    """Each character of `text` with its index and whether it stands at the top level: outside
    quotes and parentheses (a quote or parenthesis itself never does)."""
    depth, quote = 0, ""
    for i, ch in enumerate(text):
        top = False
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        else:
            top = depth == 0
        yield i, ch, top


def _split_top(text: str, sep: str = ",") -> list[str]:
    """Split at `sep` outside parentheses and quotes."""
    parts: list[str] = []
    cur: list[str] = []
    for _i, ch, top in _scan(text):
        if top and ch == sep:
            parts.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur).strip())
    return [p for p in parts if p]


def _find_from(text: str) -> int:
    """Index of the top-level FROM keyword."""
    for i, _ch, top in _scan(text):
        if top and text[i : i + 6].upper() == " FROM ":
            return i
    raise ValueError("no FROM")


class UnitError(ValueError):
    """A query shape the lint does not know how to type."""


def _source_units(source: str) -> tuple[dict[str, str | None], set[str]]:
    """Units of the names a FROM source offers, and its tag names."""
    source = source.strip()
    if source.startswith("("):
        inner = source[1 : source.rindex(")")]
        cols = query_columns(inner)
        return {c.name: c.unit for c in cols}, {c.name for c in cols if c.unit is None}
    m = _QUOTED.match(source.split()[0])
    if not m or m.group(1) not in REGISTRY:
        raise UnitError(f"unknown measurement in FROM {source.split()[0]}")
    meas = REGISTRY[m.group(1)]
    units: dict[str, str | None] = {f.name: (f.unit or None) for f in meas.fields}
    units.update({t: None for t in meas.tag_names})
    return units, set(meas.tag_names)


def _expr_unit(expr: str, units: dict[str, str | None]) -> str | None:
    expr = expr.strip()
    m = _RATE.match(expr)
    if m:
        inner = _expr_unit(m.group(1), units)
        if inner not in BYTE_UNITS:
            raise UnitError(f"a bit rate of {m.group(1)!r}, which is not in bytes")
        return "bps"
    m = _QUOTED.match(expr)
    if m:
        if m.group(1) not in units:
            raise UnitError(f"unknown name {m.group(1)!r}")
        return units[m.group(1)]
    m = _CALL.match(expr)
    if m:
        fn, args = m.group(1).lower(), _split_top(m.group(2))
        if fn == "count":
            return COUNT
        if fn not in SAME_UNIT or not args:
            raise UnitError(f"no unit rule for {fn}()")
        unit = _expr_unit(args[0], units)
        if fn == "sum" and unit == "bool":
            return COUNT  # how many are up
        return unit
    raise UnitError(f"cannot type {expr!r}")


def query_columns(query: str) -> list[Column]:
    """The columns a SELECT returns (tags of GROUP BY included), each with its unit."""
    text = query.strip()
    if not text.upper().startswith("SELECT "):
        raise UnitError("not a SELECT")
    body = text[7:]
    at = _find_from(body)
    select_list, rest = body[:at], body[at + 6 :].strip()
    if rest.startswith("("):
        end, depth = 0, 0
        for end, ch in enumerate(rest):  # noqa: B007 - `end` is used after the loop
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if depth == 0:
                break
        source, tail = rest[: end + 1], rest[end + 1 :]
    else:
        source, _, tail = rest.partition(" ")
    units, tags = _source_units(source)
    cols: list[Column] = []
    for item in _split_top(select_list):
        m = _AS.match(item)
        expr, alias = (m.group(1), m.group(2)) if m else (item, None)
        q = _QUOTED.match(expr.strip())
        name = alias or (q.group(1) if q else None)
        if name is None:
            raise UnitError(f"column {expr!r} has no name")
        cols.append(Column(name, _expr_unit(expr, units)))
        call = _CALL.match(expr.strip())
        if call and call.group(1).lower() in ("top", "bottom"):  # top(x, "tag", n) returns the tag too
            for arg in _split_top(call.group(2))[1:]:
                t = _QUOTED.match(arg)
                if t and t.group(1) in tags:
                    cols.append(Column(t.group(1), None))
    group = re.search(r"\bGROUP BY\s+(.+?)(?:\s+fill\(|\s+ORDER\b|\s+LIMIT\b|$)", tail, re.I | re.S)
    if group:
        for g in _split_top(group.group(1)):
            t = _QUOTED.match(g)
            if t:
                cols.append(Column(t.group(1), None))
    return cols


def _overrides(panel: dict[str, Any], matcher: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for o in panel.get("fieldConfig", {}).get("overrides", []):
        if o.get("matcher", {}).get("id") == matcher:
            out[str(o["matcher"].get("options"))] = {p["id"]: p.get("value") for p in o.get("properties", [])}
    return out


def _check_coded(where: str, unit: str | None, mappings: Any, add: Any) -> None:
    if unit in CODED_UNITS and not mappings:
        add(where, f"coded values (unit {unit!r}) shown as raw numbers: add value mappings")


def lint_dashboard(d: dict[str, Any], locale: str) -> list[Problem]:
    uid = d.get("uid", "(no uid)")
    words = set(catalog(locale).values())
    problems: list[Problem] = []

    def add(where: str, message: str) -> None:
        problems.append(Problem(f"{uid} / {where}", message))

    for p in panels_of(d):
        ptype, title = p.get("type"), p.get("title", "(untitled)")
        if ptype == "row":
            continue
        defaults = p.get("fieldConfig", {}).get("defaults", {})
        by_name, by_ref = _overrides(p, "byName"), _overrides(p, "byFrameRefID")
        for t in p.get("targets", []):
            ref = t.get("refId", "?")
            try:
                cols = query_columns(t.get("query", "")) if ptype not in OWN_UNITS else []
            except (UnitError, ValueError) as exc:
                add(f"{title} / {ref}", f"cannot work out the columns' units: {exc}")
                continue
            if ptype == "table":
                for c in cols:
                    props = by_name.get(c.name, {})
                    header = props.get("displayName")
                    if header is None or header not in words:
                        add(
                            f"{title} / {c.name}",
                            f"table header {header or c.name!r} is not a {locale} catalogue text",
                        )
                    if c.unit is None:
                        continue
                    unit = props.get("unit", defaults.get("unit"))
                    if unit != c.unit:
                        add(
                            f"{title} / {c.name}",
                            f"column unit is {unit!r}, its schema field's is {c.unit!r}",
                        )
                    _check_coded(f"{title} / {c.name}", c.unit, props.get("mappings"), add)
                time_props = by_name.get("Time", {})
                if not time_props.get("custom.hidden") and time_props.get("displayName") not in words:
                    add(f"{title} / Time", "the Time column is neither hidden nor given a header")
                continue
            unit = by_ref.get(ref, {}).get("unit", defaults.get("unit"))
            for c in cols if ptype not in OWN_UNITS else ():
                if c.unit is not None and unit != c.unit:
                    add(f"{title} / {ref} / {c.name}", f"unit is {unit!r}, its schema field's is {c.unit!r}")
                    _check_coded(f"{title} / {ref}", c.unit, None, add)
                if c.unit is not None:
                    _check_coded(f"{title} / {ref}", c.unit, defaults.get("mappings"), add)
            if ptype in LEGEND_PANELS and t.get("resultFormat") != "table":
                alias = t.get("alias")
                if not alias:
                    add(
                        f"{title} / {ref}",
                        "series without an alias: Grafana would show the query's column names",
                    )
                    continue
                if "$col" in alias or "$m" in alias.replace("$measurement", "$m"):
                    add(f"{title} / {ref}", f"legend {alias!r} shows query aliases ($col / $m), not words")
                rest = _TAG_PLACEHOLDER.sub(" ", alias).strip()
                if rest and rest not in words:
                    add(f"{title} / {ref}", f"legend text {rest!r} is not a {locale} catalogue text")
    return problems


def lint_dashboards(dashboards: Iterable[dict[str, Any]], locale: str) -> list[Problem]:
    return [p for d in dashboards for p in lint_dashboard(d, locale)]


def locale_problems(builds: dict[str, list[dict[str, Any]]]) -> list[Problem]:
    """Builds of several languages installed side by side: no uid may be shared."""
    seen: dict[str, str] = {}
    out: list[Problem] = []
    for loc, dashboards in builds.items():
        for d in dashboards:
            uid = d.get("uid", "")
            if uid in seen:
                out.append(Problem(uid, f"uid used by both the {seen[uid]} and the {loc} build"))
            seen[uid] = loc
    return out
