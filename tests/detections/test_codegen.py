"""The generated rule functions (nocsoc.detections.codegen) against their reference, the
compiler's closures: the same result, or the same exception, for every rule SigmaHQ ships and
the built-in pack, on the bench's events, SigmaHQ's Windows regression records, and fuzzed
values built from each rule's own literals (case, Unicode whose lowercase changes length, None,
numbers, lists, pieces cut and padded)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from sigma.conditions import ConditionFieldEqualsValueExpression, ConditionItem
from sigma.types import SigmaExpansion, SigmaString

from nocsoc.detections import codegen
from nocsoc.detections.compiler import CompiledRule
from nocsoc.detections.loader import load_rules
from nocsoc.events import LogEvent
from tests.conftest import SHARED


def _outcome(fn: Any, e: LogEvent) -> Any:
    e._low = None  # each side fills its own lowercase cache
    try:
        return bool(fn(e))
    except Exception as exc:  # the engine counts these: both sides must raise alike
        return type(exc).__name__


def _diffs(rules: list[CompiledRule], events: list[LogEvent]) -> tuple[list[str], int]:
    bad, hits = [], 0
    for r in rules:
        assert r.ref is not None
        fast = r.fast or r.ref
        for e in events:
            want = _outcome(r.ref, e)
            got = _outcome(fast, e)
            hits += want is True
            if got != want:
                bad.append(f"{r.title}: {want} != {got} on {e.fields!r} / {e.raw[:200]!r}")
    return bad, hits


def _literals(node: Any, out: list[tuple[str | None, str]]) -> None:
    if isinstance(node, ConditionItem):
        for a in node.args:
            _literals(a, out)
        return
    fname = node.field if isinstance(node, ConditionFieldEqualsValueExpression) else None
    values = node.value.values if isinstance(node.value, SigmaExpansion) else [getattr(node, "value", None)]
    for v in values:
        if isinstance(v, SigmaString):
            out.append((fname, "".join(p if isinstance(p, str) else "*" for p in v.s)))
        elif v is not None:
            out.append((fname, str(v)))


def _variants(text: str, rnd: random.Random) -> Iterator[Any]:
    core = text.strip("*")
    yield core
    yield core.upper()
    yield core.swapcase()
    yield "x" + core + "y"
    yield core[: max(0, len(core) - 1)]
    yield core.replace("i", "\u0130").replace("k", "\u212a")  # lowercase: other characters/length
    yield core.replace("*", rnd.choice(["", "ab", "\u1ea1", "\x00"]))
    yield [core]
    yield 3
    yield 443.0
    yield True
    yield ""


def _fuzzed(r: CompiledRule, rnd: random.Random, n: int = 12) -> list[LogEvent]:
    lits: list[tuple[str | None, str]] = []
    for c in r.rule.detection.parsed_condition:
        _literals(c.parsed, lits)
    names = sorted({f for f, _ in lits if f is not None})
    texts = [t for _, t in lits] or ["x"]
    out = []
    for _ in range(n):
        fields: dict[str, Any] = {}
        for f in names:
            if rnd.random() < 0.15:
                continue  # the field absent
            mine = [t for g, t in lits if g == f] or texts
            fields[f] = rnd.choice(list(_variants(rnd.choice(mine), rnd)))
        raw = " ".join(str(v) for v in _variants(rnd.choice(texts), rnd) if rnd.random() < 0.4)
        out.append(LogEvent(raw, fields, time=1795568523.0))
    return out


def _rulesets() -> list[Any]:
    root = SHARED / "sigmahq"
    if not (root / "rules").is_dir():
        pytest.skip(f"{root}/rules not present")
    return [load_rules([root / "rules" / d for d in ("linux", "web", "network")], include_builtin=True),
            load_rules([root / "rules" / "windows", root / "rules-emerging-threats",
                        root / "rules-threat-hunting"], include_builtin=True)]


@pytest.fixture(scope="module")
def rulesets() -> list[Any]:
    return _rulesets()


def _bench_events() -> list[LogEvent]:
    from bench.bench_detections import make_lines, sample_lines
    from nocsoc.collectors.logs.ruletest import parse_lines

    return list(parse_lines(make_lines(3000))) + list(parse_lines(sample_lines(1500)))


def _regression_events() -> list[LogEvent]:
    from nocsoc.collectors.windows.evtx import read_evtx
    from nocsoc.collectors.windows.report import InputReport

    files = sorted((SHARED / "sigmahq" / "regression_data").rglob("*.evtx"))
    return [ev for f in files for ev in read_evtx(f, InputReport(f.name), threads=1)]


def test_every_rule_is_generated(rulesets: list[Any]) -> None:
    for rs in rulesets:
        assert [r.title for r in rs.rules if r.fast is None or r.match is not r.fast] == []
    # what calls the compiler's closure inside the generated code (rare value types)
    assert set(codegen.FALLBACKS) <= {"SigmaCIDRExpression", "SigmaCompareExpression", "SigmaBool",
                                      "SigmaFieldReference", "SigmaTimestampPart"}


def test_generated_equals_closures_on_bench_and_regression_events(rulesets: list[Any]) -> None:
    logs, windows = _bench_events(), _regression_events()
    assert len(logs) == 4500 and len(windows) > 200
    bad, hits = _diffs(rulesets[0].rules, logs + windows)
    assert bad == [] and hits > 1000  # the events do hit: not a comparison of falses only
    bad, hits = _diffs(rulesets[1].rules, windows + logs[::10])
    assert bad == [] and hits > 300


def test_generated_equals_closures_on_fuzzed_values(rulesets: list[Any]) -> None:
    rnd = random.Random(16)
    hits = 0
    for rs in rulesets:
        for r in rs.rules:
            bad, h = _diffs([r], _fuzzed(r, rnd))
            assert bad == []
            hits += h
    assert hits > 500


def test_compare_written_out_equals_its_closure() -> None:
    """`sc-status|gte: 400` and the other comparisons are written out in the generated code
    (the web's client-error rule runs on every access line): the same result as the compiler's
    closure for every operator, on numbers, number-like texts and values that are no number."""
    from sigma.rule import SigmaRule

    from nocsoc.detections.compiler import compile_rule

    values: list[Any] = [None, "", "abc", "400", " 450 ", "4e2", "0x190", "nan", "inf", "-inf", "399.5",
                         "\u0664\u0660\u0660", 400, 400.0, 399, 401, True, False, float("nan"), [400],
                         "1_000"]
    seen = 0
    for op in ("lt", "lte", "gt", "gte"):
        for bound in ("400", "399.5", "-1"):
            text = f"""
title: t
logsource: {{product: linux}}
detection:
    sel:
        n|{op}: {bound}
    condition: sel and not nope
    nope:
        m|{op}: 0
"""
            r = compile_rule(SigmaRule.from_yaml(text))
            assert r.fast is not None and r.match is r.fast and r.ref is not None
            assert "x " in codegen.generate([c.parsed for c in r.rule.detection.parsed_condition])[0]
            for v in values:
                for m in (None, 5, -5):
                    e = LogEvent("", {"n": v, "m": m})
                    want = _outcome(r.ref, e)
                    assert _outcome(r.fast, e) == want, (op, bound, v, m)
                    seen += want is True
    assert seen > 50


def test_source_holds_literals_escaped() -> None:
    """A rule's strings go into the source as repr() literals: quotes, newlines and backslashes
    in a value or a field name are data, never code."""
    from sigma.rule import SigmaRule

    text = """
title: "t'\\n\\"x"
logsource: {product: linux}
detection:
    sel:
        "a'b\\"c":
            - "it's \\"quoted\\"\\nnext"
            - 'back\\\\slash'
    condition: sel
"""
    from nocsoc.detections.compiler import compile_rule

    r = compile_rule(SigmaRule.from_yaml(text))
    assert r.fast is not None and r.match is r.fast
    name = "a'b\"c"
    assert r.match(LogEvent("", {name: "IT'S \"QUOTED\"\nNEXT"}))
    assert r.match(LogEvent("", {name: "back\\slash"}))
    assert not r.match(LogEvent("", {name: "back\\\\slash"}))
    assert not r.match(LogEvent("", {"a": "it's"}))


def _gating_misses(rulesets: list[Any], rnd: random.Random) -> tuple[list[str], int]:
    """Events fuzzed from each rule's own literals, in its logsource, through an engine of all
    the rules gated by their needles: every event the rule matches (its closures say so) must
    have run it. (rule titles missed, matches checked)"""
    import nocsoc.detections.engine as engine_mod
    from nocsoc.detections.engine import Engine

    ran: set[int] = set()
    plain_call = engine_mod._call

    def recorded(rule: CompiledRule) -> Any:
        r, fn = plain_call(rule)

        def run(e: LogEvent, lo: Any, f: Any) -> bool:
            ran.add(id(r))
            return fn(e, lo, f)
        return r, run
    missed, checked = [], 0
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine_mod, "_call", recorded)
        for rs in rulesets:
            engine = Engine(rs)
            for r in rs.rules:
                assert r.ref is not None
                for e in _fuzzed(r, rnd, 4):
                    e.product = r.product
                    e.services = (r.service,) if r.service else ()
                    e.categories = (r.category,) if r.category else ()
                    e.route_key = (e.product, e.services, e.categories)
                    if _outcome(r.ref, e) is not True:
                        continue
                    checked += 1
                    ran.clear()
                    e._low = None
                    engine.process(e)
                    if id(r) not in ran:
                        missed.append(r.title)
    return missed, checked


def test_needle_gates_never_hide_a_match_of_a_fuzzed_event(rulesets: list[Any]) -> None:
    """The engine's gates (needles per field, short needles apart, second gates, the raw
    line's case-free prefilter, regex needles) on every rule: an event the rule matches always
    runs it. With the short needles ignored (a mutation), matches are hidden: this can fail."""
    missed, checked = _gating_misses(rulesets, random.Random(16))
    assert missed == [] and checked > 500
    import nocsoc.detections.engine as engine_mod

    def no_short(rules: list[CompiledRule]) -> Any:
        route = plain_build(rules)
        route.short = ()
        for fs in route.field_scans:
            fs.short = ()
        return route
    plain_build = engine_mod.build_route
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine_mod, "build_route", no_short)
        missed, _ = _gating_misses(rulesets, random.Random(16))
    assert len(missed) > 3
