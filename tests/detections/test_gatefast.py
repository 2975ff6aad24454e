"""`_gatefast.scan_fields`, Engine.process's loop over an event's gated fields in C, does what
its reference does (engine.scan_fields_reference): the same candidates, the same lowercase
cache, the same values remembered by each gate, the same errors; on fields of every type a
Sigma event holds, given as a dict or as any other mapping. (On SigmaHQ's Windows rules and
regression records, lazy EVTX fields: test_windows_sigmahq.py.)"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nocsoc.detections.engine as engine_mod
from nocsoc.detections.engine import Engine, Route, scan_fields_reference
from nocsoc.detections.loader import RuleSet
from nocsoc.events import LogEvent
from tests.detections.test_compiler import rule

gatefast = pytest.importorskip("nocsoc.detections._gatefast",
                               reason="C accelerator not built (tests/test_speedups.py says so)")

RULES = [
    "    sel:\n        Image|endswith: '\\\\csi.exe'\n    condition: sel",
    "    sel:\n        CommandLine|contains: ['whoami', 'net', ' -e']\n    condition: sel",
    "    sel:\n        CommandLine|contains|all: ['net', 'user']\n        Image|contains: 'net'\n"
    "    condition: sel",
    "    sel:\n        EventID: [4688, 1]\n        User: 'SYSTEM'\n    condition: sel",
    "    sel:\n        DestinationPort: [22, 3389]\n    condition: sel",
    "    sel:\n        User|startswith: 'adm'\n    condition: sel",
]
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5000), st.sampled_from([22, 3389, 4688, 1, 1.0, 22.0, 2**70]),
    st.floats(allow_nan=True),
    st.sampled_from(["C:\\csi.exe", "c:\\NET.exe", "net user x", "whoami", "SYSTEM", "system", "admin",
                     "Adm\u0130n", "22", " -e ", ""]),
    st.text(max_size=12), st.lists(st.sampled_from(["net", "user"]), max_size=2))
NAMES = ["Image", "CommandLine", "EventID", "User", "DestinationPort", "Other"]
EVENTS = st.lists(st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=6), min_size=1, max_size=30)


def _route() -> Route:
    rules = [dataclasses.replace(rule(d), id=f"r{i}") for i, d in enumerate(RULES)]
    return Engine(RuleSet(rules, [])).route(LogEvent("x", {}, product="linux"))


class _Mapping(Mapping[str, Any]):
    """A mapping that is no dict (as EVTX's Fields is not): read through its `get`."""

    def __init__(self, d: dict[str, Any]) -> None:
        self.d = d

    def __getitem__(self, k: str) -> Any:
        return self.d[k]

    def __iter__(self) -> Any:
        return iter(self.d)

    def __len__(self) -> int:
        return len(self.d)


def _typed(x: Any) -> Any:
    """Values with their types (1 == 1.0 == True), tuples of slots by content."""
    if isinstance(x, dict):
        return [(_typed(k), _typed(v)) for k, v in x.items()]
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_typed(v) for v in x])
    return (type(x).__name__, repr(x))


def _memos(route: Route) -> Any:
    return [(_typed(fs.memo), _typed(fs.ints)) for fs in route.field_scans]


@settings(max_examples=300, deadline=None)
@given(EVENTS, st.booleans())
def test_scan_fields_equals_its_reference(events: list[dict[str, Any]], as_mapping: bool) -> None:
    """Two routes of the same rules, one driven by each, event after event (values met again
    answered from what the gates remember): equal results, lowercase caches and memories."""
    c, py = _route(), _route()
    assert len(c.gates) >= 4
    for f in events * 2:
        fields: Any = _Mapping(f) if as_mapping else f
        lo_c: dict[str, Any] = {"kept": 1}
        lo_py: dict[str, Any] = {"kept": 1}
        got = gatefast.scan_fields(c.gates, fields, lo_c)
        want = scan_fields_reference(py.gates, fields, lo_py)
        assert _typed(got) == _typed(want)
        assert _typed(lo_c) == _typed(lo_py)
    assert _memos(c) == _memos(py)


def test_candidates_are_the_gates_own_tuples() -> None:
    """Route.candidates keys on the ids of what the gates admitted: the C loop hands over the
    very tuples the reference does, not copies."""
    route = _route()
    fields = {"Image": "C:\\net.exe", "CommandLine": "net user x", "User": "SYSTEM", "EventID": 1}
    want = scan_fields_reference(route.gates, fields, {})
    got = gatefast.scan_fields(route.gates, fields, {})
    assert want and len(got) == len(want) and all(a is b for a, b in zip(got, want, strict=True))
    assert gatefast.scan_fields(route.gates, {"Other": "x"}, {}) is None
    assert gatefast.scan_fields((), fields, {}) is None


def test_errors_as_the_reference_raises_them() -> None:
    """A gate that raises, a mapping whose get raises, an unhashable value in a memo lookup (a
    list is looked up nowhere: no error), a malformed spec: the same exception, nothing kept."""
    def boom(v: Any) -> Any:
        raise ValueError("gate")

    spec = (("A", {}, {}, boom),)
    for scan in (gatefast.scan_fields, scan_fields_reference):
        with pytest.raises(ValueError, match="gate"):
            scan(spec, {"A": "x"}, {})

    class Bad(_Mapping):
        def get(self, k: str, default: Any = None) -> Any:  # type: ignore[override]
            raise KeyError("get")

    for scan in (gatefast.scan_fields, scan_fields_reference):
        with pytest.raises(KeyError, match="get"):
            scan(spec, Bad({}), {})
    assert gatefast.scan_fields((("A", {}, {}, lambda v: ("l", ())),), {"A": ["x"]}, {}) is None
    for bad in ([("A", {}, {}, boom)], (("A", {}, {}),), (("A", [], {}, boom),)):
        with pytest.raises(TypeError):
            gatefast.scan_fields(bad, {"A": "x"}, {})
    with pytest.raises(TypeError):
        gatefast.scan_fields((), {}, [])
    with pytest.raises(TypeError):  # a gate must give (lowercase, slots)
        gatefast.scan_fields((("A", {}, {}, lambda v: "x"),), {"A": "x"}, {})


def test_a_mapping_types_get_is_looked_up_each_time_unless_it_cannot_change() -> None:
    """The C loop keeps the `get` of a type nothing can change (a C type's); a Python class's
    `get`, replaced between two calls, is the one called."""
    class M(_Mapping):
        pass

    spec = (("A", {}, {}, lambda v: (str(v).lower(), ((1,),))),)
    m = M({"A": "X"})
    lo: dict[str, Any] = {}
    assert gatefast.scan_fields(spec, m, lo) == [(1,)] and lo == {"A": "x"}
    M.get = lambda self, k, default=None: None  # type: ignore[method-assign,assignment]
    assert gatefast.scan_fields(spec, m, {}) is None


def test_the_engine_uses_it_where_built() -> None:
    """NOCSOC_ENGINE_GATES=python is the reference path (read at import); by default, C."""
    assert engine_mod._scan_fields in (gatefast.scan_fields, scan_fields_reference)
