"""The engine's logsource routing and needle gates change speed, never results."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from bench.bench_detections import make_lines
from nocsoc.collectors.logs.ruletest import parse_lines
from nocsoc.detections.engine import Engine
from nocsoc.detections.loader import RuleSet, load_rules
from nocsoc.events import LogEvent


def _signature(engine: Engine, lines: list[str]) -> list[tuple[str, str, bool, int, str]]:
    out = []
    for ev in parse_lines(lines):
        out += [(d.rule_id, d.group_key, d.new, d.count, ev.raw) for d in engine.process(ev)]
    return out


def test_gated_routing_gives_the_same_detections_as_testing_every_rule(shared_dir: Path) -> None:
    root = shared_dir / "sigmahq" / "rules"
    rs = load_rules([root / "linux", root / "web", root / "network"], include_builtin=True)
    # the same rules without needles: every rule of a route is tested on every event
    plain = RuleSet([dataclasses.replace(r, needles=None) for r in rs.rules], rs.correlations)
    lines = make_lines(6000, seed=11)
    gated = _signature(Engine(rs), lines)
    ungated = _signature(Engine(plain), lines)
    assert len(gated) > 500  # the mix does raise detections (web attacks, scanners, brute force...)
    assert gated == ungated
    # and routing: an event only meets rules of its logsource
    e = Engine(rs)
    web = next(parse_lines(['10.0.0.1 - - [25/Nov/2026:08:12:01 +0700] "GET / HTTP/1.1" 200 1 "-" "x"']))
    assert {r.category for r in e.route(web).rules} == {"webserver"}


def test_engines_of_one_rule_set_share_its_routes_and_no_other(shared_dir: Path) -> None:
    """A route is its rules' alone: a second engine of the same rules reuses the first one's
    (and its remembered field values) with the same detections; other rules, or the same rule set
    once its rules changed, get routes of their own."""
    root = shared_dir / "sigmahq" / "rules"
    rs = load_rules([root / "linux", root / "web"], include_builtin=True)
    lines = make_lines(3000, seed=5)
    first, second = Engine(rs), Engine(rs)
    assert _signature(first, lines) == _signature(second, lines)
    assert second._routes is first._routes and len(first._routes) > 1
    fewer = RuleSet(rs.rules[: len(rs.rules) // 2], rs.correlations)
    assert Engine(fewer)._routes is not first._routes
    web = next(parse_lines(['10.0.0.1 - - [25/Nov/2026:08:12:01 +0700] "GET / HTTP/1.1" 200 1 "-" "x"']))
    dropped = Engine(rs).route(web).rules[0]
    rs.rules.remove(dropped)  # the rule set changed: its next engine routes without that rule
    changed = Engine(rs)
    assert changed._routes is not first._routes
    assert dropped not in changed.route(web).rules


def test_one_scan_gate_never_hides_a_match_whatever_the_route_shape() -> None:
    """The Aho-Corasick gate searches the raw line and the needles' fields joined: an event whose
    raw line lacks the value (a derived field such as CommandLine) must still reach the rule, in
    routes gating on one field, a few fields, many fields, with and without keywords."""
    from tests.detections.test_compiler import CASES, rule

    fillers = {
        "one field": [],
        "few fields": ["    sel:\n        a0|contains: 'zzqx'\n        a1|contains: 'qqzx'\n"
                       "    condition: sel"],
        "many fields": [f"    sel:\n        f{i}|contains: 'zz{i}qx'\n    condition: sel" for i in range(6)],
        "keywords": ["    keywords:\n        - 'zzkwqx'\n    condition: keywords"],
    }
    checked = matched = 0
    for detection, yes, no in CASES:
        target = rule(detection)
        for shape, extra in fillers.items():
            others = [dataclasses.replace(rule(d), id=f"filler{i}") for i, d in enumerate(extra)]
            rs = RuleSet([target, *others], [])
            for fields in [*yes, *no]:
                def event(fields: dict[str, Any] = fields) -> LogEvent:  # values only in the fields
                    return LogEvent("unrelated raw text", dict(fields), time=1795568523.0, product="linux")
                fired = [d.rule_id for d in Engine(rs).process(event())]
                want = target.match(event())
                assert (target.id in fired) is want, (shape, detection, fields)
                checked += 1
                matched += want
    assert checked > 100 and matched > 40
