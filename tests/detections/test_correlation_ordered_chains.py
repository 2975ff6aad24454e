"""temporal_ordered's chains found in one pass over each step (`_temporal_ordered`: the chains
before an event are a prefix of the previous step's, both ascending) against every pair
compared, the reference kept for steps not known to be ascending (`_nan`: a NaN time, a
restored state out of order): on random streams (out of order, past windows, too old, idle
groups swept, groups evicted) every firing, report, counter and saved state is the same, for
two steps and for three with a rule in two of them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from nocsoc.detections.correlation import CorrelationTracker
from nocsoc.detections.engine import Engine
from nocsoc.detections.loader import load_rules
from nocsoc.events import LogEvent
from tests.detections.test_correlation_fresh_windows import BASE, corr, counters, run, stream

ORDERED = [
    "type: temporal_ordered\nrules: [fail, ok]\ngroup-by: [src_ip]\ntimespan: 120s",
    "type: temporal_ordered\nrules: [fail, fail, ok]\ngroup-by: [src_ip]\ntimespan: 90s",
    "type: temporal_ordered\nrules: [ok, fail, ok]\ngroup-by: [src_ip]\ntimespan: 300s",
]


def _trackers(tmp_path: Path) -> list[tuple[CorrelationTracker, list[str]]]:
    p = tmp_path / "rules.yml"
    p.write_text(BASE + "---\n" + "\n---\n".join(corr(i, c) for i, c in enumerate(ORDERED)))
    rs = load_rules([p])
    assert rs.errors == []
    outcome = {id(r.rule): r.rule.title for r in rs.rules}
    return [(tr, ["failure" if outcome[k] == "Fail" else "success" for k in tr.keys])
            for tr in Engine(rs).trackers]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("max_groups", [100_000, 40])
def test_one_pass_chains_match_every_pair(tmp_path: Path, seed: int, max_groups: int) -> None:
    fired = 0
    for tr, outcomes in _trackers(tmp_path):
        events = stream(seed, 2000)
        a = CorrelationTracker(tr.corr, tr.keys, max_groups=max_groups, past_windows=1)
        b = CorrelationTracker(tr.corr, tr.keys, max_groups=max_groups, past_windows=1)
        b._nan = True  # every pair compared
        out_a, a = run(a, outcomes, events, None)
        out_b, b = run(b, outcomes, events, None)
        assert not a._nan
        assert out_a == out_b
        assert counters(a) == counters(b)
        assert json.dumps(a.snapshot()) == json.dumps(b.snapshot())
        fired += a.incidents
    assert fired > 0  # the streams do make chains


def test_steps_not_known_in_order_take_every_pair(tmp_path: Path) -> None:
    """A NaN time (fed, or held as a group's one event) or a restored step out of order: the
    tracker compares every pair from then on."""
    tr, _ = _trackers(tmp_path)[0]
    fail, ok = tr.keys
    a = CorrelationTracker(tr.corr, tr.keys)
    a.feed(fail, LogEvent("x", {"src_ip": "1"}, time=10.0), 10.0)
    a.feed(ok, LogEvent("x", {"src_ip": "1"}, time=math.nan), math.nan)
    assert a._nan
    b = CorrelationTracker(tr.corr, tr.keys)
    b.feed(fail, LogEvent("x", {"src_ip": "2"}, time=math.nan), math.nan)
    assert not b._nan  # held as its one event
    b.feed(ok, LogEvent("x", {"src_ip": "2"}, time=5.0), 5.0)
    assert b._nan
    c = CorrelationTracker(tr.corr, tr.keys)
    c.feed(fail, LogEvent("x", {"src_ip": "3"}, time=10.0), 10.0)
    c.feed(fail, LogEvent("x", {"src_ip": "3"}, time=20.0), 20.0)
    snap = json.loads(json.dumps(c.snapshot()))
    d = CorrelationTracker(tr.corr, tr.keys)
    d.restore(snap)
    assert not d._nan
    snap["groups"][0][1][3][0].reverse()  # the first step's (time, arrival) pairs, descending
    e = CorrelationTracker(tr.corr, tr.keys)
    e.restore(snap)
    assert e._nan
