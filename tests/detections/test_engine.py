"""The engine's logsource routing and needle gates change speed, never results."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bench.bench_detections import make_lines
from nocsoc.detections.engine import Engine
from nocsoc.detections.loader import RuleSet, load_rules
from nocsoc.detections.ruletest import parse_lines


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
