"""Sigma correlation rules on a live stream: event_count, value_count, temporal, temporal_ordered.

State is per correlation and group-by key, sized by the condition (an event_count `gte: N` keeps at
most N+1 timestamps), freed when the group has been idle for a timespan (`sweep`), and capped at
`max_groups` (oldest evicted, counted). `snapshot`/`restore` carry it across a restart (the log
pipeline keeps it in the alert store): a brute force half counted before a restart is still
counted after it. A group that has seen one event (most groups: a scan's random sources) is held
as that event, its window made by a second one (`CorrelationTracker.compact`).

An incident fires once: `feed` returns a new Firing (count = the events of its window so far) on
the event that meets the condition, and the window stays *active*. Its later events are counted
into that incident, not fired again (`feed` returns EXTENDED): each active window keeps how many
events it has gained since it was last reported, when the first and last of them happened and
a few samples. `report` hands these out as ONE update Firing per window (new=False, count = the
events gained), which the alert store adds to the incident's alert (count, last_seen). A window
is reported by `report` (the engine's `tick`, a few times a second under the pipeline, and at
the end of input), and always before it goes away: a later event starts a new window, the group
is idle for a timespan (`sweep`) or evicted (`max_groups`). So the alert's count is every event
of the incident, however many there are, for one detection at the firing plus at most one per
report, where it used to be one detection per event (20k scanner lines: 39,901 detections).

Time is event time, in both directions. A group's window holds the events within one timespan
of its newest event, whatever order they arrive in. An event older than that cannot share a
window with them: it goes to a *past window* of the group (up to `past_windows` of them, each
evaluated on its own), so reading `auth.log.1` after `auth.log` neither adds the old attempts
to the new ones (a false brute force from two batches hours apart) nor loses a brute force
that is wholly in the old file. Beyond `past_windows`, an older event is dropped and counted
(`too_old`). Events only slightly out of order are best put back in order before they get
here (`nocsoc.detections.reorder`).

Conditions: one criterion, or a range (`gt: 100` with `lte: 200`, spec 2.x): every criterion
must hold. With an upper bound (`lt`, `lte`) the count is only known when the window closes:
then the largest count any window of the incident reached (its peak) is tested.
"""

from __future__ import annotations

import json
import operator
import os
import sys
from bisect import insort
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaCorrelationType,
)

from nocsoc.events import LogEvent

try:  # the two commonest steps of a group's life in C (see _gatefast.c); the Python below is their reference
    from nocsoc.detections._gatefast import new_group as _c_new_group
    from nocsoc.detections._gatefast import pop_idle as _c_pop_idle
except ImportError:  # not built
    _c_new_group = _c_pop_idle = None

Op = SigmaCorrelationConditionOperator
_OPS: dict[Op, Callable[[int, int], bool]] = {
    Op.GT: operator.gt,
    Op.GTE: operator.ge,
    Op.EQ: operator.eq,
    Op.NEQ: operator.ne,
    Op.LT: operator.lt,
    Op.LTE: operator.le,
}
_OP_NAMES = {op.name.lower(): op for op in Op}
_OTHER_ITEMS = ("field", "percentile")  # a condition's items besides its criteria
_AT_CLOSE = (Op.LT, Op.LTE)
# where the loader keeps a range condition for pySigma < 2, which takes exactly one criterion
RANGE_KEY = "x-nocsoc-condition"
# what the saved windows mean: restore leaves out a state saved by another layout
_STATE_VERSION = 2
_ORDERED_KEEP = 8  # temporal_ordered: the latest times kept per step and window


def prepare_documents(docs: list[Any]) -> list[Any]:
    """Parsed YAML documents ready for pySigma < 2: a correlation condition with a range
    (`gt: 100` and `lte: 200`, Sigma correlation spec 2.x) passes its first criterion to pySigma
    (which rejects more than one, and with it the whole file) and keeps all of them under
    RANGE_KEY in its correlation section, which pySigma keeps in the rule's custom_attributes.
    A criterion that is no count goes the same way, pySigma getting a placeholder: pySigma < 2
    raises on it outside its error collection, dropping the whole file, while here
    `condition_bounds` names it and the loader skips that correlation alone."""
    for i, doc in enumerate(docs):
        corr = doc.get("correlation") if isinstance(doc, dict) else None
        if not isinstance(corr, dict):
            continue
        cond = corr.get("condition")
        if not isinstance(cond, dict):
            continue
        ops = [k for k in cond if k in _OP_NAMES]
        odd = [k for k in cond if k not in _OP_NAMES and k not in _OTHER_ITEMS]
        bad = odd or not ops or any(_count(cond[k]) is None for k in ops)
        if len(ops) < 2 and not bad:
            continue
        first = {"gte": 0} if bad else {ops[0]: cond[ops[0]]}
        rest = {k: v for k, v in cond.items() if k in _OTHER_ITEMS}
        docs[i] = {**doc, "correlation": {**corr, "condition": {**first, **rest}, RANGE_KEY: dict(cond)}}
    return docs


def _count(v: Any) -> int | None:
    """A condition's count as written (an integer, or its digits); None for anything else."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            return None
    return None


def condition_bounds(corr: SigmaCorrelationRule) -> tuple[tuple[Op, int], ...]:
    """The criteria of a correlation's count condition, all of which must hold (one, or a range);
    () for an extended (boolean) temporal condition. Raises ValueError naming a criterion that
    is no count, or a range no count can meet."""
    cond = corr.condition
    if not isinstance(cond, SigmaCorrelationCondition):
        return ()
    section = corr.custom_attributes.get("correlation")
    raw = section.get(RANGE_KEY) if isinstance(section, dict) else None
    if not isinstance(raw, dict):
        return ((cond.op, cond.count),)
    out = []
    for name, v in raw.items():
        if name in _OTHER_ITEMS:
            continue
        if name not in _OP_NAMES:
            raise ValueError(f"correlation condition: unknown item {name!r} "
                             f"(criteria: {', '.join(_OP_NAMES)}; also {', '.join(_OTHER_ITEMS)})")
        n = _count(v)
        if n is None:
            raise ValueError(f"correlation condition {name}: {v!r} is no count")
        out.append((_OP_NAMES[name], n))
    if not out:
        raise ValueError(f"correlation condition has no criterion ({', '.join(_OP_NAMES)})")
    low, high = 0, None
    for op, n in out:
        if op in (Op.GT, Op.GTE, Op.EQ):
            low = max(low, n + 1 if op is Op.GT else n)
        if op in (Op.LT, Op.LTE, Op.EQ):
            top = n - 1 if op is Op.LT else n
            high = top if high is None else min(high, top)
    if high is not None and low > high:
        text = ", ".join(f"{k}: {v}" for k, v in raw.items() if k in _OP_NAMES)
        raise ValueError(f"correlation condition {{{text}}}: no count can meet it")
    return tuple(out)


class _Window:
    """The events of one group within one timespan. `state` depends on the correlation type
    (only what it needs is allocated: a group is created for most events of a value_count over
    random sources): event_count: deque of times, ascending; value_count: dict value ->
    latest time, ascending; temporal: dict rule key -> latest time; temporal_ordered: per step,
    a sorted list of (time, arrival) of the events that matched it. `time` is the newest event
    time (named as LogEvent's: a group of one event is held as that event, see `_One`), `peak`
    the largest count reached (for upper-bound conditions), `past` the group's older windows,
    newest first (None: none, the common case).

    Most groups see one event and expire (a scan over random sources): they get no window at
    all (`CorrelationTracker.compact`). A new one sets only what differs per window, the rest
    are class-level defaults an instance shadows when it first writes them (no __slots__ on
    purpose: with them every field is stored at creation; measured ~0.7 us against ~0.4 us a
    window here)."""

    # defaults of a new window (see the class docstring); an active window's events not
    # reported yet: `gained`, when the first and last of them happened, a few samples
    active = False
    peak = 0
    past: list[_Window] | None = None
    gained = 0
    gained_first = 0.0
    gained_last = 0.0
    gained_sample: list[LogEvent]  # _NO_EVENTS, set below the class
    queued = False  # in the tracker's list of windows to report

    def __init__(self, time: float, state: Any, first: LogEvent | None, total: int = 0) -> None:
        """A window whose first event is `first` (its first sample; None: samples loaded after),
        `total` of them counted already."""
        self.time = time
        self.state = state
        self.total = total
        self.sample: list[LogEvent] = [first] if first is not None else []

    def reset(self, time: float, state: Any, first: LogEvent) -> None:
        """A new window in the same group (the object reused: a stream of short incidents).
        Its gained events were reported before; `queued` stays as it is."""
        self.time = time
        self.state = state
        self.active = False
        self.total = 0
        self.peak = 0
        self.sample = [first]
        self.past = None


_NO_EVENTS: list[LogEvent] = []  # shared, never appended to: a window's gained samples are new lists
_Window.gained_sample = _NO_EVENTS

# A group that has seen one event, held without a window (see `CorrelationTracker.compact`):
# the event itself where the tracker knows its rule key (one referenced rule) and its time is
# the event's, else (time, event, rule key, arrival number). Its window is made when a second
# event comes (`_expand`), as it would have been with the first.
_One = LogEvent | tuple[float, LogEvent, int, int]
Entry = _Window | _One  # what `CorrelationTracker.groups` holds


def _interned(name: Any) -> Any:
    """A field name as the event's dict finds it fastest: interned (see FieldScan.field)."""
    return sys.intern(name) if type(name) is str else name


def _newest(g: Entry) -> float:
    """A group's newest event time, whichever way it is held."""
    return g[0] if g.__class__ is tuple else g.time  # type: ignore[union-attr]


@dataclass(slots=True)
class Firing:
    """A correlation result: a new incident (`new`), or the `count` events an active one has
    gained since it was last reported (`CorrelationTracker.report`)."""

    correlation: SigmaCorrelationRule
    group: tuple[str, ...]
    new: bool
    count: int
    first_seen: float
    last_seen: float
    events: list[LogEvent]


class _Extended:
    """What `feed` returns for an event counted into an incident that has already fired."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "EXTENDED"


EXTENDED: Any = _Extended()


class CorrelationTracker:
    """The state machine of one correlation rule. `keys` are the referenced rules, in order."""

    def __init__(self, corr: SigmaCorrelationRule, keys: list[int], max_groups: int = 100_000,
                 samples: int = 5, past_windows: int = 3, compact: bool = True) -> None:
        """`compact`: hold a group of one event without a window where its count cannot meet
        the condition (see `compact` below); False makes a window for every group, as before
        groups were held so (the reference the tests compare the compact groups with)."""
        self.corr = corr
        self.type = corr.type
        self.keys = keys
        self.timespan = float(corr.timespan.seconds)
        self.max_groups = max_groups
        self.samples = samples
        self.past_windows = past_windows
        cond = corr.condition
        bounds = condition_bounds(corr)
        if not bounds:  # extended (boolean) temporal conditions: treated as "all referenced rules"
            bounds = ((Op.GTE, len(keys)),)
        if self.type in (SigmaCorrelationType.TEMPORAL, SigmaCorrelationType.TEMPORAL_ORDERED) \
                and corr.condition is None:
            bounds = ((Op.GTE, len(keys)),)
        self.bounds = bounds
        self._checks = tuple((_OPS[op], n) for op, n in bounds)
        # one criterion (the common case) is tested without the loop of `_met`
        self._op: Callable[[int, int], bool] | None = self._checks[0][0] if len(self._checks) == 1 else None
        self._n = self._checks[0][1]
        self.threshold = max(n for _, n in bounds)
        self.at_close = any(op in _AT_CLOSE for op, _ in bounds)
        fieldref = cond.fieldref if isinstance(cond, SigmaCorrelationCondition) else None
        self.value_field = fieldref[0] if isinstance(fieldref, list) else fieldref
        self.keep = self.threshold + 1 if self.type is SigmaCorrelationType.EVENT_COUNT \
            and not self.at_close else None
        self.group_by = list(corr.group_by or [])
        # aliases: alias name -> {referenced rule key -> field of that rule's events}
        self.aliases: dict[str, dict[int, str]] = {}
        # the loader resolves alias references over the collection; a rule given by the same
        # reference in `rules` stands in for one left unresolved (a tracker built by hand)
        resolved = {r.reference: id(r.rule) for r in corr.rules or []
                    if getattr(r, "rule", None) is not None}
        for alias in corr.aliases:
            self.aliases[alias.alias] = {
                id(ref.rule) if getattr(ref, "rule", None) is not None else resolved[ref.reference]: f
                for ref, f in alias.mapping.items()
                if getattr(ref, "rule", None) is not None or ref.reference in resolved}
        self.groups: OrderedDict[tuple[str, ...], Entry] = OrderedDict()
        # windows per origin (`scope_by_origin`): a group's key starts with its events' origin
        self.scoped = False
        # scoped only: the groups changed (or gone) since the last `changes()`, so that a bus
        # detector saves only those with each commit (nocsoc.bus.windows)
        self.dirty: set[tuple[str, ...]] = set()
        self.evicted = 0  # groups dropped at max_groups
        self.incidents = 0
        self.missing = 0  # events left out: a group-by field missing or empty
        self.past = 0  # events older than their group's window, counted in a past window
        self.too_old = 0  # events older than every window their group keeps: dropped
        self._with_past: set[tuple[str, ...]] = set()  # groups that have past windows
        # upper-bound windows closed by a later event, handed out by the next `sweep`
        self.closed: list[Firing] = []
        # windows whose gained events are reported by `report`, and the updates of windows that
        # went away before it (`ready`: handed out by the engine right after the feed)
        self._queued: list[tuple[tuple[str, ...], _Window]] = []
        self._gaining = 0  # windows with gained events
        self.ready: list[Firing] = []
        self._seq = 0  # arrival order (temporal_ordered: two events of the same time)
        self._chain_start = 0.0
        # a NaN time has reached a temporal_ordered step, or a restored one was out of order: its
        # steps are not known to be ascending (see `_temporal_ordered`)
        self._nan = False
        # referenced rule key -> the event fields of its group-by (aliases resolved once)
        # (interned, as the parsers' names are: found by identity in an event's fields)
        self._key_fields: dict[int, tuple[str, ...]] = {
            k: tuple(_interned(self.aliases.get(n, {}).get(k, n)) for n in self.group_by) for k in set(keys)}
        self._single = {k: f[0] for k, f in self._key_fields.items() if len(f) == 1 and f[0] != "host"}
        vf = self.value_field or ""
        self._value_fields = {k: _interned(self.aliases.get(vf, {}).get(k, vf)) for k in set(keys)}
        self._value_limit = max(self.threshold + 1, 1) * 4
        self._steps = len(keys)
        self._positions = {k: tuple(i for i in range(len(keys)) if keys[i] == k) for k in set(keys)}
        updates: dict[SigmaCorrelationType, Callable[[Any, int, LogEvent, float, float, float], int]] = {
            SigmaCorrelationType.EVENT_COUNT: self._event_count,
            SigmaCorrelationType.VALUE_COUNT: self._value_count,
            SigmaCorrelationType.TEMPORAL: self._temporal,
            SigmaCorrelationType.TEMPORAL_ORDERED: self._temporal_ordered}
        self._update = updates[self.type]
        steps = self._steps
        # a new window's state (called for most events of a value_count over random sources)
        self._new_state: Callable[[], Any] = {
            SigmaCorrelationType.EVENT_COUNT: deque, SigmaCorrelationType.VALUE_COUNT: dict,
            SigmaCorrelationType.TEMPORAL: dict}.get(self.type) or (lambda: [[] for _ in range(steps)])
        # a new group's state and count after its first event, as `_update` would leave them
        self._counting = self.type is SigmaCorrelationType.EVENT_COUNT
        self._fresh: Callable[[int, LogEvent, float], tuple[Any, int]] | None = {
            SigmaCorrelationType.EVENT_COUNT: self._fresh_event_count,
            SigmaCorrelationType.VALUE_COUNT: self._fresh_value_count}.get(self.type)
        # Nearly every group sees one event and expires (on the bench's mix, 48k of 49k feeds
        # made a group: random sources of scans, one failed login each): such a group is held as
        # its event (`_One`, no window, state or sample list: ~1.3 us a feed less, measured with
        # callgrind), where one event cannot fire (a count of 0 or 1 never meets the condition)
        # nor needs evaluating when its window closes (an upper bound). Its window is made by
        # the second event (`_expand`).
        self.compact = compact and not self.at_close and not self._met(0) and not self._met(1)
        distinct = set(keys)
        # the rule key of every event, when the tracker references one rule: a group of one
        # event is then the event itself (temporal_ordered keeps its arrival number too)
        self._bare_key = next(iter(distinct)) if len(distinct) == 1 \
            and self.type is not SigmaCorrelationType.TEMPORAL_ORDERED else None
        # rule key -> its group-by field, where a group's first event may be held in C
        # (`_c_steps`; the engine asks it before calling `feed`)
        self.fast: dict[int, str] = {}
        self._c_steps(_c_new_group is not None and os.environ.get("NOCSOC_ENGINE_GATES", "c") != "python")

    def _c_steps(self, on: bool) -> None:
        """Whether the commonest steps run in C (_gatefast): a group's first event held as the
        event (`new_group`, for the rule keys in `fast`, by their group-by field: one field,
        groups held bare, not per origin) and the idle ones freed (`pop_idle`, not per origin).
        Nearly every feed of the bench's mix (48k of 49k) makes a group that the sweep frees
        idle: ~5,400 + ~1,700 instructions in Python. Off: the Python below alone (the
        reference, tests). Called again after changing `compact` or `_bare_key` (tests)."""
        self._c_on = on  # (asked for: per origin, neither runs)
        self._pop_idle = _c_pop_idle if on and not self.scoped else None
        self.fast = {k: f for k, f in self._single.items()} if on and self.compact and not self.scoped \
            and self._bare_key is not None else {}

    @staticmethod
    def _fresh_event_count(key: int, event: LogEvent, t: float) -> tuple[Any, int]:
        """One time (`keep`, when set, is at least 1: threshold + 1)."""
        times: deque[float] = deque()
        times.append(t)
        return times, 1

    def _fresh_value_count(self, key: int, event: LogEvent, t: float) -> tuple[Any, int]:
        """The event's value, if it has one (`_value_limit` is at least 4)."""
        v = event.fields.get(self._value_fields[key])
        if v is None or v == "":
            return {}, 0
        return {(v if v.__class__ is str else str(v)).lower(): t}, 1

    def _met(self, value: int) -> bool:
        for op, n in self._checks:  # noqa: SIM110
            if not op(value, n):
                return False
        return True

    def _group_key(self, key: int, event: LogEvent) -> tuple[str, ...] | None:
        """The event's group: its group-by values, lower-cased (Sigma: values compare
        case-insensitively, so `Admin` and `admin` are one user); None when one is missing."""
        fields = event.fields
        out = []
        for fname in self._key_fields[key]:
            v = fields.get(fname)
            if v is None and fname == "host":  # the event's origin, not a parsed field
                v = event.host
            if v is None or v == "":
                return None
            out.append(str(v).lower())
        return tuple(out)

    def feed(self, key: int, event: LogEvent, t: float) -> Firing | None:
        """Count one event of referenced rule `key` at time `t`: a new Firing when it makes its
        window's condition true, EXTENDED when that window has fired already, else None."""
        fast = self.fast.get(key)
        if fast is not None and _c_new_group(self.groups, fast, event, t, self.max_groups) is None:
            return None  # a new group, held as this event
        return self.feed_past_new(key, event, t)

    def feed_past_new(self, key: int, event: LogEvent, t: float) -> Firing | None:
        """`feed` once `new_group` (for the keys in `fast`) has not taken the event: the engine
        asks `new_group` itself first, and asking it again here cost ~500 instructions on each
        of the events that go on (on the new formats' mix, most of the port scans' and host
        sweeps' events: their sources repeat)."""
        single = self._single.get(key)
        gk: tuple[str, ...] | None
        if single is not None:  # one group-by field (the common case), without the loop
            v = event.fields.get(single)
            gk = None if v is None or v == "" else ((v if v.__class__ is str else str(v)).lower(),)
        else:
            gk = self._group_key(key, event)
        if gk is None:
            # an event without a group-by field belongs to no group: left out and counted,
            # never pooled under "" with every other such event
            self.missing += 1
            return None
        if self.scoped:
            gk = (getattr(event, "origin", ""), *gk)
            self.dirty.add(gk)
        groups = self.groups
        g = groups.get(gk)
        span = self.timespan
        value = -1  # the count, once known
        if g is None:
            if len(groups) >= self.max_groups:
                self._drop(*groups.popitem(False))
                self.evicted += 1
            if self.compact:  # held as its event until a second one comes (see `compact`)
                groups[gk] = event if self._bare_key is not None and t == event.time \
                    else self._one(key, event, t)
                return None
            if self._fresh is not None:  # its state with the one event, without `_update`
                if self._counting:  # _fresh_event_count, inlined: most events start a window
                    state, value = deque((t,)), 1
                else:
                    state, value = self._fresh(key, event, t)
                w = groups[gk] = _Window(t, state, event, 1)
            else:
                w = groups[gk] = _Window(t, self._new_state(), event)
        else:
            groups.move_to_end(gk)  # most recent last: `sweep` frees from the front
            if g.__class__ is _Window:
                w = g
            elif t > _newest(g) + span:  # one event whose window is over: this one starts the next
                groups[gk] = self._one(key, event, t)
                return None
            else:
                w = groups[gk] = self._expand(g)  # type: ignore[arg-type]
            last = w.time
            if t > last + span:  # past the window: a new one starts (older ones are over)
                if w.gained:
                    self._gained(gk, w)
                if self.at_close or w.past is not None:
                    self._close(gk, w, True)
                w.reset(t, self._new_state(), event)
            else:
                if t < last - span:  # too old for it: never counted with the newer events
                    found = self._past_window(gk, w, t, event)
                    if found is None:
                        self.too_old += 1
                        return None
                    w = found
                    self.past += 1
                    if t > w.time:
                        w.time = t
                elif t > last:
                    w.time = t
                sample = w.sample
                if w.total and len(sample) < self.samples:  # (a past window just made has it)
                    sample.append(event)
        if value < 0:
            w.total += 1
            last = w.time
            value = self._update(w.state, key, event, t, last - span, last)
        if w.active:  # counted into the incident, reported by `report`
            n = w.gained
            if n == 0:
                self._gaining += 1
                w.gained_first = w.gained_last = t
                w.gained_sample = [event]
                if not w.queued:
                    w.queued = True
                    self._queued.append((gk, w))
            else:
                if t < w.gained_first:
                    w.gained_first = t
                elif t > w.gained_last:
                    w.gained_last = t
                if n < self.samples:
                    w.gained_sample.append(event)
            w.gained = n + 1
            return EXTENDED
        if self.at_close:
            if value > w.peak:
                w.peak = value
            return None
        op = self._op
        if not (op(value, self._n) if op is not None else self._met(value)):
            return None
        w.active = True
        self.incidents += 1
        sample = w.sample
        events = sample if sample[-1] is event else [*sample[:self.samples - 1], event]
        return Firing(self.corr, gk[1:] if self.scoped else gk, True, w.total, self._first(w.state, t),
                      w.time, events)

    def _one(self, key: int, event: LogEvent, t: float) -> _One:
        """A group's first event, held without a window (`compact`)."""
        if self._bare_key is not None and t == event.time:
            return event
        seq = 0
        if self.type is SigmaCorrelationType.TEMPORAL_ORDERED:  # its arrival, as `_update` numbers it
            self._seq += 1
            seq = self._seq
        return (t, event, key, seq)

    def _expand(self, one: _One) -> _Window:
        """The window of a group held as its one event (`_one`), as `feed` makes it with that
        event: its state holding it, its sample, a count of one."""
        if one.__class__ is tuple:
            t, event, key, seq = one
        else:
            event = one  # type: ignore[assignment]
            t, key, seq = event.time, self._bare_key or 0, 0  # (set whenever an event is held bare)
        typ = self.type
        state: Any
        if typ is SigmaCorrelationType.EVENT_COUNT:
            state = deque((t,))
        elif typ is SigmaCorrelationType.VALUE_COUNT:
            state = self._fresh_value_count(key, event, t)[0]
        elif typ is SigmaCorrelationType.TEMPORAL:
            state = {key: t}
        else:
            state = self._new_state()
            if t != t:  # NaN (see `_temporal_ordered`)
                self._nan = True
            for i in self._positions[key]:
                state[i].append((t, seq))
        return _Window(t, state, event, 1)

    def _window(self, g: Entry) -> _Window:
        """A group's window (made, not kept, for a group held as its one event)."""
        return g if g.__class__ is _Window else self._expand(g)  # type: ignore[arg-type]

    def _past_window(self, gk: tuple[str, ...], g: _Window, t: float, event: LogEvent) -> _Window | None:
        """The past window of `g` an event at `t` (older than g's window) belongs to: one whose
        timespan reaches it, or a new one if fewer than `past_windows` are kept; None: too old."""
        span = self.timespan
        past = g.past
        if past is None:
            past = g.past = []
            self._with_past.add(gk)
        for w in past:  # newest first
            if t >= w.time - span:
                return w
        if len(past) >= self.past_windows:
            return None
        w = _Window(t, self._new_state(), event)
        past.append(w)  # older than every kept one (none reached it)
        return w

    def _first(self, st: Any, t: float) -> float:
        """When the pattern that completed began (the incident's first_seen)."""
        typ = self.type
        if typ is SigmaCorrelationType.TEMPORAL_ORDERED:
            return self._chain_start
        if typ is SigmaCorrelationType.EVENT_COUNT:
            return st[0] if st else t
        if typ is SigmaCorrelationType.TEMPORAL:
            return min(st.values(), default=t)
        return min(t, next(iter(st.values()))) if st else t

    def _event_count(self, times: deque[float], key: int, event: LogEvent, t: float,
                     floor: float, last: float) -> int:
        if not times or t >= times[-1]:
            times.append(t)
        else:  # out of order within the window: in its place
            insort(times, t)
        while times[0] < floor:
            times.popleft()
        keep = self.keep
        if keep is not None:
            while len(times) > keep:
                times.popleft()
        return len(times)

    def _value_count(self, vals: dict[str, float], key: int, event: LogEvent, t: float,
                     floor: float, last: float) -> int:
        """`last`: the window's newest event time, this one's included: an event that is the
        newest (the in-order stream) is newer than every value, without looking. `vals` is a
        plain dict kept in ascending time order (a value seen again moves to the end): with str
        keys and float values the cyclic GC does not track it, where an OrderedDict was one
        more tracked object a window (windows churn: one a source of a scan), and the
        collections they caused cost ~1 us an event on the bench's mix."""
        v = event.fields.get(self._value_fields[key])
        if v is not None and v != "":
            sv = (v if v.__class__ is str else str(v)).lower()  # Sigma: `Admin` and `admin` are one
            if t >= last or not vals or t >= next(reversed(vals.values())):
                vals.pop(sv, None)
                vals[sv] = t
            elif vals.get(sv, floor - 1.0) < t:  # out of order: keep the times ascending
                vals[sv] = t
                ordered = sorted(vals.items(), key=lambda kv: kv[1])
                vals.clear()
                vals.update(ordered)
        while vals and next(iter(vals.values())) < floor:
            del vals[next(iter(vals))]
        limit = self._value_limit
        while len(vals) > limit:
            del vals[next(iter(vals))]
        return len(vals)

    def _temporal(self, seen: dict[int, float], key: int, event: LogEvent, t: float,
                  floor: float, last: float) -> int:
        if t > seen.get(key, floor - 1.0):
            seen[key] = t
        for k in [k for k, ts in seen.items() if ts < floor]:
            del seen[k]
        return len(seen)

    def _temporal_ordered(self, steps: list[list[tuple[float, int]]], key: int, event: LogEvent,
                          t: float, floor: float, last: float) -> int:
        """Steps 0..n-1 in order within the window: each step's event no earlier than the one
        before it (by time, then arrival), whatever order they arrived in."""
        self._seq += 1
        if t != t:  # NaN: from now on no order to rely on
            self._nan = True
        for i in self._positions[key]:
            step = steps[i]
            insort(step, (t, self._seq))
            if len(step) > _ORDERED_KEEP:
                del step[0]
        for step in steps:
            while step and step[0][0] < floor:
                del step[0]
        if not all(steps):  # a step with no event: no chain (the common case: attempts, no success)
            return 0
        # chains: (time and arrival of the step's event, start of the latest chain ending there)
        chains = [(ts, ts[0]) for ts in steps[0]]
        if self._nan:  # times that do not sort: every pair compared (the reference)
            for step in steps[1:]:
                nxt = []
                for ts in step:
                    starts = [start for prev, start in chains if prev < ts]
                    if starts:
                        nxt.append((ts, max(starts)))
                chains = nxt
                if not chains:
                    return 0
        else:
            # each step and `chains` ascending (insort; built in step order): the chains before
            # an event are a prefix of `chains` that grows with the step, so one pass with the
            # prefix's latest start (the first of equal ones, as max gives it) does what every
            # pair compared did (~60,000 instructions a feed of an SSH brute force's steps)
            for step in steps[1:]:
                nxt = []
                j, n, best = 0, len(chains), None
                for ts in step:
                    while j < n and chains[j][0] < ts:
                        start = chains[j][1]
                        if best is None or start > best:
                            best = start
                        j += 1
                    if best is not None:
                        nxt.append((ts, best))
                chains = nxt
                if not chains:
                    return 0
        self._chain_start = max(start for _, start in chains)
        return self._steps

    def _gained(self, gk: tuple[str, ...], w: _Window) -> None:
        """The events `w` gained since last reported, as one update Firing in `ready`."""
        if self.scoped:
            self.dirty.add(gk)
        self.ready.append(Firing(self.corr, gk[1:] if self.scoped else gk, False, w.gained,
                                 w.gained_first, w.gained_last, w.gained_sample))
        self._gaining -= 1
        w.gained = 0
        w.gained_sample = _NO_EVENTS

    def report(self) -> list[Firing]:
        """Every active window's events gained since its last report: one update Firing each
        (and those of windows gone since, first). The engine calls it at `tick` and at the end."""
        out, self.ready = self.ready, []
        if self._queued:
            for gk, w in self._queued:
                w.queued = False
                if w.gained:
                    self._gained(gk, w)
            self._queued = []
            out += self.ready
            self.ready = []
        return out

    def unreported(self) -> bool:
        """Whether `report` has something to hand out."""
        return bool(self.ready) or self._gaining > 0

    def _drop(self, gk: tuple[str, ...], g: Entry) -> None:
        """A group that goes away (evicted, or idle): its gained events are reported first."""
        if self.scoped:
            self.dirty.add(gk)
        if g.__class__ is not _Window:  # one event: nothing gained, no past
            return
        assert isinstance(g, _Window)  # (for mypy)
        self._with_past.discard(gk)
        if g.gained:
            self._gained(gk, g)
        for w in g.past or ():
            if w.gained:
                self._gained(gk, w)

    def _close(self, gk: tuple[str, ...], g: _Window, with_past: bool) -> None:
        """Windows that are over: an upper-bound condition is evaluated on each (its peak)."""
        if with_past:
            self._with_past.discard(gk)
        if not self.at_close:
            return
        for w in [g, *(g.past or ())] if with_past else [g]:
            if not w.active and self._met(w.peak):
                self.incidents += 1
                first = min((e.time for e in w.sample), default=w.time)  # the first events are kept
                self.closed.append(Firing(self.corr, gk[1:] if self.scoped else gk, True, w.total, first,
                                           w.time, list(w.sample)))

    def sweep(self, now: float) -> list[Firing]:
        """Free idle groups (idle for a timespan) and past windows over by then; evaluate
        `lt`/`lte` conditions at window close."""
        cutoff = now - self.timespan
        groups = self.groups
        if not self.closed and not self._with_past and not self.ready:
            if not groups:
                return []
            g = next(iter(groups.values()))
            if (g[0] if g.__class__ is tuple else g.time) >= cutoff:  # type: ignore[union-attr]
                return []  # nothing idle (the common case: most sweeps of most rules)
        out, self.closed = self.closed, []
        closing = self.at_close or bool(self._with_past)
        if self._pop_idle is not None:  # the idle groups of one event at the front, in C
            self._pop_idle(groups, cutoff, _Window)
        popitem, dirty = groups.popitem, self.dirty if self.scoped else None
        while groups:  # popped before it is looked at: most groups looked at are idle
            gk, g = popitem(False)  # (positional: a keyword costs its parsing, per group)
            if g.__class__ is not _Window:  # one event: nothing to report or close
                if (g[0] if g.__class__ is tuple else g.time) < cutoff:  # type: ignore[union-attr]
                    if dirty is not None:
                        dirty.add(gk)
                    continue
                groups[gk] = g  # the first one still in use goes back in its place
                groups.move_to_end(gk, False)
                break
            if g.time >= cutoff:
                groups[gk] = g
                groups.move_to_end(gk, False)
                break
            if dirty is not None:
                dirty.add(gk)
            if g.gained or g.past is not None:
                self._drop(gk, g)
            if closing:
                self._close(gk, g, True)
        if self.ready:
            out += self.ready
            self.ready = []
        if not self._with_past:
            return out + self.closed if self.closed else out
        for gk in list(self._with_past):
            g = self.groups[gk]
            assert isinstance(g, _Window)  # a group with past windows has its own
            keep = []
            for w in g.past or ():
                if w.time >= cutoff:
                    keep.append(w)
                    continue
                if w.gained:
                    self._gained(gk, w)
                if self.at_close:
                    self._close(gk, w, False)
            if self.scoped and len(keep) != len(g.past or ()):
                self.dirty.add(gk)
            g.past = keep or None
            if not keep:
                self._with_past.discard(gk)
        out += self.ready
        self.ready = []
        out += self.closed
        self.closed = []
        return out

    def state_size(self) -> int:
        return len(self.groups)

    def fingerprint(self) -> str:
        """What a saved state depends on: a rule whose window, grouping, condition or referenced
        rules changed starts empty instead of being fed a state of another meaning."""
        refs = [str(getattr(r.rule, "id", None) or getattr(r.rule, "name", None) or "")
                for r in self.corr.rules or []]
        bounds = [[op.name, n] for op, n in self.bounds]
        return json.dumps([_STATE_VERSION, self.type.name, self.timespan, self.group_by, bounds,
                           self.value_field, refs])

    def _dump(self, w: _Window, position: dict[int, int]) -> list[Any]:
        st = w.state
        if self.type is SigmaCorrelationType.EVENT_COUNT:
            state: Any = list(st)
        elif self.type is SigmaCorrelationType.VALUE_COUNT:
            state = list(st.items())
        elif self.type is SigmaCorrelationType.TEMPORAL:
            state = [[position[k], t] for k, t in st.items()]
        else:
            state = [[list(x) for x in step] for step in st]
        return [w.time, w.active, w.total, state, [e.to_dict() for e in w.sample], w.peak,
                [w.gained, w.gained_first, w.gained_last, [e.to_dict() for e in w.gained_sample]]]

    def _load(self, saved: list[Any]) -> _Window:
        """A window `_dump` gave (its gained events too; a state saved before they were kept,
        six items, has none)."""
        last, active, total, state, sample, peak = saved[:6]
        if self.type is SigmaCorrelationType.EVENT_COUNT:
            st: Any = deque(state)
        elif self.type is SigmaCorrelationType.VALUE_COUNT:
            st = {str(v): t for v, t in state}
        elif self.type is SigmaCorrelationType.TEMPORAL:
            st = {self.keys[i]: t for i, t in state}
        else:
            st = [[(float(t), int(seq)) for t, seq in step] for step in state]
        w = _Window(float(last), st, None)
        w.active, w.total, w.peak = bool(active), int(total), int(peak)
        w.sample = [LogEvent.from_dict(e) for e in sample]
        if len(saved) > 6:
            gained, first, last_gained, gained_sample = saved[6]
            w.gained, w.gained_first, w.gained_last = int(gained), float(first), float(last_gained)
            w.gained_sample = [LogEvent.from_dict(e) for e in gained_sample]
        return w

    def _saved(self, gk: tuple[str, ...], g: Entry, position: dict[int, int]) -> list[Any]:
        """One group as `snapshot` saves it: its key, window and past windows (a group held as
        its one event is saved as its window: the format does not depend on how it is held)."""
        w = self._window(g)
        return [list(gk), self._dump(w, position), [self._dump(p, position) for p in w.past or ()]]

    def snapshot(self, max_groups: int | None = None, scope: str | None = None) -> dict[str, Any]:
        """The windows as JSON-friendly data (rule keys, which are object ids, as positions):
        the `max_groups` most recently active ones (all with None), oldest first; with `scope`,
        only the windows of that origin (see `scope_by_origin`). Measured here,
        ~12 us and ~300 bytes a group: a bound keeps a scan from thousands of sources from
        stalling the engine thread on every save."""
        position = {k: self.keys.index(k) for k in set(self.keys)}
        items: Iterable[tuple[tuple[str, ...], Entry]] = self.groups.items()
        total = len(self.groups)
        if scope is not None:  # one origin's groups (scoped: their keys start with it)
            mine = [(gk, g) for gk, g in self.groups.items() if gk[0] == scope]
            items, total = mine, len(mine)
        if max_groups is not None and total > max_groups:
            items = list(items)[total - max_groups:]
        groups = [self._saved(gk, g, position) for gk, g in items]
        return {"fingerprint": self.fingerprint(), "incidents": self.incidents, "groups": groups,
                "left_out": total - len(groups)}

    def changes(self) -> list[tuple[tuple[str, ...], list[Any] | None]]:
        """Scoped: each group changed since the last call, as `snapshot` saves it, or None when
        it is gone (swept, evicted); the changes are then forgotten (`redirty` after a failed
        save). What a bus detector saves with each commit: the cost is the groups its events
        touched, not every group it holds."""
        if not self.dirty:
            return []
        position = {k: self.keys.index(k) for k in set(self.keys)}
        out: list[tuple[tuple[str, ...], list[Any] | None]] = []
        for gk in self.dirty:
            g = self.groups.get(gk)
            out.append((gk, None if g is None else self._saved(gk, g, position)))
        self.dirty = set()
        return out

    def scope_by_origin(self) -> None:
        """Keep windows per origin from now on: a group's key starts with `LogEvent.origin`
        (a bus detector's partition), so one origin's windows can be saved, handed to another
        process and dropped here (`snapshot(scope=)`, `restore(merge=True)`, `forget`) without
        touching the others'. Firings carry the group without it. Before any event only."""
        if self.groups:
            raise RuntimeError("scope_by_origin: the tracker has windows already")
        self.scoped = True
        self._c_steps(False)  # (group keys start with the origin; changes are noted)

    def forget(self, scope: str) -> int:
        """Drop the windows of origin `scope` (scoped), unreported counts included: they were
        just saved with `snapshot(scope=)`, which keeps them, and their next holder reports them.
        The number of groups dropped."""
        gone = [gk for gk in self.groups if gk[0] == scope]
        if self.dirty:  # its next holder saves them from now on
            self.dirty = {gk for gk in self.dirty if gk[0] != scope}
        for gk in gone:
            del self.groups[gk]
            self._with_past.discard(gk)
        if gone:
            dropped = set(gone)
            keep = [(gk, w) for gk, w in self._queued if gk not in dropped]
            for gk, w in self._queued:
                if gk in dropped:
                    w.queued = False
                    if w.gained:
                        self._gaining -= 1
            self._queued = keep
        return len(gone)

    def restore(self, snap: dict[str, Any], merge: bool = False) -> int:
        """Load a `snapshot` (oldest group first, as saved); the groups restored, or 0 when the
        rule changed since (see `fingerprint`). Expired windows go at the next `sweep`. `merge`:
        add them to the windows held (another origin's, handed over: see `scope_by_origin`)
        instead of replacing those."""
        if snap.get("fingerprint") != self.fingerprint():
            return 0
        if not merge:
            self.groups.clear()
            self._with_past.clear()
            self._queued = []
            self._gaining = 0
        else:  # an origin handed over again replaces what is left of it here
            for scope in {gk[0] for gk, _saved, _past in snap["groups"] if gk}:
                self.forget(scope)
        by_arrival = self.type is SigmaCorrelationType.TEMPORAL_ORDERED
        for gk, saved, past in snap["groups"]:
            g = self._load(saved)
            key = tuple(gk)
            if past:
                g.past = [self._load(p) for p in past]
                self._with_past.add(key)
            self.groups[key] = g
            for w in [g, *(g.past or ())]:
                if by_arrival:  # events from now on arrived after the saved ones (same-time steps)
                    self._seq = max(self._seq, max((seq for step in w.state for _t, seq in step), default=0))
                    if any(tt != tt for step in w.state for tt, _s in step) \
                            or any(step != sorted(step) for step in w.state):
                        self._nan = True  # (a state saved by `_dump` is in order)
                if w.gained:  # counted before the restart, not reported yet: reported next
                    w.queued = True
                    self._queued.append((key, w))
                    self._gaining += 1
        if merge:  # `sweep` frees from the front: least recently active first, as `feed` keeps them
            ordered = sorted(self.groups.items(), key=lambda kv: _newest(kv[1]))
            self.groups.clear()
            self.groups.update(ordered)
        while len(self.groups) > self.max_groups:
            self._drop(*self.groups.popitem(last=False))
            self.evicted += 1
        if not merge:
            self.incidents = int(snap.get("incidents", 0))
        return len(snap["groups"]) if merge else len(self.groups)
