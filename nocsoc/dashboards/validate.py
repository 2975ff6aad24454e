"""nocsoc's own checks on generated dashboards and alert rules, beyond Grafana's JSON Schemas.

Grafana does not validate a dashboard on save: an overlapping panel, a refId used twice, an
undefined `$variable` or a field renamed in the schema all load fine and show an empty panel.
These checks read the rendered JSON (not the builders), so they also catch hand edits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from nocsoc.dashboards import weathermap_model
from nocsoc.dashboards.macros import variables_used
from nocsoc.schema import REGISTRY

GRID_WIDTH = 24
# Panel plugins that ship no JSON Schema, validated against their documented option model
PLUGIN_MODELS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    weathermap_model.PANEL_TYPE: weathermap_model.model_problems,
}
_STRING = re.compile(r"'(?:\\.|[^'\\])*'")
_REGEX_LIT = re.compile(r"([=!]~\s*)/(?:\\.|[^/\\])*/")
_IDENT = re.compile(r'"((?:\\.|[^"\\])*)"')
_FROM_NAME = re.compile(r'\bFROM\s+"((?:\\.|[^"\\])*)"', re.IGNORECASE)
_FROM_BARE = re.compile(r"\bFROM\s+([A-Za-z_][\w.]*)", re.IGNORECASE)
_ALIAS = re.compile(r'\bAS\s+"((?:\\.|[^"\\])*)"', re.IGNORECASE)
_SUB = "\x00SUB{}\x00"


@dataclass(frozen=True)
class Problem:
    where: str  # "dashboard uid / panel title / refId"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def panels_of(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows and panels inside collapsed rows included."""
    for p in dashboard.get("panels", []):
        yield p
        yield from p.get("panels", []) if p.get("type") == "row" else ()


# -- query names ---------------------------------------------------------------------------


def _split_subqueries(text: str) -> tuple[str, list[str]]:
    """Replace each top-level `(SELECT ...)` with a placeholder; return the text and the subqueries."""
    subs: list[str] = []
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "(" and re.match(r"\(\s*SELECT\b", text[i:], re.IGNORECASE):
            depth, j = 0, i
            while j < len(text):
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                if depth == 0:
                    break
                j += 1
            subs.append(text[i + 1 : j])
            out.append(_SUB.format(len(subs) - 1))
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out), subs


def query_name_problems(query: str) -> tuple[list[str], set[str]]:
    """(problems, names visible to an outer query) for one InfluxQL statement."""
    clean = _REGEX_LIT.sub(r"\1/re/", _STRING.sub("''", query))
    top, subs = _split_subqueries(clean)
    problems: list[str] = []
    visible: set[str] = set()
    for sub in subs:
        sub_problems, sub_visible = query_name_problems(sub)
        problems += sub_problems
        visible |= sub_visible
    allowed = set(visible)
    from_names = _FROM_NAME.findall(top)
    for bare in _FROM_BARE.findall(top):
        problems.append(f"measurement {bare!r} is not quoted (nocsoc always quotes identifiers)")
    for name in from_names:
        m = REGISTRY.get(name)
        if m is None:
            problems.append(f"measurement {name!r} is not in the schema")
            continue
        allowed |= m.tag_names | set(m.field_names)
    aliases = set(_ALIAS.findall(top))
    show = re.match(r"\s*SHOW\s+TAG\s+VALUES\b", top, re.IGNORECASE)
    for ident in _IDENT.findall(top):
        if ident in from_names or ident in aliases:
            continue
        if ident not in allowed:
            kind = "tag" if show else "field or tag"
            problems.append(
                f"{kind} {ident!r} is not in measurement(s) "
                f"{', '.join(from_names) or '(subquery)'} of the schema"
            )
    if not from_names and not subs:
        problems.append("query names no measurement")
    return problems, allowed | aliases


# -- dashboards -----------------------------------------------------------------------------


def _overlaps(a: dict[str, int], b: dict[str, int]) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def check_dashboard(d: dict[str, Any]) -> list[Problem]:
    uid = d.get("uid") or "(no uid)"
    problems: list[Problem] = []

    def add(where: str, msg: str) -> None:
        problems.append(Problem(f"{uid}{' / ' + where if where else ''}", msg))

    if not d.get("uid"):
        add("", "dashboard has no uid")
    defined = {v.get("name") for v in d.get("templating", {}).get("list", [])}
    for v in d.get("templating", {}).get("list", []):
        q = v.get("query")
        text = q if isinstance(q, str) else json.dumps(q)
        for name in sorted(variables_used(text) - defined):
            add(f"variable {v.get('name')}", f"query uses undefined variable ${name}")
        if v.get("type") == "query" and isinstance(q, str):
            for msg in query_name_problems(q)[0]:
                add(f"variable {v.get('name')}", msg)
    ids: dict[Any, str] = {}
    placed: list[tuple[str, dict[str, int]]] = []
    for p in panels_of(d):
        title = p.get("title", "(untitled)")
        pid = p.get("id")
        if pid is None:
            add(title, "panel has no id")
        elif pid in ids:
            add(title, f"panel id {pid} also used by {ids[pid]!r}")
        else:
            ids[pid] = title
        gp = p.get("gridPos")
        if not gp:
            add(title, "panel has no gridPos")
        else:
            if gp["x"] < 0 or gp["w"] <= 0 or gp["x"] + gp["w"] > GRID_WIDTH or gp["h"] <= 0:
                add(title, f"gridPos {gp} outside the {GRID_WIDTH}-column grid")
            for other, ogp in placed:
                if _overlaps(gp, ogp):
                    add(title, f"gridPos {gp} overlaps panel {other!r} at {ogp}")
            placed.append((title, gp))
        refs: set[str] = set()
        for t in p.get("targets", []):
            ref = t.get("refId")
            if not ref:
                add(title, "target without refId")
            elif ref in refs:
                add(title, f"refId {ref} used twice")
            refs.add(ref or "")
            query = t.get("query", "")
            for name in sorted(variables_used(query) - defined):
                add(f"{title} / {ref}", f"query uses undefined variable ${name}")
            for msg in query_name_problems(query)[0]:
                add(f"{title} / {ref}", msg)
    return problems


def _by_uid(items: Iterable[dict[str, Any]], missing: str, what: str,
            problems: list[Problem]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each item with its uid (`missing` when it has none); a uid seen before adds the problem
    "<what> uid used twice" to `problems` before the item is yielded, keeping their order."""
    seen: set[str] = set()
    for item in items:
        uid = item.get("uid", missing)
        if uid in seen:
            problems.append(Problem(uid, f"{what} uid used twice"))
        seen.add(uid)
        yield uid, item


def check_dashboards(dashboards: Iterable[dict[str, Any]]) -> list[Problem]:
    problems: list[Problem] = []
    for _uid, d in _by_uid(dashboards, "", "dashboard", problems):
        problems += check_dashboard(d)
    return problems


def check_alert_rules(rules: Iterable[dict[str, Any]]) -> list[Problem]:
    """Unique rule uids and refIds; the condition names a refId; query names exist in the schema."""
    problems: list[Problem] = []
    for uid, r in _by_uid(rules, "(no uid)", "alert rule", problems):
        refs = [q.get("refId") for q in r.get("data", [])]
        if len(refs) != len(set(refs)):
            problems.append(Problem(uid, f"refIds not unique: {refs}"))
        if r.get("condition") not in refs:
            problems.append(Problem(uid, f"condition {r.get('condition')!r} is not one of {refs}"))
        for q in r.get("data", []):
            query = q.get("model", {}).get("query")
            if isinstance(query, str):
                problems += [Problem(f"{uid} / {q.get('refId')}", m) for m in query_name_problems(query)[0]]
                problems += [
                    Problem(f"{uid} / {q.get('refId')}", f"alert query uses variable ${v}")
                    for v in sorted(variables_used(query))
                ]
    return problems


# -- Grafana's JSON Schemas -----------------------------------------------------------------


# Fields Grafana's CUE kinds declare as `_` (any value) but the generated JSON Schemas render as
# an open object: an override's `{"id": "unit", "value": "bps"}` (what Grafana's own UI saves) and
# a `byName` matcher's `{"options": "in_bps"}` would fail. Those two are validated as "any".
_ANY_VALUED = (("DynamicConfigValue", "value"), ("MatcherConfig", "options"))


@cache
def _schema_doc(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    defs = data.get("definitions", {})
    for name, prop in _ANY_VALUED:
        if prop in defs.get(name, {}).get("properties", {}):
            defs[name]["properties"][prop] = {}
    return data


def schema_errors(dashboard: dict[str, Any], schema_dir: Path) -> list[Problem]:
    """Validate against Grafana's draft-07 JSON Schemas: the dashboard, then each panel type's
    Options and FieldConfig (the dashboard schema leaves those open)."""
    import jsonschema

    uid = dashboard.get("uid", "(no uid)")
    out: list[Problem] = []
    doc = _schema_doc(schema_dir / "dashboard.jsonschema.json")
    for e in jsonschema.Draft7Validator(doc).iter_errors(dashboard):
        out.append(Problem(f"{uid} / {'/'.join(map(str, e.absolute_path))}", e.message))
    for p in panels_of(dashboard):
        ptype = p.get("type")
        if ptype == "row":
            continue
        plugin_check = PLUGIN_MODELS.get(str(ptype))
        if plugin_check is not None:  # a plugin without a JSON Schema: its own option model
            out += [
                Problem(f"{uid} / {p.get('title')} / options", m) for m in plugin_check(p.get("options", {}))
            ]
            continue
        path = schema_dir / f"{str(ptype).replace('-', '')}.jsonschema.json"  # state-timeline
        if not path.exists():
            out.append(Problem(f"{uid} / {p.get('title')}", f"no JSON Schema for panel type {ptype!r}"))
            continue
        pdoc = _schema_doc(path)
        defs = pdoc.get("definitions", {})
        parts = [
            ("Options", p.get("options", {})),
            ("FieldConfig", p.get("fieldConfig", {}).get("defaults", {}).get("custom")),
        ]
        for defname, value in parts:
            if defname not in defs or value is None:
                continue
            sub = {"$ref": f"#/definitions/{defname}", "definitions": defs}
            for e in jsonschema.Draft7Validator(sub).iter_errors(value):
                where = f"{uid} / {p.get('title')} / {defname}/{'/'.join(map(str, e.absolute_path))}"
                out.append(Problem(where, e.message))
    return out
