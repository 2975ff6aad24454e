"""Sigma correlation rules on a live stream: event_count, value_count, temporal, temporal_ordered.

State is per correlation and group-by key, sized by the condition (an event_count `gte: N` keeps at
most N+1 timestamps), freed when the group has been idle for a timespan (`sweep`), and capped at
`max_groups` (oldest evicted, counted). An incident fires once: after firing, a group stays
*active* and later events only extend the alert, until the group goes idle for a timespan.
Times are event times, so hunting over old files behaves like the live stream.
"""

from __future__ import annotations

import operator
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaCorrelationType,
)

from nocsoc.collectors.logs.event import LogEvent

_OPS: dict[SigmaCorrelationConditionOperator, Callable[[int, int], bool]] = {
    SigmaCorrelationConditionOperator.GT: operator.gt,
    SigmaCorrelationConditionOperator.GTE: operator.ge,
    SigmaCorrelationConditionOperator.EQ: operator.eq,
    SigmaCorrelationConditionOperator.NEQ: operator.ne,
    SigmaCorrelationConditionOperator.LT: operator.lt,
    SigmaCorrelationConditionOperator.LTE: operator.le,
}
_AT_CLOSE = (SigmaCorrelationConditionOperator.LT, SigmaCorrelationConditionOperator.LTE)


@dataclass(slots=True)
class _Group:
    last: float
    times: deque[float] = field(default_factory=deque)
    values: OrderedDict[str, float] = field(default_factory=OrderedDict)
    seen: dict[int, float] = field(default_factory=dict)
    starts: list[float | None] = field(default_factory=list)
    active: bool = False
    total: int = 0
    sample: list[LogEvent] = field(default_factory=list)


@dataclass(slots=True)
class Firing:
    """A correlation result: a new incident (`new`) or one more event of an active one."""

    correlation: SigmaCorrelationRule
    group: tuple[str, ...]
    new: bool
    count: int
    first_seen: float
    last_seen: float
    events: list[LogEvent]


class CorrelationTracker:
    """The state machine of one correlation rule. `keys` are the referenced rules, in order."""

    def __init__(self, corr: SigmaCorrelationRule, keys: list[int], max_groups: int = 100_000,
                 samples: int = 5) -> None:
        self.corr = corr
        self.type = corr.type
        self.keys = keys
        self.timespan = float(corr.timespan.seconds)
        self.max_groups = max_groups
        self.samples = samples
        cond = corr.condition
        if isinstance(cond, SigmaCorrelationCondition):
            self.op, self.threshold = _OPS[cond.op], cond.count
            self.at_close = cond.op in _AT_CLOSE
            fieldref = cond.fieldref
            self.value_field = fieldref[0] if isinstance(fieldref, list) else fieldref
        else:  # extended (boolean) temporal conditions: treated as "all referenced rules"
            self.op, self.threshold, self.at_close, self.value_field = operator.ge, len(keys), False, None
        if self.type in (SigmaCorrelationType.TEMPORAL, SigmaCorrelationType.TEMPORAL_ORDERED) \
                and corr.condition is None:
            self.op, self.threshold = operator.ge, len(keys)
        self.keep = self.threshold + 1 if self.type is SigmaCorrelationType.EVENT_COUNT \
            and not self.at_close else None
        self.group_by = list(corr.group_by or [])
        # aliases: alias name -> {referenced rule key -> field of that rule's events}
        self.aliases: dict[str, dict[int, str]] = {}
        for alias in corr.aliases:
            self.aliases[alias.alias] = {id(ref.rule): f for ref, f in alias.mapping.items()
                                         if getattr(ref, "rule", None) is not None}
        self.groups: OrderedDict[tuple[str, ...], _Group] = OrderedDict()
        self.evicted = 0
        self.incidents = 0

    def _group_key(self, key: int, event: LogEvent) -> tuple[str, ...]:
        out = []
        for name in self.group_by:
            fname = self.aliases.get(name, {}).get(key, name)
            v = event.fields.get(fname)
            if v is None and fname == "host":  # the event's origin, not a parsed field
                v = event.host
            out.append("" if v is None else str(v))
        return tuple(out)

    def feed(self, key: int, event: LogEvent, t: float) -> Firing | None:
        gk = self._group_key(key, event)
        g = self.groups.get(gk)
        cutoff = t - self.timespan
        if g is None or g.last < cutoff:
            if g is None and len(self.groups) >= self.max_groups:
                self.groups.popitem(last=False)
                self.evicted += 1
            g = _Group(last=t)
            if self.type is SigmaCorrelationType.TEMPORAL_ORDERED:
                g.starts = [None] * len(self.keys)
            self.groups[gk] = g
        else:
            self.groups.move_to_end(gk)
        g.last = t
        g.total += 1
        if len(g.sample) < self.samples:
            g.sample.append(event)
        value = self._update(g, key, event, t, cutoff)
        if g.active:
            return Firing(self.corr, gk, False, 1, t, t, [event])
        if value is None or self.at_close or not self.op(value, self.threshold):
            return None
        g.active = True
        self.incidents += 1
        if self.type is SigmaCorrelationType.TEMPORAL_ORDERED:
            first = g.starts[-1] if g.starts and g.starts[-1] is not None else t
        else:
            first = g.times[0] if g.times else min(g.seen.values(), default=t)
        if g.values:
            first = min(first, next(iter(g.values.values())))
        # evidence: the first events of the window and the one that completed the pattern
        events = g.sample if g.sample[-1] is event else [*g.sample[:self.samples - 1], event]
        return Firing(self.corr, gk, True, g.total, first, t, events)

    def _update(self, g: _Group, key: int, event: LogEvent, t: float, cutoff: float) -> int | None:
        typ = self.type
        if typ is SigmaCorrelationType.EVENT_COUNT:
            times = g.times
            times.append(t)
            while times and times[0] < cutoff:
                times.popleft()
            if self.keep is not None:
                while len(times) > self.keep:
                    times.popleft()
            return len(times)
        if typ is SigmaCorrelationType.VALUE_COUNT:
            fname = self.value_field or ""
            fname = self.aliases.get(fname, {}).get(key, fname)
            v = event.fields.get(fname)
            vals = g.values
            if v is not None:
                sv = str(v)
                vals.pop(sv, None)
                vals[sv] = t
            while vals and next(iter(vals.values())) < cutoff:
                vals.popitem(last=False)
            limit = max(self.threshold + 1, 1) * 4
            while len(vals) > limit:
                vals.popitem(last=False)
            return len(vals)
        if typ is SigmaCorrelationType.TEMPORAL:
            g.seen[key] = t
            for k in [k for k, ts in g.seen.items() if ts < cutoff]:
                del g.seen[k]
            return len(g.seen)
        # temporal_ordered: starts[i] = latest start of a chain that completed steps 0..i in order
        starts = g.starts
        for i in range(len(self.keys) - 1, -1, -1):
            if self.keys[i] != key:
                continue
            if i == 0:
                starts[0] = t
            else:
                prev = starts[i - 1]
                if prev is not None and prev >= cutoff:
                    starts[i] = prev
        done = starts[-1] is not None and starts[-1] >= cutoff
        return len(self.keys) if done else 0

    def sweep(self, now: float) -> list[Firing]:
        """Free idle groups (idle for a timespan); evaluate `lt`/`lte` conditions at window close."""
        cutoff = now - self.timespan
        out: list[Firing] = []
        while self.groups:
            gk, g = next(iter(self.groups.items()))
            if g.last >= cutoff:
                break
            self.groups.popitem(last=False)
            if self.at_close and not g.active:
                value = len(g.times) if self.type is SigmaCorrelationType.EVENT_COUNT else len(g.values)
                if self.op(value, self.threshold):
                    self.incidents += 1
                    out.append(Firing(self.corr, gk, True, g.total, g.last, g.last, list(g.sample)))
        return out

    def state_size(self) -> int:
        return len(self.groups)

    def describe(self) -> dict[str, Any]:
        return {"type": self.type.name.lower(), "timespan_s": self.timespan,
                "group_by": self.group_by, "groups": len(self.groups), "incidents": self.incidents}
