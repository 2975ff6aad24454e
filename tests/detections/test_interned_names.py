"""The field names the engine looks up in an event's fields are interned, as the parsers' own
names are (the C parsers' key objects, Python's name-like literals): a dict a C parser presized
(general keys in CPython 3.11) then finds them by identity instead of comparing equal strs in
full. Checked on the built-in rules over the bench's events: every gate's field, every str
constant of the generated rule functions (`c-ip`, `cs-uri-query`: not name-like, so not interned
by the compiler), every correlation's group-by and value field, and what a detection names."""

from __future__ import annotations

import sys

from bench.bench_detections import make_lines
from nocsoc.collectors.logs.ruletest import parse_lines
from nocsoc.detections import engine as engine_mod
from nocsoc.detections.codegen import interned_consts
from nocsoc.detections.engine import Engine
from nocsoc.detections.loader import load_rules


def _interned(s: str) -> bool:
    """Whether `s` is the interned object itself (interning a copy gives it back), without
    interning `s` as a side effect."""
    return sys.intern(s.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")) is s


def _strs(code: object) -> list[str]:
    out: list[str] = []
    for k in getattr(code, "co_consts", ()):
        if type(k) is str:
            out.append(k)
        else:
            out += _strs(k)
    return out


def test_names_the_engine_looks_up_are_interned() -> None:
    rs = load_rules([], include_builtin=True)
    engine = Engine(rs)
    for ev in parse_lines(make_lines(3000)):
        engine.process(ev)
    routes = list(engine._routes.values())
    assert len(routes) >= 5
    gates = [fs.field for r in routes for fs in r.field_scans]
    assert "cs-uri-query" in gates and all(_interned(f) for f in gates)
    consts = [k for r in routes for _, fn in r.calls for k in _strs(getattr(fn, "__code__", None))]
    assert "c-ip" in consts or "sc-status" in consts
    assert all(_interned(k) for k in consts)
    names = [f for tr in engine.trackers for fs in tr._key_fields.values() for f in fs]
    names += [f for tr in engine.trackers for f in tr._value_fields.values() if f]
    assert "c-ip" in names and all(_interned(f) for f in names)
    assert all(_interned(n) for group in engine_mod._WHO for n in group)


def test_interned_consts_keeps_the_code_and_its_values() -> None:
    src = "def f(d):\n    return d.get('cs-uri-query'), [x for x in d if x == 'c-ip!'], 1.5, None\n"
    ns: dict[str, object] = {}
    exec(interned_consts(compile(src, "<t>", "exec")), ns)
    f = ns["f"]
    assert f({"cs-uri-query": 1, "c-ip!": 2}) == (1, ["c-ip!"], 1.5, None)  # type: ignore[operator]
    assert all(_interned(k) for k in _strs(f.__code__))  # type: ignore[attr-defined]
