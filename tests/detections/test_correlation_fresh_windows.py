"""A new correlation window's state built directly (`CorrelationTracker._fresh`, the common case
of a scan over random sources) against the same window built through `_update`: on random
streams (out of order, past windows, too old, idle groups swept, groups evicted, snapshot and
restore mid-stream) every firing, report, counter and saved state is the same."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from nocsoc.detections.correlation import EXTENDED, CorrelationTracker, Firing
from nocsoc.detections.engine import Engine
from nocsoc.detections.loader import load_rules
from nocsoc.events import LogEvent

BASE = """
title: Fail
id: 22222222-0000-4000-8000-000000000001
name: fail
logsource: {product: linux, service: sshd}
detection: {sel: {outcome: failure}, condition: sel}
level: low
---
title: Ok
id: 22222222-0000-4000-8000-000000000002
name: ok
logsource: {product: linux, service: sshd}
detection: {sel: {outcome: success}, condition: sel}
level: low
"""


def corr(n: int, body: str) -> str:
    lines = "".join(f"    {line}\n" for line in body.strip().splitlines())
    return f"title: C{n}\nid: 22222222-0000-4000-8000-0000000001{n:02d}\nlevel: high\ncorrelation:\n{lines}"


CORRELATIONS = [
    "type: event_count\nrules: [fail]\ngroup-by: [src_ip]\ntimespan: 60s\ncondition: {gte: 3}",
    "type: event_count\nrules: [fail]\ngroup-by: [src_ip]\ntimespan: 60s\ncondition: {gte: 1}",
    "type: event_count\nrules: [fail]\ngroup-by: [src_ip, user]\ntimespan: 30s\ncondition: {gt: 1, lte: 4}",
    "type: value_count\nrules: [fail]\ngroup-by: [src_ip]\ntimespan: 60s\ncondition: {gte: 3, field: user}",
    "type: value_count\nrules: [fail]\ngroup-by: [src_ip]\ntimespan: 60s\ncondition: {gte: 1, field: user}",
    "type: value_count\nrules: [fail, ok]\ngroup-by: [src_ip]\ntimespan: 45s\n"
    "condition: {lt: 3, field: user}",
    "type: temporal\nrules: [fail, ok]\ngroup-by: [src_ip]\ntimespan: 30s",
    "type: temporal_ordered\nrules: [fail, ok]\ngroup-by: [src_ip]\ntimespan: 30s",
]


def trackers(tmp_path: Path) -> list[tuple[CorrelationTracker, list[str]]]:
    """Each correlation's tracker (built as the engine builds them), with the referenced rules'
    outcomes in the order of its keys."""
    p = tmp_path / "rules.yml"
    p.write_text(BASE + "---\n" + "\n---\n".join(corr(i, c) for i, c in enumerate(CORRELATIONS)))
    rs = load_rules([p])
    assert rs.errors == []
    eng = Engine(rs)
    assert len(eng.trackers) == len(CORRELATIONS)
    outcome = {id(r.rule): r.rule.title for r in rs.rules}
    return [(tr, ["failure" if outcome[k] == "Fail" else "success" for k in tr.keys]) for tr in eng.trackers]


def stream(seed: int, n: int) -> list[tuple[int, LogEvent]]:
    """(position of the referenced rule, event): a few busy sources among many one-off ones,
    users in mixed case or missing, times mostly ascending with jitter, some jumps back hours."""
    rnd = random.Random(seed)
    out = []
    t = 1_000_000.0
    for _ in range(n):
        t += rnd.choice([0, 0, 0, 1, 1, 2, 30])
        when = t - rnd.uniform(0, 50) if rnd.random() < 0.2 else t
        if rnd.random() < 0.08:
            when = t - rnd.choice([200, 3600, 7200, 20_000])  # another file, read late
        busy = rnd.random() < 0.5
        src = f"10.0.0.{rnd.randint(1, 2)}" if busy else f"10.20.{rnd.randint(0, 9)}.{rnd.randint(1, 250)}"
        fields: dict[str, Any] = {"src_ip": src}
        r = rnd.random()
        if r < 0.85:
            fields["user"] = rnd.choice(["root", "ROOT", "admin", "Admin", "oracle", "u1", "u2", "u3"])
        elif r < 0.93:
            fields["user"] = ""
        if rnd.random() < 0.03:
            fields["src_ip"] = ""
        out.append((rnd.randint(0, 1), LogEvent(f"e {src}", fields, time=when, product="linux",
                                                services=("sshd",))))
    return out


def sig(f: Any) -> Any:
    if f is None or f is EXTENDED:
        return repr(f)
    assert isinstance(f, Firing)
    return (f.group, f.new, f.count, f.first_seen, f.last_seen, [e.to_dict() for e in f.events])


def counters(tr: CorrelationTracker) -> tuple[int, ...]:
    return (tr.incidents, tr.evicted, tr.missing, tr.past, tr.too_old, tr.state_size())


def step(tr: CorrelationTracker, outcome: str, key: int, ev: LogEvent, i: int, t_max: float,
         out: list[Any]) -> float:
    """Event `i` of a stream fed (what it gives, and the updates of windows gone, added to
    `out`), a sweep every 29 events and a report every 11; the newest time seen."""
    ev.fields["outcome"] = outcome
    out.append(sig(tr.feed(key, ev, ev.time)))
    out += [sig(f) for f in tr.ready]
    tr.ready = []
    t_max = max(t_max, ev.time)
    if i % 29 == 0:
        out.append(("sweep", [sig(f) for f in tr.sweep(t_max)]))
    if i % 11 == 0:
        out.append(("report", [sig(f) for f in tr.report()]))
    return t_max


def run(tr: CorrelationTracker, outcomes: list[str], events: list[tuple[int, LogEvent]],
        restore_at: int | None) -> tuple[list[Any], CorrelationTracker]:
    """Everything the tracker hands out over the stream (fed, reported, swept); at `restore_at`
    its state is saved and the stream goes on in a new tracker restored from it."""
    out: list[Any] = []
    t_max = 0.0
    for i, (p, ev) in enumerate(events):
        pos = p % len(tr.keys)
        if i == restore_at:
            snap = json.loads(json.dumps(tr.snapshot()))
            again = CorrelationTracker(tr.corr, tr.keys, max_groups=tr.max_groups,
                                       past_windows=tr.past_windows)
            again._fresh = tr._fresh and again._fresh
            again.compact, again._bare_key = tr.compact, tr._bare_key
            again._c_steps(tr._c_on)  # (after compact and _bare_key: what it depends on)
            assert again.restore(snap) == tr.state_size()
            tr = again
        t_max = step(tr, outcomes[pos], tr.keys[pos], ev, i, t_max, out)
    out.append(("state", tr.snapshot(), counters(tr)))
    out.append(("end", [sig(f) for f in tr.sweep(t_max + 10**6)], [sig(f) for f in tr.report()]))
    return out, tr


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("max_groups", [100_000, 40])
def test_fresh_windows_match_windows_built_by_update(tmp_path: Path, seed: int, max_groups: int) -> None:
    fast = 0
    for tr, outcomes in trackers(tmp_path):
        for restore_at in (None, 700):
            events = stream(seed, 1500)
            # every group with its window (test_correlation_compact_groups.py compares those
            # held as their one event with these)
            a = CorrelationTracker(tr.corr, tr.keys, max_groups=max_groups, past_windows=1, compact=False)
            b = CorrelationTracker(tr.corr, tr.keys, max_groups=max_groups, past_windows=1, compact=False)
            fast += a._fresh is not None
            b._fresh = None  # every window through `_update`, as before the fast path
            out_a, a = run(a, outcomes, events, restore_at)
            out_b, b = run(b, outcomes, events, restore_at)
            assert out_a == out_b
            assert counters(a) == counters(b)
            assert json.dumps(a.snapshot()) == json.dumps(b.snapshot())
            # the stream exercises what it is meant to: firings, past windows, drops, evictions
            assert any(x != "None" for x in out_a)
    assert fast == 2 * 6  # event_count and value_count trackers, with and without a restore


def test_the_streams_reach_past_windows_evictions_and_firings(tmp_path: Path) -> None:
    """The comparison above is only as good as the stream: it does reach every path."""
    tr, outcomes = trackers(tmp_path)[0]
    a = CorrelationTracker(tr.corr, tr.keys, max_groups=40, past_windows=1)
    out, a = run(a, outcomes, stream(1, 1500), None)
    assert a.past > 0 and a.too_old > 0 and a.evicted > 0 and a.missing > 0
    assert a.incidents > 0 and any(isinstance(x, tuple) and x[0] == "report" and x[1] for x in out)
