"""The streaming detection engine: route each event to the rules its logsource can match, run
the compiled predicates, feed correlations, and hand out Detections for the alert store.

Routing: the (product, services, categories) of an event selects, once per distinct triple, the
rules whose logsource it satisfies; the result is cached, so a web access line is never tested
against auditd rules.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from ahocorasick_rs import AhoCorasick, BytesAhoCorasick, Implementation, MatchKind
from sigma.correlations import SigmaCorrelationRule

from nocsoc.component import Counters
from nocsoc.detections.compiler import NUMBER_NEEDLE, CompiledRule, _number, number_of_needle
from nocsoc.detections.correlation import EXTENDED, CorrelationTracker, Firing
from nocsoc.detections.loader import RuleSet
from nocsoc.detections.reorder import ReorderBuffer
from nocsoc.events import LogEvent
from nocsoc.schema import LOG_COLLECTOR

try:  # the field gates' loop in C (see _gatefast.c); scan_fields_reference is its reference
    from nocsoc.detections._gatefast import MAX_PAIRS as _MAX_PAIRS
    from nocsoc.detections._gatefast import CaseFree as _CaseFree
    from nocsoc.detections._gatefast import Routes as _CRoutes
    from nocsoc.detections._gatefast import dispatch as _c_dispatch
    from nocsoc.detections._gatefast import firsts as _c_firsts
    from nocsoc.detections._gatefast import new_group as _c_new_group
    from nocsoc.detections._gatefast import raw_lower_bytes as _c_raw_lower_bytes
    from nocsoc.detections._gatefast import scan_fields as _c_scan_fields
except ImportError:  # not built
    _c_scan_fields = _CaseFree = _CRoutes = _c_dispatch = _c_new_group = _c_firsts = _c_raw_lower_bytes = None
    _MAX_PAIRS = 0

# interned (see FieldScan.field): literals with `-` are not, by the compiler
_SRC = tuple(map(sys.intern, ("src_ip", "c-ip", "SourceIp", "rhost", "IpAddress")))  # IpAddress: Windows
_DST = tuple(map(sys.intern, ("dst_ip", "DestinationIp", "s-ip")))
_USER = tuple(map(sys.intern, ("user", "cs-username", "User", "TargetUserName", "auid")))
_WHO = (_SRC, _DST, _USER)  # what a detection names: its source, destination, user


def _first(fields: Any, names: tuple[str, ...]) -> str:
    for n in names:
        v = fields.get(n)
        if v not in (None, "", "-"):
            return str(v)
    return ""


def firsts_reference(fields: Any, groups: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
    """Per tuple of field names, the first value that is neither None, "" nor "-", as str, else
    "". _gatefast.firsts does the same in C (tests/detections/test_gatefast.py): a detection's
    source, destination and user, 13 names looked up (most absent in any one format), were
    ~1,500 instructions in Python, half of building it."""
    return tuple(_first(fields, names) for names in groups)


@dataclass(slots=True)
class Detection:
    """One rule match or correlation firing, ready to be deduplicated into an alert."""

    rule_id: str
    title: str
    level: str
    tags: tuple[str, ...]
    kind: str  # "rule" | "correlation"
    group_key: str
    new: bool
    count: int
    first_seen: float
    last_seen: float
    host: str = ""
    src_ip: str = ""
    dst_ip: str = ""
    user: str = ""
    samples: list[LogEvent] = field(default_factory=list)

    @property
    def tactic(self) -> str:
        from nocsoc.detections.attack import tactic_of
        return tactic_of(self.tags)


def _corr_meta(c: SigmaCorrelationRule) -> tuple[str, str, str, tuple[str, ...]]:
    level = str(c.level.name).lower() if c.level else "medium"
    return (str(c.id) if c.id else (c.name or c.title), c.title, level,
            tuple(f"{t.namespace}.{t.name}" for t in c.tags))


Call = tuple[CompiledRule, Callable[[LogEvent, dict[str, str | None], dict[str, Any]], bool]]


def _call(rule: CompiledRule) -> Call:
    """The rule with the function `Engine.process` calls as fn(event, lo, fields): its generated
    code (nocsoc.detections.codegen), or whatever `match` was set to (a closure, a test's
    wrapper) called with the event alone."""
    if rule.fast is not None and rule.match is rule.fast:
        return rule, rule.fast
    m = rule.match
    return rule, lambda e, lo, f: m(e)



Slots = tuple[tuple[int, ...], ...]  # the gate slots a value admitted (see FieldScan.admitted)


class FieldScan:
    """One field's gate: the whole values its exact needles name (one dict lookup) and, in big
    routes, an automaton over its substring needles; and what each value seen lately admitted.
    Windows events repeat their values (the same binaries' Image, Company, Product, Hashes,
    User, CurrentDirectory, ...): a value met again is one lookup of the value as it came,
    neither lowercased again nor scanned again (an automaton of thousands of needles costs
    ~1-3 us a scan, its tables rarely in cache), and its lowercase, remembered with it, fills
    the event's lowercase cache for the rules."""

    __slots__ = ("exact", "field", "ints", "joined", "memo", "numbers", "pattern_rules", "scan", "short",
                 "unions")

    def __init__(self, fname: str, scan: Callable[[str, bool], list[tuple[int, int, int]]] | None,
                 pattern_rules: list[tuple[int, ...]],
                 exact: dict[str, tuple[int, ...]] | None = None,
                 short: tuple[tuple[str, tuple[int, ...]], ...] = ()) -> None:
        # interned, as the parsers' names are (C parsers' key objects, Python literals): the
        # event's dict then finds it by identity, where an equal str of another object is
        # compared in full (a C parser's presized dict has general keys in CPython 3.11)
        self.field = sys.intern(fname)
        self.scan = scan
        self.pattern_rules = pattern_rules
        self.exact = exact
        self.short = short  # needles too short for the automaton (see _SHORT_NEEDLE), with their slots
        # numbers the value, read as one (compiler._number, as the rules read it), may equal
        self.numbers: dict[int | float, tuple[int, ...]] | None = None
        # what `admitted` gave a value, as tuples of str and tuples of ints: the cyclic GC stops
        # tracking those at its first look, where a list kept each entry tracked; thousands of
        # new values a minute (paths, addresses, ports) then aged into the oldest generation and
        # made its full collections run every couple of bench rounds (~1 us an event of the mix)
        self.memo: dict[str, tuple[str, Slots]] = {}
        self.ints: dict[int, tuple[str, Slots]] = {}  # int values (EventID, ports)
        # slots a value admitted -> one tuple of them, kept as long as this gate (never
        # cleared: `Route.candidates` keys on the ids of what `admitted` returns)
        self.unions: dict[tuple[int, ...], tuple[int, ...]] = {}
        self.joined: dict[tuple[int, ...], Slots] = {}  # see _one

    def _one(self, got: list[tuple[int, ...]]) -> Slots:
        """The slots of several needles as one tuple: an event's candidate key is built of one
        id a field, where a command line's needles gave ~40 (`-` found eight times, ...). Past
        _MAX_UNIONS distinct sets, each needle's own tuple (bounded, never forgotten). What a
        sequence of needles' tuples (by identity: the gate's own) gave is remembered: a value
        met for the first time often finds needles others found (`\\software\\` in registry
        paths), and merging them (~0.5-1 us) cost more than the scan."""
        key = tuple(map(id, got))
        one = self.joined.get(key)
        if one is None:
            union = tuple(sorted({i for t in got for i in t}))
            u = self.unions.get(union)
            if u is None:
                if len(self.unions) >= _MAX_UNIONS:
                    return tuple({id(t): t for t in got}.values())
                u = self.unions[union] = union
            one = (u,)
            if len(self.joined) < _MAX_UNIONS:  # bounded; past it, merged each time
                self.joined[key] = one
        return one

    def admitted(self, value: Any) -> tuple[str, Slots]:
        """(the value lowercased, the gate slots its needles admit): shared, never modify."""
        low = value.lower() if isinstance(value, str) else str(value).lower()
        got: list[tuple[int, ...]] = []
        if self.exact is not None and (idx := self.exact.get(low)) is not None:
            got.append(idx)
        if self.scan is not None and low:
            pr = self.pattern_rules
            got += [pr[h[0]] for h in self.scan(low, True)]
        for needle, idx in self.short:
            if needle in low:
                got.append(idx)
        if self.numbers is not None and (x := _number(value)) is not None \
                and (idx := self.numbers.get(x)) is not None:
            got.append(idx)
        slots: Slots = self._one(got) if len(got) > 1 else (got[0],) if got else ()
        # str keys, and ints apart (EVTX's EventID, ports): 1, 1.0 and True are one dict key
        # but lowercase differently
        memo: dict[Any, tuple[str, Slots]] | None = None
        if type(value) is str:
            if len(value) <= _MEMO_VALUE_CHARS:
                memo = self.memo
        elif type(value) is int:
            memo = self.ints
        if memo is not None:
            if len(memo) >= _MEMO_VALUES:  # bounded: a stream of unique values
                # the oldest quarter goes (insertion order), not all: a field whose values
                # outnumber the bound (registry paths, file names) kept nothing when it was
                # cleared, and missed ~half its values on a benign day
                for k in list(islice(memo, max(1, _MEMO_VALUES // 4))):
                    del memo[k]
            memo[value] = (low, slots)
        return low, slots


_MEMO_VALUES = 4096  # values remembered per field and route
_MAX_UNIONS = 4096  # sets of slots made one per field and route
_MEMO_VALUE_CHARS = 512  # longer values are scanned every time


@dataclass(slots=True)
class Route:
    """The rules one kind of event meets, in load order. Rules without needles run on every
    event; the others are gated by their needles (see `required_needles`): each field's needles
    searched in that field's value (`FieldScan`, remembered per value), the keywords in the raw
    line by ONE Aho-Corasick scan; only rules one of whose needles occurs run their predicate."""

    rules: list[CompiledRule]
    always: tuple[int, ...]  # indexes into `rules` of the ungated ones
    calls: list[Call] = field(default_factory=list)  # (rule, its function as `process` calls it)
    # one automaton over every needle; None when no rule of the route has needles
    scan: Callable[[Any, bool], list[tuple[int, int, int]]] | None = None
    # keyword needles too short for `scan` (see _SHORT_NEEDLE): each tested with `in` on the
    # haystack (bytes or str, as `haystack` gives), with the gate slots it admits
    short: tuple[tuple[Any, tuple[int, ...]], ...] = ()
    pattern_rules: list[tuple[int, ...]] = field(default_factory=list)  # needle -> rule indexes
    haystack: Callable[[LogEvent], Any] = LogEvent.raw_lower  # what `scan` searches (str or bytes)
    # whole-value needles: (field, lowercased value -> rule indexes), one dict lookup per field
    # (held by the field's FieldScan, which `process` reads)
    exact: list[tuple[str, dict[str, tuple[int, ...]]]] = field(default_factory=list)
    plain: list[Call] = field(default_factory=list)  # the `always` rules
    # one per gated field: its exact values and, in big routes and routes mixing keywords with
    # many fields, an automaton over that field's needles only (then `scan` holds the keyword
    # needles alone, searched in the raw line)
    field_scans: list[FieldScan] = field(default_factory=list)
    # the rules to run for a set of candidates (with the `always` ones, in load order): events of
    # one kind admit the same few sets, so each is merged and sorted once (see `candidates`)
    merged: dict[Any, list[Call]] = field(default_factory=dict)
    two: frozenset[int] = frozenset()  # rules with a second gate (see build_route)
    # what `process` runs of `scan`, without its Python closure: `every` (the overlapping
    # search) when `first` (a leftmost-first search, None: none) finds something; `raw`:
    # whether the raw line has needles at all (`scan` or `short`)
    every: Callable[[Any, bool], list[tuple[int, int, int]]] | None = None
    first: Callable[[Any], Any] | None = None
    raw: bool = False
    # whether a keyword needle may be in the raw line (_gatefast.CaseFree), asked before
    # `haystack`; None: `haystack` alone
    gate: Callable[[str], bool] | None = None
    # (field, memo, ints, admitted) of each field_scans entry, as scan_fields reads them
    gates: tuple[tuple[str, dict[str, Any], dict[int, Any], Callable[[Any], Any]], ...] = ()
    spec: tuple[Any, ...] = ()  # what `dispatch` reads of this route (see `refresh`)

    def refresh(self) -> None:
        """`spec`, from the fields above: after building the route, or changing them (tests)."""
        self.gates = tuple((fs.field, fs.memo, fs.ints, fs.admitted) for fs in self.field_scans)
        self.spec = (self.gates, self.raw, self.gate, self.haystack, self.every, self.first, self.short,
                     self.pattern_rules, self.merged, self.plain, self.candidates)

    def candidates(self, cand: list[tuple[int, ...]], key: Any = None) -> list[Call]:
        """The rules to run when the needles admitted `cand` (tuples of gate slots). Keyed by
        the tuples' identities, in the order found: each is an object of this route's tables
        (pattern_rules, exact), alive as long as the route, and hashing ids costs less than
        hashing the tuples' contents, as a frozenset of them did, on every event."""
        if key is None:
            key = id(cand[0]) if len(cand) == 1 else tuple(map(id, cand))
        got = self.merged.get(key)
        if got is None:
            found: set[int] = set()
            for idx in cand:
                found.update(idx)
            n, two = len(self.rules), self.two
            run = set(self.always)
            run.update(i for i in found if i < n and (i not in two or i + n in found))
            if len(self.merged) >= _MAX_MERGED:  # bounded: an odd stream must not grow it
                self.merged.clear()
            got = self.merged[key] = [self.calls[i] for i in sorted(run)]
        return got


_MAX_MERGED = 4096  # candidate sets remembered per route
_DFA_NEEDLES = 500  # automata with this many needles scan with a DFA


def build_route(rules: list[CompiledRule]) -> Route:
    """Gate slots: rule i's needles admit slot i, its second gate's (`needles2`) slot i + N
    (N rules); `Route.candidates` runs rule i when slot i, and i + N if it has a second gate,
    were admitted."""
    always: list[int] = []
    by_needle: dict[str, set[int]] = {}
    exact: dict[str, dict[str, set[int]]] = {}
    gates = _gates(rules)
    numbers: dict[str, dict[int | float, set[int]]] = {}
    for slot, gate, exact_k in gates:
        for k, (f, n) in enumerate(gate):
            if f is not None and k in exact_k:
                if n.startswith(NUMBER_NEEDLE):
                    numbers.setdefault(f, {}).setdefault(number_of_needle(n), set()).add(slot)
                else:
                    exact.setdefault(f, {}).setdefault(n, set()).add(slot)
                continue
            by_needle.setdefault(n, set()).add(slot)
    always = [i for i, r in enumerate(rules) if not r.needles]
    calls = [_call(r) for r in rules]
    route = Route(rules, tuple(always), calls, plain=[calls[i] for i in always],
                  two=frozenset(s - len(rules) for s, _, _ in gates if s >= len(rules)))
    route.exact = [(f, {v: tuple(sorted(idx)) for v, idx in table.items()}) for f, table in exact.items()]
    if by_needle:
        # each field's needles searched in that field only (one scan, remembered per value),
        # the keywords alone in the raw line: one scan over the values joined found a needle
        # of one field in another (`;` of a URL rule in every browser's user agent, SigmaHQ's
        # `user` or `process` in every Sysmon path), making rules candidates for nothing
        _per_field(route, gates)
    # a field's exact values join its automaton's gate: one read and one remembered value a field
    scans = {fs.field: fs for fs in route.field_scans}
    for f, table in route.exact:
        fs = scans.get(f)
        if fs is None:
            fs = scans[f] = FieldScan(f, None, [])
            route.field_scans.append(fs)
        fs.exact = table
    for f, nums in numbers.items():
        fs = scans.get(f)
        if fs is None:
            fs = scans[f] = FieldScan(f, None, [])
            route.field_scans.append(fs)
        fs.numbers = {x: tuple(sorted(idx)) for x, idx in nums.items()}
    if route.scan is not None:
        route.every = getattr(route.scan, "every", route.scan)
        route.first = getattr(route.scan, "first", None)
    route.raw = route.scan is not None or bool(route.short)
    route.refresh()
    return route


def scan_fields_reference(gates: tuple[tuple[str, dict[str, Any], dict[int, Any], Callable[[Any], Any]], ...],
                          fields: Any, lo: dict[str, Any]) -> list[tuple[int, ...]] | None:
    """Each gated field's value (`Route.gates`): its lowercase into `lo`, the slots it admits
    gathered (None: none), from what its FieldScan remembers of the value, else `admitted`.
    _gatefast.scan_fields does the same in C (tests/detections/test_gatefast.py)."""
    cand: list[tuple[int, ...]] | None = None
    for name, memo, ints, admitted in gates:
        v = fields.get(name)
        if v is None:
            continue
        tv = type(v)  # a list is no key; 1, 1.0 and True are one key: ints apart
        seen = memo.get(v) if tv is str else ints.get(v) if tv is int else None
        low, slots = seen if seen is not None else admitted(v)
        lo[name] = low  # as events.fill_lower would: the rules read it
        if slots:
            if cand is None:
                cand = [*slots]
            else:
                cand.extend(slots)
    return cand


def dispatch_reference(spec: tuple[Any, ...], event: LogEvent,
                       on_error: Callable[[], Any]) -> list[CompiledRule] | None:
    """The rules of a route (`Route.spec`) that match `event`, in load order (None: none): its
    gated fields' slots (`_scan_fields`) and its keywords' in the raw line select the candidates
    (`Route.candidates`, remembered by the ids of the slot tuples), whose predicates run;
    `on_error()` for each predicate that raises. _gatefast.dispatch does the same in C
    (tests/detections/test_gatefast.py)."""
    gates, raw, gate, haystack, every, first, short, pr, merged, rules, candidates = spec
    lo = event._low  # the lowercase cache (LogEvent.lowered(), inlined)
    if lo is None:
        lo = event._low = {}
    fields = event.fields
    # index tuples of the rules a needle admits: one per gated field (exact values, substrings)
    cand = _scan_fields(gates, fields, lo)
    if raw and (gate is None or gate(event.raw)):
        # keyword needles: searched in the raw line (one scan, then the short ones)
        hay = haystack(event)
        if hay:  # b"": no needle can be in it (`_prefiltered`)
            if every is not None:
                hits = every(hay, True) if first is None or first(hay) else None
                if hits:
                    if cand is None:
                        cand = [pr[h[0]] for h in hits]
                    else:
                        cand.extend([pr[h[0]] for h in hits])
            for needle, idx in short:
                # find, not `in`: on bytes, `in` first tries the needle as an int and formats
                # the TypeError it gets (~1,800 instructions a test)
                if hay.find(needle) != -1:
                    if cand is None:
                        cand = [idx]
                    else:
                        cand.append(idx)
    if cand:
        key = id(cand[0]) if len(cand) == 1 else tuple(map(id, cand))
        got = merged.get(key)
        rules = got if got is not None else candidates(cand, key)
    out: list[CompiledRule] | None = None
    for rule, fn in rules:
        try:
            hit = fn(event, lo, fields)
        except Exception:  # a predicate bug on odd input must not stop the stream
            on_error()
            continue
        if hit:
            if out is None:
                out = [rule]
            else:
                out.append(rule)
    return out


# NOCSOC_ENGINE_GATES=python: the references even where the C ones are built (A/B, tests)
_C_GATES = os.environ.get("NOCSOC_ENGINE_GATES", "c") != "python"
_scan_fields = _c_scan_fields if _c_scan_fields is not None and _C_GATES else scan_fields_reference
_dispatch = _c_dispatch if _c_dispatch is not None and _C_GATES else dispatch_reference
_firsts = _c_firsts if _c_firsts is not None and _C_GATES else firsts_reference


class RoutesReference:
    """`Routes(table)(event, on_error)`: the matches of the event's route in `table` (route
    key -> Route), as `dispatch` gives them, or False when the table has no route for the
    event's key yet (the engine builds it). _gatefast.Routes does the same in C, remembering
    the routes of the last keys met by the key object's identity (a tuple's hash is not
    cached: hashing the key and comparing an equal one cost ~550 instructions an event of the
    new formats' mix); tests/detections/test_gatefast.py proves them equal. The table only
    grows: a key's route, once built, is never replaced."""

    __slots__ = ("table",)

    def __init__(self, table: dict[tuple[Any, ...], Route]) -> None:
        self.table = table

    def __call__(self, event: LogEvent, on_error: Callable[[], Any]) -> list[CompiledRule] | bool | None:
        route = self.table.get(event.route_key)
        return False if route is None else _dispatch(route.spec, event, on_error)


_Routes: Callable[[dict[tuple[Any, ...], Route]], Callable[[LogEvent, Callable[[], Any]], Any]] = (
    _CRoutes if _CRoutes is not None and _C_GATES else RoutesReference)


Gates = list[tuple[int, list[tuple[str | None, str]], frozenset[int]]]


def _gates(rules: list[CompiledRule]) -> Gates:
    """(slot, needles, indexes of the exact ones) of every gate of `rules` (see build_route)."""
    out: Gates = []
    n = len(rules)
    for i, r in enumerate(rules):
        if r.needles:
            out.append((i, r.needles, r.exact))
            if r.needles2 and not _weak_second(r.needles2):
                out.append((i + n, r.needles2, r.exact2))
    return out


def _weak_second(needles2: list[tuple[str | None, str]]) -> bool:
    """Whether a second gate costs more than it saves: one of its needles is a keyword of the raw
    line short enough to be tested on its own (`_SHORT_NEEDLE`): SigmaHQ's "Remote File Copy"
    requires `:` or `@`, in every sshd and iptables line, and "File Time Attribute Change"
    `-t`/`-d`/`-r`, in most auditd lines, so the gate rarely kept the rule from running while
    its searches ran on every line of the route (~3,000 instructions an event of the bench's
    mix). Without it the rule runs when its first gate admits it: the gates only ever add to
    what runs, the predicate decides."""
    return any(f is None and len(n) <= _SHORT_NEEDLE and n.isascii() for f, n in needles2)


def _automaton(needles: list[str]) -> Callable[[str, bool], list[tuple[int, int, int]]]:
    # thousands of needles: a DFA scans ~2x faster than the default NFA (measured on Sysmon
    # events); it takes ~0.2 s and ~16 MB to build for 4,500 needles, so small sets keep the NFA
    ac = (AhoCorasick(needles, implementation=Implementation.DFA) if len(needles) >= _DFA_NEEDLES
          else AhoCorasick(needles))
    return ac.find_matches_as_indexes


def _per_field(route: Route, gates: Gates) -> None:
    """Gate a big route field by field: a needle of `CommandLine` searched in CommandLine only.
    One scan over all values joined found SigmaHQ's `user` or `process` (command-line needles)
    in every Sysmon event's paths and descriptions, making dozens of rules candidates each time;
    per field, SigmaHQ's process_creation rules get ~3x fewer candidates."""
    per: dict[str | None, dict[str, set[int]]] = {}
    for slot, gate, exact_k in gates:
        for k, (f, n) in enumerate(gate):
            if f is not None and k in exact_k:
                continue
            per.setdefault(f, {}).setdefault(n, set()).add(slot)
    for f, table in per.items():
        few = [n for n in sorted(table) if len(n) <= _SHORT_NEEDLE and n.isascii()]
        if len(few) > _MAX_SHORT:  # dozens (`-a`, `/a`, ... of windash lists): one scan beats them
            few = []
        short = [(n, tuple(sorted(table[n]))) for n in few]
        long = sorted(set(table).difference(few))
        pr = [tuple(sorted(table[n])) for n in long]
        if f is None:  # keywords: the raw line
            route.pattern_rules = pr
            # EVTX records' JSON, or syslog text: which pairs of bytes are rare
            text = any(r.product != "windows" for r in route.rules)
            route.scan, route.haystack = _raw_scan(long, all(n.isascii() for n in table), text)
            if route.haystack is _raw_lower_bytes:
                route.short = tuple((n.encode(), idx) for n, idx in short)
                if not short and route.scan is not None:
                    route.haystack = _prefiltered(long)
                    route.gate = _case_free(long, _TEXT_FREQ if text else _JSON_FREQ,
                                            _TEXT_PAIR_COST if text else _PAIR_COST)
            else:
                route.short = tuple(short)
        else:
            route.field_scans.append(FieldScan(f, _automaton(long) if long else None, pr, short=tuple(short)))


# ASCII needles this short (`:` and `@` of SigmaHQ's "Remote File Copy", `;` of a URL rule,
# `-o`) occur several times in nearly every line: in an automaton searching overlapping matches
# they are reported at every place (~1-2 us a line with ':' found 3 or 4 times), and they defeat
# the leftmost-first prefilter (`_any_first`), which then never says "nothing here". Each is
# tested on its own (`in` on a field's str, `find` on the raw line's bytes: see
# dispatch_reference), once an event whatever the count, when a field (or the raw line) has at
# most _MAX_SHORT of them. Non-ASCII ones (SigmaHQ's 2,400 emoji and homoglyphs) are rare in
# any text: they stay in the automaton.
_SHORT_NEEDLE = 2
_MAX_SHORT = 8


Scan = Callable[[Any, bool], list[tuple[int, int, int]]]


def _raw_scan(needles: list[str], ascii: bool,
              text: bool = True) -> tuple[Scan | None, Callable[[LogEvent], Any]]:
    """(automaton, haystack) searching `needles` in the raw line. ASCII needles are searched in
    its UTF-8 bytes lowercased by bytes.lower(): the same matches as in raw.lower() (a non-ASCII
    character's UTF-8 bytes never match an ASCII needle), without str.lower()'s Unicode path,
    ~8x slower on the 2 KB of an EVTX record's JSON holding one `®` (5 us of ~50 an event).
    `ascii`: whether every needle of the raw line (these and the short ones) is ASCII. No
    automaton (None) when `needles` is empty (short ones only)."""
    if not ascii:
        return (_automaton(needles) if needles else None), LogEvent.raw_lower
    if not needles:
        return None, _raw_lower_bytes
    encoded = [n.encode() for n in needles]
    impl = Implementation.DFA if len(needles) >= _DFA_NEEDLES else None
    ac = BytesAhoCorasick(encoded, implementation=impl)
    # whether any needle is in the line, asked on every event before the overlapping search: the
    # C gate over the lowered bytes (_gatefast.CaseFree, exact on bytes) where built, else the
    # leftmost-first search as a DFA (~25% faster than the default NFA on the bench's lines:
    # 150-170 keyword needles, 0.54 -> 0.41 us a sshd line); the gate spares pyo3's call and
    # its release of the GIL (~4,000 instructions a line of the new formats' mix)
    gate = _case_free(needles, _TEXT_FREQ if text else _JSON_FREQ, _TEXT_PAIR_COST if text else _PAIR_COST)
    first: Callable[[Any], Any] = gate if gate is not None else BytesAhoCorasick(
        encoded, matchkind=MatchKind.LeftmostFirst, implementation=Implementation.DFA).find_matches_as_indexes
    return _any_first(ac.find_matches_as_indexes, first), _raw_lower_bytes


def _any_first(overlapping: Callable[[Any, bool], list[tuple[int, int, int]]],
               leftmost: Callable[[Any], Any],
               ) -> Callable[[Any, bool], list[tuple[int, int, int]]]:
    """`overlapping`, asked only when `leftmost` finds something. A leftmost-first search
    finds a match wherever any needle occurs, and runs the library's prefilter (memchr/SIMD over
    the needles' rare bytes), which overlapping search cannot use: on the 1-2 KB of an EVTX
    record's JSON, where SigmaHQ's one Windows keyword rule ("Mimikatz Use", 20 needles) almost
    never finds one, it takes ~0.5 us where the overlapping scan took ~3."""
    def scan(haystack: Any, _overlapping: bool = True) -> list[tuple[int, int, int]]:
        return overlapping(haystack, True) if leftmost(haystack) else []
    scan.every, scan.first = overlapping, leftmost  # type: ignore[attr-defined]  # see Route.every
    return scan


_PREFILTER_CHARS = 512  # raw lines this long are searched case-free before being lowered
_PREFILTER_PIECE = 4  # characters of each needle the case-free search looks for
_PREFILTER_MAX = 4096  # case spellings of those pieces, at most


def _case_spellings(piece: str) -> list[str]:
    """Every spelling of an ASCII piece in upper and lower case (`k:` -> `k:`, `K:`)."""
    out = [""]
    for ch in piece:
        out = [o + c for o in out for c in dict.fromkeys((ch, ch.upper()))]
    return out


def _prefiltered(needles: list[str]) -> Callable[[LogEvent], bytes]:
    """The raw line's lowercased bytes (`_raw_lower_bytes`), or b"" when no needle can be in
    it: for a long line (an EVTX record's ~1.2 KB of JSON, searched for SigmaHQ's one Windows
    keyword rule, "Mimikatz Use"), lowering it cost more than searching it. A case-free
    search of the encoded line for a piece of each needle, in every case spelling, says
    whether any needle can be in the lowered line: the encoding keeps every ASCII character
    and bytes.lower() changes only A-Z, so a needle in the lowered bytes has its piece, in some
    spelling, in the bytes as they are. The piece of each needle is the one of the fewest
    letters (fewest spellings). Lines with U+0130 or KELVIN SIGN, whose lowercase holds ASCII,
    and short lines go the plain way."""
    pieces: set[str] = set()
    for n in needles:
        windows = [n[i:i + _PREFILTER_PIECE] for i in range(max(1, len(n) - _PREFILTER_PIECE + 1))]
        pieces.update(_case_spellings(min(windows, key=lambda w: sum(c.isalpha() for c in w))))
    if len(pieces) > _PREFILTER_MAX:
        return _raw_lower_bytes
    pre = BytesAhoCorasick([p.encode() for p in sorted(pieces)], matchkind=MatchKind.LeftmostFirst,
                           implementation=Implementation.DFA).find_matches_as_indexes

    def haystack(e: LogEvent) -> bytes:
        raw = e.raw
        if len(raw) < _PREFILTER_CHARS or "\u0130" in raw or "\u212a" in raw:
            return _raw_lower_bytes(e)
        b = raw.encode("latin-1", "ignore")
        return b.lower() if pre(b) else b""
    return haystack


# characters per record in EVTX JSON (a benign day of bench/evtx_synth.py), ASCII with 0x20 ORed
# in as CaseFree compares them (so `|` is also `\\`); others count _RARE. `:` (50 a record)
# counts only where it is not the JSON's own `"key":`, which no needle's pair holds. Only to
# choose pairs: a wrong guess costs time, never a match.
_JSON_FREQ = {'"': 125.2, "e": 87.4, "t": 67.0, "s": 58.8, ":": 5.0, "o": 50.2, "i": 49.4, "0": 48.3,
              "r": 46.8, "a": 46.0, "c": 42.4, "n": 38.9, "d": 37.7, ",": 30.4, "|": 28.8, "m": 28.4,
              "-": 27.6, "2": 26.0, "1": 23.5, "u": 21.7, "3": 21.1, "l": 21.0, "f": 20.4, "4": 17.0,
              "8": 16.9, "6": 16.8, "p": 16.2, "5": 16.1, "b": 15.9, "w": 13.8, "{": 13.1, "}": 13.1,
              "9": 13.1, "7": 12.1, "h": 12.0, "v": 11.7, ".": 11.7, "g": 11.0, "y": 10.7, "/": 8.2,
              " ": 7.8, "x": 6.2, "#": 5.0, "k": 3.9, "=": 1.6, "z": 1.0}
# the same for syslog text: characters per 1,200 of real device and Linux log lines (SEKOIA's
# samples of the formats the parsers read, ../shared/log-samples); spaces and letters are common
# there, where the JSON table makes a pair of a space and a letter look rare
_TEXT_FREQ = {"e": 86.4, "t": 71.7, " ": 64.5, "n": 58.3, "o": 54.4, "a": 52.4, "s": 52.3, "i": 51.8,
              "r": 47.5, '"': 46.9, "0": 43.7, "c": 39.4, "l": 36.2, "d": 35.6, "1": 35.5, "p": 30.9,
              "=": 28.5, "u": 26.1, ",": 25.1, "2": 23.7, ":": 22.6, "f": 21.9, ".": 20.0, "m": 17.8,
              "g": 15.1, "v": 15.0, "3": 14.3, "4": 13.9, "5": 13.8, "-": 12.5, "h": 11.2, "y": 11.1,
              "6": 10.9, "x": 10.4, "8": 8.9, "7": 8.8, "9": 8.6, "b": 8.3, "\x7f": 6.9, "w": 5.7,
              "/": 5.7, "|": 3.9, "k": 3.9, "*": 3.1, "z": 2.5, "{": 1.5, "}": 1.5, "'": 1.3, "q": 1.2,
              "j": 1.1}
_RARE = 0.5
_PAIR_REACH = 3  # a pair's second byte at most this far after its first
_PAIR_COST = 500.0  # one more pair is one more compare per block of every line: as this many hits
# syslog routes' keywords (150-170 in SigmaHQ's linux rules) need 15-40 pairs; measured on the
# bench's lines (CaseFree alone, costs 100 to 30,000): 2,000 is the cheapest, ~17% under 500
_TEXT_PAIR_COST = 2000.0


def case_free_pairs(needles: list[str], freq: dict[str, float] = _JSON_FREQ,
                    pair_cost: float = _PAIR_COST) -> list[tuple[str, int, int]]:
    """(needle, i, j) for _gatefast.CaseFree: two bytes of each needle (i < j <= i +
    _PAIR_REACH) that find it; few distinct pairs (each is compared in every block of every
    line) of rare bytes (each occurrence is a candidate compared in full). Greedy: the pair of
    the lowest cost per needle it finds, until every needle has one; a pair's items adjacent."""
    def key(n: str, i: int, j: int) -> tuple[str, str, int]:
        return chr(ord(n[i]) | 0x20), chr(ord(n[j]) | 0x20), j - i

    where: dict[tuple[str, str, int], dict[int, tuple[int, int]]] = {}
    for k, n in enumerate(needles):
        for i in range(len(n)):
            for j in range(i + 1, min(len(n), i + _PAIR_REACH + 1)):
                where.setdefault(key(n, i, j), {}).setdefault(k, (i, j))
    out: list[tuple[str, int, int]] = []
    left = set(range(len(needles)))
    while left:
        def cost(p: tuple[str, str, int]) -> float:
            found = len(left.intersection(where[p]))
            hits = freq.get(p[0], _RARE) * freq.get(p[1], _RARE)
            return (hits + pair_cost) / found if found else float("inf")
        best = min(sorted(where), key=cost)
        for k in sorted(left.intersection(where[best])):
            out.append((needles[k], *where[best][k]))
            left.discard(k)
    return out


def _case_free(needles: list[str], freq: dict[str, float] = _JSON_FREQ,
               pair_cost: float = _PAIR_COST) -> Callable[[str], bool] | None:
    """The C gate telling whether one of `needles` (ASCII) may be in a raw line's lowercase,
    or None: not built, NOCSOC_ENGINE_GATES=python, a needle of one character, or more pairs
    than it compares in blocks."""
    if _CaseFree is None or os.environ.get("NOCSOC_ENGINE_GATES", "c") == "python" \
            or not needles or any(len(n) < 2 or not n.isascii() for n in needles):
        return None
    items = case_free_pairs(needles, freq, pair_cost)
    if len({(chr(ord(n[i]) | 0x20), chr(ord(n[j]) | 0x20), j - i) for n, i, j in items}) > _MAX_PAIRS:
        return None
    gate: Callable[[str], bool] = _CaseFree(items)
    return gate


def raw_lower_bytes_reference(e: LogEvent) -> bytes:
    """The raw line's bytes that ASCII keyword needles are searched in. _gatefast.raw_lower_bytes
    does the same in C (tests/detections/test_gatefast.py): one pass over a line of one-byte
    characters (nearly every log line) where this was a call, two searches, a copy and its
    lowercase (~1,000-2,000 instructions a firewall line)."""
    raw = e.raw
    # the two characters whose lowercase holds ASCII (U+0130 -> "i" + U+0307, KELVIN SIGN ->
    # "k": checked over all of Unicode in the tests): with one, the exact lowercase is encoded
    if "\u0130" in raw or "\u212a" in raw:
        return e.raw_lower().encode("utf-8", "surrogatepass")
    # Latin-1, dropping what it cannot encode: a copy where UTF-8 expands every non-ASCII
    # character (0.6 us where UTF-8 took 1.1 on a 1.6 KB EVTX record holding one `®`). No
    # ASCII needle is missed: its match is a run of ASCII characters, which are all kept, in
    # order; a character dropped between two runs may join them into a false candidate, which
    # only runs the rule's predicate.
    return raw.encode("latin-1", "ignore").lower()


_raw_lower_bytes: Callable[[LogEvent], bytes] = (
    _c_raw_lower_bytes if _c_raw_lower_bytes is not None and _C_GATES else raw_lower_bytes_reference)


class Engine:
    def __init__(self, ruleset: RuleSet, max_groups: int = 100_000, sweep_every_s: float = 30.0,
                 reorder_window_s: float = 0.0, reorder_max_events: int = 100_000) -> None:
        """`reorder_window_s` > 0: the events that feed correlations are put back in event-time
        order first (`nocsoc.detections.reorder`), held up to that long; `tick` and `flush`
        release them."""
        self.ruleset = ruleset
        self.rules = ruleset.rules
        self._routes: dict[tuple[Any, ...], Route] = ruleset.routes()
        self._dispatch = _Routes(self._routes)  # an event's route found, its rules run
        self.trackers: list[CorrelationTracker] = []
        # referenced rule (id of pySigma object) -> trackers to feed
        self._feeds: dict[int, list[CorrelationTracker]] = {}
        for corr in ruleset.correlations:
            keys = [id(ref.rule) for ref in corr.rules or []]
            tr = CorrelationTracker(corr, keys, max_groups=max_groups)
            self.trackers.append(tr)
            for k in set(keys):
                self._feeds.setdefault(k, []).append(tr)
        self._meta = {id(tr): _corr_meta(tr.corr) for tr in self.trackers}
        self.sweep_every_s = sweep_every_s
        self._next_sweep = 0.0
        # plain ints on the hot path (one engine thread); Counters for the rarer ones
        self.events = 0
        self.detections = 0
        self.counters = Counters(LOG_COLLECTOR, {"component": "rules"}, only=(
            "incidents", "errors", "correlation_groups", "correlation_evicted", "correlation_missing",
            "correlation_past_window", "correlation_too_old", "reorder_held", "reorder_overflow",
            "reorder_late"))
        self._reorder: ReorderBuffer[tuple[int, LogEvent]] | None = (
            ReorderBuffer(reorder_window_s, reorder_max_events)
            if reorder_window_s > 0 and self.trackers else None)
        # correlations are swept at the time they have seen: behind the stream by the reordering
        self._lag = reorder_window_s if self._reorder is not None else 0.0
        self._unreported = False  # a fired incident may have gained events `tick` reports
        self.rule_hits: dict[str, int] = {}
        self._ids_cache: dict[int, str] | None = None  # see _rule_ids
        self._on_error = self._error  # (bound once: `process` passes it on every event)

    def route(self, event: LogEvent) -> Route:
        key = event.route_key
        route = self._routes.get(key)
        if route is None:
            p, s, c = key[0], key[1], key[2]
            rules = [r for r in self.rules if r.applies_to(p, s, c)]
            if len(key) > 3:  # Windows events route by EventID too (nocsoc.detections.windows)
                eid = key[3]
                rules = [r for r in rules if r.event_ids is None or eid in r.event_ids]
            route = self._routes[key] = build_route(rules)
        return route

    def _error(self) -> None:
        """A predicate raised (`dispatch`): counted, the stream goes on."""
        self.counters.add("errors")

    def _hit(self, rule: CompiledRule, event: LogEvent, out: list[Detection]) -> None:
        self.rule_hits[rule.id] = self.rule_hits.get(rule.id, 0) + 1
        if rule.generate:
            out.append(self._rule_detection(rule, event))
        key = id(rule.rule)
        feeds = self._feeds.get(key)
        if feeds:
            if self._reorder is not None:  # back in event-time order first
                for _t, (k, ev) in self._reorder.push(event.time, (key, event)):
                    self._correlate(k, ev, out)
                return
            self._correlate(key, event, out)

    def process(self, event: LogEvent) -> list[Detection]:
        """Test one event; return the detections it causes (often none)."""
        out: list[Detection] = []
        t = event.time
        hits = self._dispatch(event, self._on_error)
        if hits is False:  # no route yet for this kind of event: built, then dispatched
            hits = _dispatch(self.route(event).spec, event, self._on_error)
        if hits is not None:
            for rule in hits:
                self._hit(rule, event, out)
        if self.trackers and t >= self._next_sweep:
            self._sweep(t, out)
        self.events += 1
        if out:
            self.detections += len(out)
        return out

    def _sweep(self, t: float, out: list[Detection]) -> None:
        """Every sweep_every_s of event time: free idle correlation windows. Events held for
        reordering that any event's time has passed (a window ago) go in first: a window must
        not be freed while an event of it is held."""
        self._next_sweep = t + self.sweep_every_s
        if self._reorder is not None:
            for _, (k, ev) in self._reorder.advance(t):
                self._correlate(k, ev, out)
        for tr in self.trackers:
            # nothing to free or hand out: no call (most correlations of a ruleset see none
            # of a stream's events: 10 of the bench mix's 16)
            if tr.groups or tr.ready or tr.closed:
                for firing in tr.sweep(t - self._lag):
                    out.append(self._firing_detection(tr, firing))

    def _correlate(self, key: int, event: LogEvent, out: list[Detection]) -> None:
        """Feed the correlations of rule (or correlation) `key` one event of theirs."""
        t = event.time
        for tr in self._feeds[key]:
            # most events make a new group of one event, held as the event (in C): what `feed`
            # would do first, without its call (`ready` is empty between feeds)
            fast = tr.fast.get(key)
            if fast is not None and _c_new_group(tr.groups, fast, event, t, tr.max_groups) is None:
                continue
            f = tr.feed_past_new(key, event, t)
            if tr.ready:  # updates of windows that went away: before what this event started
                self._report(tr, out)
            if f is None:
                continue
            if f is EXTENDED:  # counted into a fired incident: reported by `tick`
                self._unreported = True
            else:
                self.counters.add("incidents")
                out.append(self._firing_detection(tr, f))
            # correlations of correlations (e.g. success after a brute force) see every event
            # of the incident, as they would a rule's matches
            if id(tr.corr) in self._feeds:
                self._correlate(id(tr.corr), event, out)

    def _report(self, tr: CorrelationTracker, out: list[Detection]) -> None:
        for f in tr.report():
            out.append(self._firing_detection(tr, f))

    def _rule_detection(self, rule: CompiledRule, event: LogEvent) -> Detection:
        src, dst, user = _firsts(event.fields, _WHO)
        host, t = event.host, event.time
        return Detection(rule.id, rule.title, rule.level, rule.tags, "rule", f"host={host}|src={src}", True,
                         1, t, t, host, src, dst, user, [event])

    def _firing_detection(self, tr: CorrelationTracker, f: Firing) -> Detection:
        rid, title, level, tags = self._meta[id(tr)]
        gk = "|".join(f"{k}={v}" for k, v in zip(tr.group_by, f.group, strict=False))
        ev = f.events[-1] if f.events else None
        src, dst, user = _firsts(ev.fields if ev else {}, _WHO)
        return Detection(rid, title, level, tags, "correlation", gk, f.new, f.count, f.first_seen,
                         f.last_seen, ev.host if ev else "", src, dst, user, list(f.events))

    def held(self) -> int:
        """What the engine holds back: correlation events held for reordering, plus one if
        fired incidents have gained events not reported yet. The pipeline calls `tick` while
        this is not 0, and is idle only when it is."""
        n = len(self._reorder) if self._reorder is not None else 0
        if self._unreported:
            if any(tr.unreported() for tr in self.trackers):
                n += 1
            else:
                self._unreported = False
        return n

    def _report_all(self, out: list[Detection]) -> list[Detection]:
        """Every fired incident's events gained since the last report: one update each."""
        self._unreported = False
        for tr in self.trackers:
            if tr.unreported():
                self._report(tr, out)
        return out

    def reorder_mark(self) -> int:
        """Where the reordering stands: compare with `reorder_released` later."""
        return self._reorder.pushed if self._reorder is not None else 0

    def reorder_release(self, mark: int) -> list[Detection]:
        """Release (in event-time order) the held events that arrived up to `mark`, with what
        is dated before them: a bound on how long `reorder_released(mark)` can stay false."""
        out: list[Detection] = []
        if self._reorder is not None:
            for _, (k, ev) in self._reorder.release_arrivals(mark):
                self._correlate(k, ev, out)
        return out

    def reorder_released(self, mark: int) -> bool:
        """Every event held for reordering up to `mark` (`reorder_mark`) has been released, and
        so counted in its correlations, and what fired incidents gained has been reported (by
        `tick`): an input's position stored past an event counted into an incident but not yet
        reported would lose that count after a crash."""
        if self._unreported and any(tr.unreported() for tr in self.trackers):
            return False
        return self._reorder is None or self._reorder.oldest_held() > mark

    def tick(self) -> list[Detection]:
        """Release the correlation events held for the reorder window of wall-clock time (the
        pipeline calls this a few times a second, so a quiet stream is not held back), and
        report what fired incidents have gained since the last tick (their alerts' count and
        last_seen)."""
        out: list[Detection] = []
        if self._reorder is not None and len(self._reorder):
            for _, (k, ev) in self._reorder.tick():
                self._correlate(k, ev, out)
        return self._report_all(out) if self._unreported else out

    def reorder_clock(self, clock: Callable[[], float]) -> None:
        """The reorder buffer's clock (`tick`: how long an event has been held), instead of the
        wall clock: a bus detector's partition, its stream's receive times (nocsoc.bus.engines)."""
        if self._reorder is not None:
            self._reorder.clock = clock

    def release_due(self) -> list[Detection]:
        """`tick`'s release of the events held a window by the reorder clock, without the report
        of what fired incidents gained (a bus detector's partition, at each line: its clock
        moves with its stream)."""
        out: list[Detection] = []
        if self._reorder is not None and len(self._reorder):
            for _, (k, ev) in self._reorder.tick():
                self._correlate(k, ev, out)
        return out

    def held_since(self) -> dict[int, float]:
        """Arrival number (`held_events`) -> the reorder clock's time it was held at."""
        return self._reorder.held_since() if self._reorder is not None else {}

    def drain(self) -> list[Detection]:
        """Every held correlation event, in order, and every unreported update (stop, end of a
        hunt)."""
        out: list[Detection] = []
        if self._reorder is not None:
            for _, (k, ev) in self._reorder.drain():
                self._correlate(k, ev, out)
        return self._report_all(out)

    def flush(self, now: float) -> list[Detection]:
        """End of input (hunting) or a quiet stream: release what is held for reordering and
        report what incidents gained, then close windows whose time has passed."""
        out = self.drain()
        for tr in self.trackers:
            for f in tr.sweep(now):
                out.append(self._firing_detection(tr, f))
        return out

    def state_size(self) -> int:
        return sum(tr.state_size() for tr in self.trackers)

    def counter_sets(self) -> list[Counters]:
        """The rules' counters, with the correlations' (plain ints on the engine thread) and the
        reorder buffer's brought up to date."""
        c, trs = self.counters, self.trackers
        c.set("correlation_groups", sum(tr.state_size() for tr in trs))
        c.set("correlation_evicted", sum(tr.evicted for tr in trs))
        c.set("correlation_missing", sum(tr.missing for tr in trs))
        c.set("correlation_past_window", sum(tr.past for tr in trs))
        c.set("correlation_too_old", sum(tr.too_old for tr in trs))
        rb = self._reorder
        c.set("reorder_held", len(rb) if rb is not None else 0)
        c.set("reorder_overflow", rb.overflow if rb is not None else 0)
        c.set("reorder_late", rb.late if rb is not None else 0)
        return [c]

    def snapshot(self, max_groups: int | None = None, scope: str | None = None) -> dict[str, dict[str, Any]]:
        """Every correlation's windows by rule id (for `AlertStore.ingest(correlations=...)`),
        at most `max_groups` a rule, the most recently active; `scope`: one origin's only
        (`scope_by_origin`)."""
        return {self._meta[id(tr)][0]: tr.snapshot(max_groups, scope) for tr in self.trackers}

    def scope_by_origin(self) -> None:
        """Correlation windows per event origin (a bus detector's partition), so that one
        partition's windows move to another detector with it (nocsoc.bus.windows)."""
        for tr in self.trackers:
            tr.scope_by_origin()

    def forget(self, scope: str) -> int:
        """Drop one origin's windows (just saved with `snapshot(scope=)`), and the events of it
        held for reordering (saved with them: `held_events`): groups dropped."""
        if self._reorder is not None and len(self._reorder):
            self._reorder.remove(lambda item: getattr(item[1], "origin", None) == scope)
        return sum(tr.forget(scope) for tr in self.trackers)

    # --- scoped windows saved group by group (a bus detector: nocsoc.bus.windows) -------------

    def window_changes(self) -> dict[str, dict[str, list[tuple[tuple[str, ...], list[Any] | None]]]]:
        """Scoped: the groups changed since the last call, by origin and rule id, each as
        `snapshot` saves it or None when gone (`CorrelationTracker.changes`)."""
        out: dict[str, dict[str, list[tuple[tuple[str, ...], list[Any] | None]]]] = {}
        for tr in self.trackers:
            if tr.dirty:
                rid = self._meta[id(tr)][0]
                for gk, entry in tr.changes():
                    out.setdefault(gk[0], {}).setdefault(rid, []).append((gk, entry))
        return out

    def redirty(self, changes: dict[str, dict[str, list[tuple[tuple[str, ...], list[Any] | None]]]]) -> None:
        """`window_changes` that were not saved (the store refused): changed still."""
        by_rid = {self._meta[id(tr)][0]: tr for tr in self.trackers}
        for per_rule in changes.values():
            for rid, groups in per_rule.items():
                tr = by_rid.get(rid)
                if tr is not None:
                    tr.dirty.update(gk for gk, _ in groups)

    def fingerprints(self) -> dict[str, str]:
        """Each correlation's `fingerprint`, by rule id (saved beside its groups)."""
        return {self._meta[id(tr)][0]: tr.fingerprint() for tr in self.trackers}

    def held_events(self) -> list[tuple[int, str, LogEvent]]:
        """The events held for reordering, oldest first: (arrival number, id of the rule they
        matched, event). With the windows, what a bus detector's partition holds."""
        rb = self._reorder
        if rb is None or not len(rb):
            return []
        ids = self._rule_ids()
        return [(seq, ids[k], ev) for seq, _t, (k, ev) in rb.entries()]

    def hold(self, rule_id: str, event: LogEvent) -> list[Detection] | None:
        """An event `held_events` gave (another engine's), held here as if it had just matched
        rule `rule_id`, in its place by event time (it was not late where it was held: it goes
        with the next release); its detections (without reordering: at once), or None when no
        correlation here takes that rule's events any more (the rules changed)."""
        key = next((k for k, rid in self._rule_ids().items() if rid == rule_id), None)
        if key is None:
            return None
        out: list[Detection] = []
        if self._reorder is not None:  # in its place: it was not late where it was held
            self._reorder.put_back(event.time, (key, event))
        else:
            self._correlate(key, event, out)
        return out

    def _rule_ids(self) -> dict[int, str]:
        """Referenced rule key (as the reorder buffer holds it) -> the rule's id."""
        ids = self._ids_cache
        if ids is None:
            ids = {id(r.rule): r.id for r in self.rules if id(r.rule) in self._feeds}
            self._ids_cache = ids
        return ids

    def restore(self, saved: dict[str, dict[str, Any]], merge: bool = False) -> tuple[int, list[str]]:
        """Load saved windows: (groups restored, ids of rules whose saved state no longer fits
        their definition and was left out). `merge`: add them to those held (an origin's windows
        handed over) rather than replace them."""
        restored, stale = 0, []
        for tr in self.trackers:
            rid = self._meta[id(tr)][0]
            snap = saved.get(rid)
            if snap is None:
                continue
            n = tr.restore(snap, merge)
            if n == 0 and snap.get("groups"):
                stale.append(rid)
            restored += n
        self._unreported = any(tr.unreported() for tr in self.trackers)
        return restored, stale
