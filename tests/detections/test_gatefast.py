"""`_gatefast.scan_fields`, Engine.process's loop over an event's gated fields in C, does what
its reference does (engine.scan_fields_reference): the same candidates, the same lowercase
cache, the same values remembered by each gate, the same errors; on fields of every type a
Sigma event holds, given as a dict or as any other mapping. `_gatefast.dispatch`, the whole of
an event's gates and predicates, does what engine.dispatch_reference does: the same rules
matched, errors counted, caches and memories. (On SigmaHQ's Windows rules and regression
records, lazy EVTX fields: test_windows_sigmahq.py.)"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nocsoc.detections.engine as engine_mod
from nocsoc.detections.engine import (
    Engine,
    Route,
    RoutesReference,
    dispatch_reference,
    scan_fields_reference,
)
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


# keywords (the raw line): long ones (automaton), short ones (`find`), ASCII ones searched in the
# line's lowercased bytes, a non-ASCII one making its route search the str; one rule raising
KEYWORD_RULES = [
    "    keywords:\n        - 'whoami'\n        - 'net user'\n    condition: keywords",
    "    keywords:\n        - '~'\n        - '-e'\n    condition: keywords",
    "    sel:\n        CommandLine|contains: 'net'\n    keywords:\n        - ':'\n"
    "    condition: sel and keywords",
]
RAWS = st.lists(st.sampled_from(["whoami", "NET USER", "net", " ~ ", "-E", ":", "x", "boom", "\u0130",
                                 "\u212a", "\u0430"]), max_size=5).map(" ".join)


def _boom(e: Any) -> bool:
    if "boom" in e.raw:
        raise ValueError("a predicate bug")
    return "x" in e.raw


def _dispatch_engine(cyrillic: bool) -> Engine:
    defs = RULES + KEYWORD_RULES
    if cyrillic:
        defs = [*defs, "    keywords:\n        - '\u0430b'\n    condition: keywords"]
    rules = [dataclasses.replace(rule(d), id=f"r{i}") for i, d in enumerate(defs)]
    bad = dataclasses.replace(rule("    keywords:\n        - 'x'\n    condition: keywords"), id="bad",
                              match=_boom, fast=None, needles=None, needles2=None)
    return Engine(RuleSet([*rules, bad], []))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=6), RAWS),
                min_size=1, max_size=20), st.booleans(), st.booleans())
def test_dispatch_equals_its_reference(events: list[tuple[dict[str, Any], str]], as_mapping: bool,
                                       cyrillic: bool) -> None:
    """Two engines of the same rules, one dispatching with each, event after event (twice: the
    second time from what the gates remember): the same rules matched, in the same order, the
    same errors counted, lowercase caches, memories and remembered candidate sets."""
    c, py = _dispatch_engine(cyrillic), _dispatch_engine(cyrillic)
    errors = {"c": 0, "py": 0}

    def count(k: str) -> Any:
        def on_error() -> None:
            errors[k] += 1
        return on_error

    for f, raw in events * 2:
        fields: Any = _Mapping(f) if as_mapping else f
        ev_c, ev_py = LogEvent(raw, fields, product="linux"), LogEvent(raw, fields, product="linux")
        rc, rpy = c.route(ev_c), py.route(ev_py)
        got = gatefast.dispatch(rc.spec, ev_c, count("c"))
        want = dispatch_reference(rpy.spec, ev_py, count("py"))
        assert (got is None) == (want is None)
        assert [r.id for r in got or ()] == [r.id for r in want or ()]
        assert _typed(ev_c._low) == _typed(ev_py._low)
        assert sorted([r.id for r, _ in v] for v in rc.merged.values()) == \
            sorted([r.id for r, _ in v] for v in rpy.merged.values())
        assert _memos(rc) == _memos(rpy)
    assert errors["c"] == errors["py"]
    assert (rc.haystack is LogEvent.raw_lower) is cyrillic  # both kinds of haystack are covered


def test_dispatch_lets_what_is_no_exception_through() -> None:
    """A predicate's Exception is counted (`on_error`) and the others run; KeyboardInterrupt goes
    through, as out of the reference's `except Exception`; a malformed spec is a TypeError."""
    engine = _dispatch_engine(False)
    ev = LogEvent("boom whoami", {}, product="linux")
    spec = engine.route(ev).spec
    seen: list[int] = []
    for dispatch in (gatefast.dispatch, dispatch_reference):
        got = dispatch(spec, LogEvent("boom whoami", {}, product="linux"), lambda: seen.append(1))
        assert [r.id for r in got or ()] == ["r6"]
    assert seen == [1, 1]

    def stop(e: Any) -> bool:
        raise KeyboardInterrupt

    calls = [(None, lambda e, lo, f: stop(e))]
    stopping = (*spec[:9], calls, spec[10])
    for dispatch in (gatefast.dispatch, dispatch_reference):
        with pytest.raises(KeyboardInterrupt):
            dispatch(stopping, LogEvent("q", {}, product="linux"), lambda: None)
    for bad in (spec[:10], [*spec], (*spec[:9], tuple(calls), spec[10])):
        with pytest.raises(TypeError):
            gatefast.dispatch(bad, LogEvent("q", {}, product="linux"), lambda: None)


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
    assert engine_mod._Routes in (gatefast.Routes, RoutesReference)


# ---- Routes: an event's route by its key, remembered by identity ------------------------------

# route keys: logsources of the dispatch rules (linux) and others (no rules); given as the
# one object of each kind (as the C reader hands them out) or as an equal tuple made anew
KINDS = [("linux", (), ()), ("linux", ("sshd",), ()), ("windows", ("security",), ()),
         ("linux", (), ("process_creation",)), *[("linux", (f"s{i}",), ()) for i in range(80)]]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(KINDS) - 1), st.booleans(),
                          st.sampled_from(["whoami", "x net user", "NET", "boom x", ""]), st.booleans()),
                min_size=1, max_size=60))
def test_routes_equals_its_reference(picks: list[tuple[int, bool, str, bool]]) -> None:
    """Two engines of the same rules, one finding each event's route with _gatefast.Routes,
    one with RoutesReference, routes built as the engine builds them (on False): the same
    answer for every event, shared or fresh keys, more kinds than the C cache has slots (so
    keys evict one another), a route whose spec is replaced after it was remembered."""
    c, py = _dispatch_engine(False), _dispatch_engine(False)
    rc, rpy = gatefast.Routes(c._routes), RoutesReference(py._routes)
    errors = {"c": 0, "py": 0}
    for k, fresh, raw, build in picks:
        key = KINDS[k]
        if fresh:
            key = (key[0], tuple(key[1]), tuple(list(key[2])))
        got, want = [], []
        for engine, routes, out, side in ((c, rc, got, "c"), (py, rpy, want, "py")):
            ev = LogEvent(raw, {"CommandLine": raw}, product=key[0], services=key[1], categories=key[2])
            ev.route_key = key
            hits = routes(ev, lambda s=side: errors.__setitem__(s, errors[s] + 1))
            if hits is False and build:
                engine.route(ev)
                hits = routes(ev, lambda s=side: errors.__setitem__(s, errors[s] + 1))
            out.append(hits if hits is None or hits is False else [r.id for r in hits])
        assert got == want
    assert errors["c"] == errors["py"]
    # a remembered route reads its spec each time (Route.refresh replaces it)
    ev = LogEvent("whoami", {"CommandLine": "whoami"}, product="linux")
    ev.route_key = KINDS[0]
    c.route(ev)
    assert [r.id for r in rc(ev, lambda: None) or ()] == ["r1", "r6"]
    route = c._routes[KINDS[0]]
    route.plain, route.field_scans = [], []
    route.raw = False
    route.refresh()
    assert rc(ev, lambda: None) is None


def test_routes_refuses_what_is_no_route_table() -> None:
    with pytest.raises(TypeError):
        gatefast.Routes([])
    routes = gatefast.Routes({("linux", (), ()): object()})
    ev = LogEvent("x", {}, product="linux")
    with pytest.raises((TypeError, AttributeError)):
        routes(ev, lambda: None)
    with pytest.raises(TypeError):
        routes(ev)
    ev.route_key = [1]  # type: ignore[assignment]  # unhashable, as dict.get would say
    with pytest.raises(TypeError):
        routes(ev, lambda: None)


# ---- CaseFree: whether a keyword needle may be in a raw line's lowercase ----------------------

MIMIKATZ = ["dpapi::masterkey", "eo.oe.kiwi", "event::clear", "event::drop", "gentilkiwi.com",
            "kerberos::golden", "kerberos::ptc", "kerberos::ptt", "kerberos::tgt", "kiwi legit printer",
            "lsadump::", "mimidrv.sys", "\\mimilib.dll", "misc::printnightmare", "misc::shadowcopies",
            "misc::skeleton", "privilege::backup", "privilege::debug", "privilege::driver", "sekurlsa::"]


def _may_hold(needles: list[str], raw: str) -> bool:
    """The reference: exact on a str of characters below U+0100, True on any other."""
    if raw and max(map(ord, raw)) > 0xFF:
        return True
    low = raw.lower()
    return any(n in low for n in needles)


def _both_paths(needles: list[str], texts: list[str],
                items: list[tuple[str, int, int]] | None = None) -> None:
    gate = gatefast.CaseFree(engine_mod.case_free_pairs(needles) if items is None else items)
    was = gatefast.use_avx2(True)
    try:
        for avx2 in (True, False):
            gatefast.use_avx2(avx2)
            got = [gate(t) for t in texts]
            assert got == [_may_hold(needles, t) for t in texts], avx2
            # the raw line's lowered bytes (what `Route.first` is given): whether a needle is
            # in them, as the leftmost-first automaton it replaces says
            hays = [engine_mod.raw_lower_bytes_reference(LogEvent(t, {})) for t in texts]
            hays += [t.encode("latin-1", "ignore") for t in texts]  # A-Z folded too
            assert [gate(b) for b in hays] == [any(n.encode() in b.lower() for n in needles) for b in hays]
    finally:
        gatefast.use_avx2(was)


# characters that matter: needle bytes in both cases, what 0x20 ORed in folds onto them (control
# characters, `\\` onto `|`), Latin-1 letters, U+0130 and KELVIN SIGN (lowercase holding ASCII)
ALPHABET = st.sampled_from([*"kKwWiI:.:yYbBdDlL|\\ \"e", "\x0b", "\x1a", "\x0e", "\x19", "\xc9", "\xe9",
                            "\xff", "\u0130", "\u212a", "\u20ac"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(MIMIKATZ), min_size=0, max_size=3), st.text(ALPHABET, max_size=200),
       st.integers(0, 120), st.booleans())
def test_case_free_equals_its_reference(picks: list[str], noise: str, at: int, upper: bool) -> None:
    """Mimikatz's needles planted (in any case) at every offset of texts of every length (the
    AVX2 blocks, the SSE2 blocks, the last positions), among bytes that fold onto theirs."""
    text = noise
    for n in picks:
        k = min(at, len(text))
        text = text[:k] + (n.upper() if upper else n) + text[k:]
    _both_paths(MIMIKATZ, [text, text[1:], text[:-1], text * 3, "x" * 40 + text])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.sampled_from("ab:.K\\|z"), min_size=2, max_size=6), min_size=1, max_size=24),
       st.lists(st.text(st.sampled_from("aAbB:.kK\\|zZ\x1a\x0e\xe1"), max_size=90), min_size=1, max_size=8))
def test_case_free_on_any_needles(needles: list[str], texts: list[str]) -> None:
    """Random needles (pairs chosen as the engine chooses them, many sharing one) in random texts
    of the same bytes: what the gate says is what `needle in raw.lower()` says."""
    needles = [n.lower() for n in needles]
    _both_paths(needles, [*texts, "".join(texts), needles[0].upper(), "q" * 33 + needles[-1]])


def test_case_free_on_real_records() -> None:
    """Every record of SigmaHQ's regression recordings as its JSON line (the 4 that hold a
    Mimikatz needle among them), and each with a needle written into its middle."""
    from pathlib import Path

    from nocsoc.collectors.windows.evtx import read_evtx
    from nocsoc.collectors.windows.report import InputReport
    from tests.conftest import SHARED
    files = sorted((SHARED / "sigmahq" / "regression_data").rglob("*.evtx"))
    if not files:
        pytest.skip("regression data not present")
    raws = [ev.raw for f in files for ev in read_evtx(Path(f), InputReport(f.name), threads=1)]
    planted = [r[:len(r) // 2] + MIMIKATZ[i % len(MIMIKATZ)].upper() + r[len(r) // 2:]
               for i, r in enumerate(raws)]
    assert len(raws) > 200 and sum(_may_hold(MIMIKATZ, r) for r in raws) >= 4
    _both_paths(MIMIKATZ, raws + planted)


def test_case_free_with_many_pairs_on_syslog_lines() -> None:
    """SigmaHQ's Linux keyword rules on a syslog route (~160 needles: with the syslog table,
    more pairs than 16, compared in blocks all the same), on the real lines of SEKOIA's samples
    and on each with a needle written into it, in both cases: the gate says what `needle in
    raw.lower()` says."""
    from bench.bench_detections import sample_lines
    from nocsoc.detections.loader import load_rules
    from tests.conftest import SHARED
    if not (SHARED / "sigmahq" / "rules" / "linux").is_dir() or not sample_lines(1):
        pytest.skip("SigmaHQ's rules or the log samples not present")
    rs = load_rules([SHARED / "sigmahq" / "rules" / "linux"], include_builtin=False)
    route = Engine(rs).route(LogEvent("x", {}, product="linux", services=("sshd", "auth", "syslog")))
    needles = sorted({n for _, gate, _ in engine_mod._gates(route.rules) for f, n in gate if f is None})
    items = engine_mod.case_free_pairs(needles, engine_mod._TEXT_FREQ, engine_mod._TEXT_PAIR_COST)
    pairs = {(chr(ord(n[i]) | 0x20), chr(ord(n[j]) | 0x20), j - i) for n, i, j in items}
    assert len(needles) > 100 and 16 < len(pairs) <= engine_mod._MAX_PAIRS
    assert route.gate is not None  # the engine gates the route so
    lines = sample_lines(2000)
    planted = []
    for i, r in enumerate(lines[:600]):
        n, k = needles[i % len(needles)], i % (len(r) + 1)
        planted.append(r[:k] + (n.upper() if k % 2 else n) + r[k:])
    assert sum(_may_hold(needles, r) for r in lines) < len(lines) // 2
    _both_paths(needles, lines + planted, items)


def test_case_free_refuses_what_it_cannot_search() -> None:
    for bad in ([("x", 0, 1)], [("ab", 1, 1)], [("ab", 0, 2)], [("\xe9b", 0, 1)], [("ab",)], ["ab"],
                ("ab", 0, 1)):
        with pytest.raises((TypeError, ValueError)):
            gatefast.CaseFree(bad)
    gate = gatefast.CaseFree([])
    assert gate("anything") is False and gate("\u0130") is True and gate(b"bytes") is False
    for other in (bytearray(b"x"), memoryview(b"x"), 1):
        with pytest.raises(TypeError):
            gate(other)
    # the engine leaves it out where a needle is too short, and where pairs would be too many
    assert engine_mod._case_free(["a", "bc"]) is None
    many = [f"{a}{b}" for a in "abcdefghij" for b in "klmnopqrst"]
    assert engine_mod._case_free(many) is None
    assert engine_mod._case_free(MIMIKATZ) is not None


# ---- correlation groups: new_group, pop_idle (their reference: CorrelationTracker's Python,
# compared on random streams in test_correlation_compact_groups.py) ----------------------------

def test_new_group_takes_only_a_first_event_held_bare() -> None:
    """A non-empty str group-by value (lowercased into the key), a group not there yet, room
    for it, and `t` the event's time: held as the event, last; anything else is left to
    `feed` (False), nothing done."""
    from collections import OrderedDict

    class Sub(str):
        pass

    groups: OrderedDict[tuple[str, ...], Any] = OrderedDict({("x",): 1})
    ev = LogEvent("r", {"ip": "10.0.0.1", "n": 7, "e": "", "s": Sub("a"), "u": "ÄB"}, time=5.0)
    assert gatefast.new_group(groups, "ip", ev, 5.0, 10) is None
    assert list(groups.items()) == [(("x",), 1), (("10.0.0.1",), ev)]
    for name in ("n", "e", "s", "missing"):  # not a str, empty, a subclass, absent
        assert gatefast.new_group(groups, name, ev, 5.0, 10) is False
    assert gatefast.new_group(groups, "ip", ev, 5.0, 10) is False  # there already
    assert gatefast.new_group(groups, "u", ev, 6.0, 10) is False  # not the event's time
    assert gatefast.new_group(groups, "u", ev, 5.0, 2) is False  # full
    assert len(groups) == 2
    assert gatefast.new_group(groups, "u", ev, 5.0, 3) is None and ("äb",) in groups
    mapped = LogEvent("r", _Mapping({"ip": "Z"}), time=5.0)  # fields that are no dict (EVTX's)
    assert gatefast.new_group(groups, "ip", mapped, 5.0, 10) is None and groups[("z",)] is mapped
    with pytest.raises(TypeError):
        gatefast.new_group({}, 1, ev, 5.0, 10)


def test_pop_idle_frees_the_idle_groups_of_one_event_at_the_front() -> None:
    """Groups of one event (the event, or a tuple whose first item is its time) older than the
    cutoff go, from the front, up to the first window or group in use, which stays first."""
    from collections import OrderedDict

    from nocsoc.detections.correlation import _Window

    def ev(t: float) -> LogEvent:
        return LogEvent("r", {}, time=t)

    w = _Window(1.0, None, None)
    groups: OrderedDict[tuple[str, ...], Any] = OrderedDict(
        [(("a",), ev(1.0)), (("b",), (2.0, ev(2.0), 0, 0)), (("c",), w), (("d",), ev(1.0))])
    assert gatefast.pop_idle(groups, 10.0, _Window) == 2
    assert list(groups) == [("c",), ("d",)]  # a window: the Python frees it
    groups = OrderedDict([(("a",), ev(1.0)), (("b",), ev(20.0)), (("c",), ev(1.0))])
    assert gatefast.pop_idle(groups, 10.0, _Window) == 1
    assert list(groups) == [("b",), ("c",)]  # in use: back in its place
    assert gatefast.pop_idle(OrderedDict(), 10.0, _Window) == 0
    groups = OrderedDict([(("a",), object()), (("b",), ev(1.0))])
    with pytest.raises(AttributeError):  # no time: the error, the group kept in its place
        gatefast.pop_idle(groups, 10.0, _Window)
    assert list(groups) == [("a",), ("b",)]


# ---- what a detection names, the raw line's bytes: firsts, raw_lower_bytes -------------------

WHO_VALUES = st.one_of(st.none(), st.sampled_from(["", "-", "--", " ", "10.0.0.1", "Admin", 0, 1.5, False]),
                       st.integers(-3, 3), st.text(max_size=4),
                       st.lists(st.sampled_from(["", "-"]), max_size=2))
WHO_NAMES = ["src_ip", "c-ip", "SourceIp", "dst_ip", "user", "User"]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(WHO_NAMES), WHO_VALUES, max_size=6), st.booleans())
def test_firsts_equals_its_reference(fields: dict[str, Any], as_mapping: bool) -> None:
    """The first value of each group of names that is none of None, "" and "-", as str (or
    ""), as engine.firsts_reference gives it, from a dict or any other mapping."""
    groups = (("src_ip", "c-ip", "SourceIp"), ("dst_ip",), ("user", "User"), ())
    given_fields: Any = _Mapping(fields) if as_mapping else fields
    got = gatefast.firsts(given_fields, groups)
    assert _typed(got) == _typed(engine_mod.firsts_reference(given_fields, groups))


def test_firsts_compares_as_in_does() -> None:
    """`v not in (None, "", "-")`: a value equal to one of them (a str subclass, an object
    whose __eq__ says so) is skipped, as the tuple's `in` skips it; errors go through."""
    class Sub(str):
        pass

    class Blank:
        def __eq__(self, other: object) -> bool:
            return other == "-"

        __hash__ = object.__hash__

    class Bad:
        def __eq__(self, other: object) -> bool:
            raise ValueError("no")

        __hash__ = object.__hash__

    fields = {"a": Sub("-"), "b": Blank(), "c": Sub("x")}
    abc = (("a", "b", "c"),)
    assert gatefast.firsts(fields, abc) == engine_mod.firsts_reference(fields, abc) == ("x",)
    with pytest.raises(ValueError):
        gatefast.firsts({"a": Bad()}, (("a",),))
    with pytest.raises(TypeError):
        gatefast.firsts({}, [("a",)])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZ -:\u00e9\u00c9\u00ff\u0100\u0130\u212a\u1e9e\U0001f600\ud800"),
               max_size=40))
def test_raw_lower_bytes_equals_its_reference(raw: str) -> None:
    """The raw line's Latin-1 bytes lowered (A-Z only), or with U+0130 or KELVIN SIGN its
    lowercase in UTF-8, as engine.raw_lower_bytes_reference gives them, whatever the str's
    kind (one-byte, two, four, lone surrogates)."""
    ev = LogEvent(raw, {})
    assert gatefast.raw_lower_bytes(ev) == engine_mod.raw_lower_bytes_reference(LogEvent(raw, {}))


def test_the_engine_names_and_lowers_with_them_where_built() -> None:
    assert engine_mod._firsts is gatefast.firsts
    assert engine_mod._raw_lower_bytes is gatefast.raw_lower_bytes
