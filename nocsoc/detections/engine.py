"""The streaming detection engine: route each event to the rules its logsource can match, run
the compiled predicates, feed correlations, and hand out Detections for the alert store.

Routing: the (product, services, categories) of an event selects, once per distinct triple, the
rules whose logsource it satisfies; the result is cached, so a web access line is never tested
against auditd rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sigma.correlations import SigmaCorrelationRule

from nocsoc.collectors.logs.event import LogEvent
from nocsoc.component import Counters
from nocsoc.detections.compiler import CompiledRule, gate_anchor, trie_regex
from nocsoc.detections.correlation import CorrelationTracker, Firing
from nocsoc.detections.loader import RuleSet

_SRC = ("src_ip", "c-ip", "SourceIp", "rhost")
_DST = ("dst_ip", "DestinationIp", "s-ip")
_USER = ("user", "cs-username", "User", "TargetUserName", "auid")


def _first(fields: dict[str, Any], names: tuple[str, ...]) -> str:
    for n in names:
        v = fields.get(n)
        if v not in (None, "", "-"):
            return str(v)
    return ""


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


@dataclass(slots=True)
class Route:
    """The rules one kind of event meets. `always` run on every event. The others are gated:
    per field, one regex over the anchors of their needles (see `required_needles` and
    `gate_anchor`) finds which rules can possibly match, and only those run."""

    always: list[CompiledRule]
    gated: list[CompiledRule]
    # (field or None for the raw line, trie regex of anchors, anchor -> indexes into `gated`)
    fields: list[tuple[str | None, re.Pattern[str], dict[str, tuple[int, ...]]]]

    @property
    def rules(self) -> list[CompiledRule]:
        return self.always + self.gated


def build_route(rules: list[CompiledRule]) -> Route:
    always: list[CompiledRule] = []
    gated: list[CompiledRule] = []
    anchors: dict[str | None, dict[str, set[int]]] = {}
    for r in rules:
        if not r.needles:
            always.append(r)
            continue
        idx = len(gated)
        gated.append(r)
        for f, n in r.needles:
            anchors.setdefault(f, {}).setdefault(gate_anchor(n), set()).add(idx)
    fields = []
    for f, by_anchor in anchors.items():
        words = sorted(by_anchor)
        # the regex reports the shortest anchor at a position; a rule whose anchor extends it
        # must be a candidate too
        cands = {a: tuple(sorted({i for b in words if b.startswith(a) for i in by_anchor[b]}))
                 for a in words}
        fields.append((f, trie_regex(words), cands))
    return Route(always, gated, fields)


class Engine:
    def __init__(self, ruleset: RuleSet, max_groups: int = 100_000, sweep_every_s: float = 30.0) -> None:
        self.ruleset = ruleset
        self.rules = ruleset.rules
        self._routes: dict[tuple[Any, ...], Route] = {}
        self.trackers: list[CorrelationTracker] = []
        # referenced rule (id of pySigma object) -> trackers to feed
        self._feeds: dict[int, list[CorrelationTracker]] = {}
        for corr in ruleset.correlations:
            keys = [id(ref.rule) for ref in corr.rules or []]
            tr = CorrelationTracker(corr, keys, max_groups=max_groups)
            self.trackers.append(tr)
            for k in set(keys):
                self._feeds.setdefault(k, []).append(tr)
        self._compiled_by_obj = {id(r.rule): r for r in self.rules}
        self.sweep_every_s = sweep_every_s
        self._next_sweep = 0.0
        # plain ints on the hot path (one engine thread); Counters for the rarer ones
        self.events = 0
        self.detections = 0
        self.counters = Counters("incidents", "errors")
        self.rule_hits: dict[str, int] = {}

    def route(self, event: LogEvent) -> Route:
        key = event.route_key
        route = self._routes.get(key)
        if route is None:
            p, s, c = key
            route = self._routes[key] = build_route([r for r in self.rules if r.applies_to(p, s, c)])
        return route

    def _hit(self, rule: CompiledRule, event: LogEvent, out: list[Detection]) -> None:
        self.rule_hits[rule.id] = self.rule_hits.get(rule.id, 0) + 1
        if rule.generate:
            out.append(self._rule_detection(rule, event))
        feeds = self._feeds.get(id(rule.rule))
        if feeds:
            for tr in feeds:
                self._feed(tr, id(rule.rule), event, event.time, out)

    def process(self, event: LogEvent) -> list[Detection]:
        """Test one event; return the detections it causes (often none)."""
        out: list[Detection] = []
        t = event.time
        route = self._routes.get(event.route_key) or self.route(event)
        rules = route.always
        if route.fields:
            found: set[int] | None = None
            for fname, rx, cands in route.fields:
                v = event.raw_lower() if fname is None else event.lower(fname)
                if v is None:
                    continue
                m = rx.search(v)
                while m is not None:  # every start position where some anchor occurs
                    if found is None:
                        found = set(cands[m.group(0)])
                    else:
                        found.update(cands[m.group(0)])
                    m = rx.search(v, m.start() + 1)
            if found:
                gated = route.gated
                rules = rules + [gated[i] for i in sorted(found)]
        for rule in rules:
            try:
                hit = rule.match(event)
            except Exception:  # a predicate bug on odd input must not stop the stream
                self.counters.add("errors")
                continue
            if hit:
                self._hit(rule, event, out)
        if self.trackers and t >= self._next_sweep:
            self._next_sweep = t + self.sweep_every_s
            for tr in self.trackers:
                for firing in tr.sweep(t):
                    out.append(self._firing_detection(tr, firing))
        self.events += 1
        if out:
            self.detections += len(out)
        return out

    def _feed(self, tr: CorrelationTracker, key: int, event: LogEvent, t: float,
              out: list[Detection]) -> None:
        f = tr.feed(key, event, t)
        if f is None:
            return
        if f.new:
            self.counters.add("incidents")
        # every firing reaches the store: a new incident creates the alert, later events of the
        # same incident increment it (so its count is the incident's size)
        out.append(self._firing_detection(tr, f))
        # correlations of correlations (e.g. success after a brute force)
        for dep in self._feeds.get(id(tr.corr), ()):
            self._feed(dep, id(tr.corr), event, t, out)

    def _rule_detection(self, rule: CompiledRule, event: LogEvent) -> Detection:
        f = event.fields
        src = _first(f, _SRC)
        return Detection(rule.id, rule.title, rule.level, rule.tags, "rule",
                         f"host={event.host}|src={src}", True, 1, event.time, event.time,
                         event.host, src, _first(f, _DST), _first(f, _USER), [event])

    def _firing_detection(self, tr: CorrelationTracker, f: Firing) -> Detection:
        rid, title, level, tags = _corr_meta(tr.corr)
        gk = "|".join(f"{k}={v}" for k, v in zip(tr.group_by, f.group, strict=False))
        ev = f.events[-1] if f.events else None
        fields = ev.fields if ev else {}
        return Detection(rid, title, level, tags, "correlation", gk, f.new, f.count, f.first_seen,
                         f.last_seen, ev.host if ev else "", _first(fields, _SRC), _first(fields, _DST),
                         _first(fields, _USER), list(f.events))

    def flush(self, now: float) -> list[Detection]:
        """End of input (hunting) or a quiet stream: close windows whose time has passed."""
        out: list[Detection] = []
        for tr in self.trackers:
            for f in tr.sweep(now):
                out.append(self._firing_detection(tr, f))
        return out

    def state_size(self) -> int:
        return sum(tr.state_size() for tr in self.trackers)
