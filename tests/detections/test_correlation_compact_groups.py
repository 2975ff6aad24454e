"""A correlation group that has seen one event is held as that event, its window made when a
second one comes (`CorrelationTracker.compact`: most groups of a scan or of a brute-force watch
see one event and expire). Compared here with trackers that make every group's window at its
first event through `_update` (`compact=False`, `_fresh=None`: the implementation before both
shortcuts), which must give the same firings, reports, counters and saved state:

- on random streams (out of order, past windows, too old, idle groups swept, groups evicted,
  snapshot and restore mid-stream), a one-event group held as the bare event and as a tuple
  (time, event, rule key, arrival), per origin too (a bus detector: the changes saved with each
  commit, one origin's windows saved, forgotten and merged back);
- through the engine, on the bench's mix (its events' times squeezed 30x so that brute forces,
  spraying and scans do fire, with jitter put back in order by the reorder buffer), and on the
  real lines of SEKOIA's samples and of the built-in pack's own rule tests.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from nocsoc.collectors.logs.ruletest import TEST_PLACEHOLDERS, parse_lines
from nocsoc.detections.correlation import CorrelationTracker, _c_new_group, _Window
from nocsoc.detections.engine import Detection, Engine
from nocsoc.detections.loader import RuleSet, builtin_rules_dir, load_rules
from nocsoc.events import LogEvent
from tests.conftest import SHARED
from tests.detections.test_correlation_fresh_windows import counters, run, step, stream, trackers


def reference(tr: CorrelationTracker, max_groups: int) -> CorrelationTracker:
    """A tracker of the same correlation that makes every window at its first event, through
    `_update`, as before groups could be held as their event."""
    ref = CorrelationTracker(tr.corr, tr.keys, max_groups=max_groups, past_windows=1, compact=False)
    ref._fresh = None
    ref._c_steps(False)  # the Python alone
    return ref


class Counting(CorrelationTracker):
    """Counts the windows made from a group held as its one event (the stream must reach it)."""

    expanded = 0

    def _expand(self, one: Any) -> _Window:
        self.expanded += 1
        return super()._expand(one)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("max_groups", [100_000, 40])
@pytest.mark.parametrize("bare", [True, False])
@pytest.mark.parametrize("c_steps", [True, False])
def test_groups_of_one_event_match_windows(tmp_path: Path, seed: int, max_groups: int, bare: bool,
                                           c_steps: bool) -> None:
    """`c_steps`: a group's first event held, and the idle ones freed, by _gatefast's new_group
    and pop_idle (where built), or by the Python alone."""
    if c_steps and _c_new_group is None:
        pytest.skip("C accelerator not built (tests/test_speedups.py says so)")
    compact = 0
    for tr, outcomes in trackers(tmp_path):
        for restore_at in (None, 700):
            events = stream(seed, 1500)
            a = Counting(tr.corr, tr.keys, max_groups=max_groups, past_windows=1)
            if not bare:  # each first event held as (time, event, rule key, arrival)
                a._bare_key = None
            a._c_steps(c_steps)
            # C makes the groups of event_count and value_count (one rule, held bare)
            assert bool(a.fast) == (c_steps and bare and a._bare_key is not None and a.compact)
            compact += a.compact
            out_a, a2 = run(a, outcomes, events, restore_at)
            out_b, b = run(reference(tr, max_groups), outcomes, events, restore_at)
            assert out_a == out_b
            assert counters(a2) == counters(b)
            assert json.dumps(a2.snapshot()) == json.dumps(b.snapshot())
            assert any(x != "None" for x in out_a)
            if a.compact:  # groups were held as one event, and made into windows
                assert a.expanded > 0
    # event_count gte 3, value_count gte 3, temporal, temporal_ordered (the others can fire on
    # one event, or are evaluated at close), each with and without a restore
    assert compact == 4 * 2


def test_groups_of_one_event_are_held_so(tmp_path: Path) -> None:
    """The comparison above compares something: the trackers hold one-event groups as the event,
    or as a tuple for several referenced rules (temporal, temporal_ordered)."""
    held: dict[str, set[str]] = {}
    for tr, outcomes in trackers(tmp_path):
        a = CorrelationTracker(tr.corr, tr.keys, past_windows=1)
        for i, (p, ev) in enumerate(stream(1, 300)):
            ev.fields["outcome"] = outcomes[p % len(tr.keys)]
            a.feed(tr.keys[p % len(tr.keys)], ev, ev.time)
            if i % 29 == 0:
                a.sweep(ev.time)
        held.setdefault(f"{tr.corr.type.name.lower()} {a.compact}", set()).update(
            type(g).__name__ for g in a.groups.values())
    assert held["event_count True"] == held["value_count True"] == {"LogEvent", "_Window"}
    assert held["temporal True"] == held["temporal_ordered True"] == {"tuple", "_Window"}
    assert held["event_count False"] == held["value_count False"] == {"_Window"}


def scoped_run(tr: CorrelationTracker, outcomes: list[str], events: list[tuple[int, LogEvent]]) -> list[Any]:
    """The stream per origin (three partitions by source): what is fed, reported and swept, the
    changes saved after each event, and one origin's windows saved, forgotten and merged back."""
    tr.scope_by_origin()
    out: list[Any] = []
    t_max = 0.0
    for i, (p, ev) in enumerate(events):
        pos = p % len(tr.keys)
        ev.origin = f"p{sum(map(ord, ev.fields.get('src_ip', ''))) % 3}"
        t_max = step(tr, outcomes[pos], tr.keys[pos], ev, i, t_max, out)
        out.append(("changes", json.dumps(sorted(tr.changes(), key=lambda c: c[0]))))
        if i in (500, 1000):  # partition p1 handed over and back
            snap = json.loads(json.dumps(tr.snapshot(scope="p1")))
            out.append(("handed", snap, tr.forget("p1")))
            out.append(("merged", tr.restore(snap, merge=True)))
    out.append(("state", tr.snapshot(), counters(tr)))
    return out


@pytest.mark.parametrize("seed", [4, 5])
@pytest.mark.parametrize("bare", [True, False])
def test_groups_of_one_event_match_windows_per_origin(tmp_path: Path, seed: int, bare: bool) -> None:
    for tr, outcomes in trackers(tmp_path):
        a = CorrelationTracker(tr.corr, tr.keys, max_groups=60, past_windows=1)
        if not bare:
            a._bare_key = None
            a._c_steps(True)  # (per origin: Python alone whatever this says)
        events = stream(seed, 1500)
        assert scoped_run(a, outcomes, events) == scoped_run(reference(tr, 60), outcomes, events)


# --- through the engine --------------------------------------------------------------------


def detections(rs: RuleSet, events: list[LogEvent], compact: bool, reorder_s: float = 0.0) -> list[Any]:
    """Every detection of the engine over the events (ticks and the flush at the end included),
    its windows saved midway and at the end, and its counters."""
    eng = Engine(rs, max_groups=5_000, sweep_every_s=30, reorder_window_s=reorder_s)
    for tr in eng.trackers:
        tr.compact = tr.compact and compact
        tr._c_steps(compact)  # compact: C's steps where built; the reference: the Python alone
    out: list[Any] = []

    def add(ds: list[Detection]) -> None:
        out.extend(json.dumps({**asdict(d), "samples": [e.to_dict() for e in d.samples]}, sort_keys=True)
                   for d in ds)

    for i, ev in enumerate(events):
        ev._low = None
        add(eng.process(ev))
        if i % 997 == 0:
            add(eng.tick())
        if i == len(events) // 2:
            out.append(json.dumps(eng.snapshot(), sort_keys=True))
    out.append(json.dumps(eng.snapshot(), sort_keys=True))
    add(eng.flush(max(ev.time for ev in events) + 86_400))
    out.append(json.dumps([c.snapshot() for c in eng.counter_sets()], sort_keys=True, default=str))
    return out


def compare(rs: RuleSet, events: list[LogEvent], reorder_s: float = 0.0) -> list[Any]:
    got = detections(rs, events, True, reorder_s)
    assert got == detections(rs, events, False, reorder_s)
    return got


def fired(out: list[Any]) -> set[str]:
    """Titles of the correlations that fired (a new incident)."""
    return {d["title"] for d in map(json.loads, out) if isinstance(d, dict) and d.get("kind") == "correlation"
            and d.get("new")}


@pytest.mark.skipif(not (SHARED / "sigmahq" / "rules").is_dir(), reason=f"{SHARED}/sigmahq absent")
def test_the_bench_mix_gives_the_same_alerts() -> None:
    from bench.bench_detections import _rule_paths, make_lines

    rs = load_rules(_rule_paths(), include_builtin=True)
    events = list(parse_lines(make_lines(30_000)))
    compare(rs, events)
    # squeezed 30x, with up to 4 s of jitter put back in order: correlations fire and extend
    rnd = random.Random(9)
    t0 = min(ev.time for ev in events)
    for ev in events:
        ev.time = t0 + (ev.time - t0) / 30 + rnd.uniform(0, 4)
    got = compare(rs, events, reorder_s=5.0)
    assert {"SSH Brute Force From One Source", "SSH Password Spraying From One Source",
            "SSH Login Success After Brute Force", "Link Flapping on the Backbone"} <= fired(got)


@pytest.mark.skipif(not (SHARED / "log-samples").is_dir(), reason=f"{SHARED}/log-samples absent")
def test_real_lines_give_the_same_alerts() -> None:
    """SEKOIA's real samples of every format in turn (the bench's second mix), and the built-in
    pack's own rule tests (brute forces, spraying, bursts, sweeps: its correlations' samples)."""
    from bench.bench_detections import sample_lines

    rs = load_rules([], include_builtin=True, placeholders=TEST_PLACEHOLDERS)
    events = list(parse_lines(sample_lines(20_000)))
    compare(rs, events)
    lines = [line for p in sorted((builtin_rules_dir() / "tests").glob("*.log"))
             for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    got = compare(rs, list(parse_lines(lines)))
    assert len(fired(got)) >= 5
