"""A fired correlation incident counts its later events, it does not fire again (issue 16's gap:
20k scanner lines gave 39,901 detections). One detection at the firing, then one update per
report (`Engine.tick`, end of input, the window going away), and the alert's count is every
event of the incident."""

from __future__ import annotations

import json
from pathlib import Path

from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.engine import Detection, Engine
from tests.detections.test_correlation_semantics import FAIL_RULE, OK_RULE, T0, corr, engine_of, ev

SCAN = corr("Scan", "type: event_count\nrules: [fail]\ngroup-by: [src_ip]\ntimespan: 5m\n"
                    "condition:\n    gte: 100")
N = 20_000


def _scan(eng: Engine, n: int = N, tick_every: int = 0) -> list[Detection]:
    """`n` failures from one source, 20 a second (one incident: never a 5-minute gap)."""
    out: list[Detection] = []
    for i in range(n):
        out += eng.process(ev(T0 + i * 0.05))
        if tick_every and (i + 1) % tick_every == 0:
            out += eng.tick()
    return [d for d in out if d.title == "Scan"]


def _rows(dets: list[Detection]) -> list[tuple[bool, int]]:
    return [(d.new, d.count) for d in dets]


def test_an_incident_fires_once_and_reports_its_later_events_as_one_update(tmp_path: Path) -> None:
    eng = engine_of(tmp_path, FAIL_RULE, SCAN)
    dets = _scan(eng)
    assert _rows(dets) == [(True, 100)]  # not 19,901 detections
    assert eng.held() == 1  # something to report: the pipeline ticks, and is not idle
    end = [d for d in eng.flush(T0 + N * 0.05 + 1) if d.title == "Scan"]
    assert [(d.new, d.count, d.first_seen, d.last_seen) for d in end] == [
        (False, N - 100, T0 + 100 * 0.05, T0 + (N - 1) * 0.05)]
    assert len(end[0].samples) == 5 and eng.held() == 0
    assert sum(d.count for d in dets + end) == N


def test_each_tick_reports_what_the_incident_gained_since_the_last(tmp_path: Path) -> None:
    eng = engine_of(tmp_path, FAIL_RULE, SCAN)
    dets = _scan(eng, tick_every=1000)
    assert _rows(dets) == [(True, 100), (False, 900)] + [(False, 1000)] * 19
    assert eng.tick() == [] and eng.flush(T0 + N) == [] and eng.held() == 0


def test_the_alert_store_counts_every_event_of_the_incident(tmp_path: Path) -> None:
    eng = engine_of(tmp_path, FAIL_RULE, SCAN)
    dets = _scan(eng, tick_every=3000) + [d for d in eng.flush(T0 + N) if d.title == "Scan"]
    assert len(dets) == 8  # the firing, 6 ticks, the end
    with AlertStore(tmp_path / "a.db") as store:
        store.ingest(dets, now=T0 + N)
        (alert,) = store.list_alerts()
    assert (alert.count, alert.first_seen, alert.last_seen, alert.group_key) == (
        N, T0, T0 + (N - 1) * 0.05, "src_ip=203.0.113.7")


def test_the_update_of_a_window_comes_before_the_incident_of_the_next(tmp_path: Path) -> None:
    """A source back after a quiet timespan: the old incident's update goes out first, so the
    store adds it to the old alert, not to the new incident's."""
    eng = engine_of(tmp_path, FAIL_RULE, SCAN)
    first = _scan(eng, 150)
    second = [d for t in range(100) for d in eng.process(ev(T0 + 3600 + t)) if d.title == "Scan"]
    assert _rows(first) == [(True, 100)]
    assert [(d.new, d.count, d.first_seen - T0) for d in second] == [(False, 50, 5.0), (True, 100, 3600.0)]


def test_an_idle_or_evicted_group_reports_its_gained_events_as_it_goes(tmp_path: Path) -> None:
    brute = corr("Brute force", "type: event_count\nrules: [fail]\ngroup-by: [src_ip]\ntimespan: 1m\n"
                                "condition:\n    gte: 3")
    # idle: swept a timespan after its last event, by the next event's sweep
    eng = engine_of(tmp_path, FAIL_RULE, brute)
    out = [d for t in range(5) for d in eng.process(ev(T0 + t))]
    swept = eng.process(ev(T0 + 100, src="198.51.100.1"))
    assert _rows(out) == [(True, 3)]
    assert [(d.new, d.count, d.group_key) for d in swept] == [(False, 2, "src_ip=203.0.113.7")]
    assert eng.held() == 0
    # evicted: max_groups reached, the oldest group goes with its gained events reported
    eng = engine_of(tmp_path, FAIL_RULE, brute, max_groups=1)
    out = [d for t in range(4) for d in eng.process(ev(T0 + t))]
    evicted = eng.process(ev(T0 + 4, src="198.51.100.1"))
    assert _rows(out) == [(True, 3)]
    assert [(d.new, d.count, d.group_key) for d in evicted] == [(False, 1, "src_ip=203.0.113.7")]
    assert sum(tr.evicted for tr in eng.trackers) == 1


def test_gained_events_survive_a_restart(tmp_path: Path) -> None:
    eng = engine_of(tmp_path, FAIL_RULE, SCAN)
    _scan(eng, 130)
    saved = json.loads(json.dumps(eng.snapshot()))
    other = engine_of(tmp_path, FAIL_RULE, SCAN)
    assert other.restore(saved) == (1, [])
    assert other.held() == 1
    assert [(d.new, d.count, d.first_seen - T0) for d in other.tick()] == [(False, 30, 5.0)]
    # a state saved before gained events were kept (six items a window) still loads
    (group,) = saved["Scan"]["groups"]
    group[1] = group[1][:6]
    old = engine_of(tmp_path, FAIL_RULE, SCAN)
    assert old.restore(saved) == (1, []) and old.tick() == []


def test_a_correlation_of_a_correlation_sees_every_event_of_the_incident(tmp_path: Path) -> None:
    """Success 2 min after the brute force fired but 30 s after its last failure: the chain
    (within 1 min) still holds, as the incident's later failures feed it."""
    brute = "name: brute\n" + corr("Brute force", "type: event_count\nrules: [fail]\ngroup-by: [src_ip]\n"
                                                 "timespan: 1m\ncondition:\n    gte: 3")
    chain = corr("Brute force then success",
                 "type: temporal_ordered\nrules: [brute, ok]\ngroup-by: [src_ip]\ntimespan: 1m")
    eng = engine_of(tmp_path, FAIL_RULE, OK_RULE, brute, chain)
    times = [T0 + t for t in range(0, 100, 10)]  # failures from 0 to 90 s: fired at 20 s
    out = [d for t in times for d in eng.process(ev(t))]
    out += eng.process(ev(T0 + 120, outcome="success"))
    assert [(d.title, d.new, d.count) for d in out] == [
        ("Brute force", True, 3), ("Brute force then success", True, 9)]  # 8 of the incident, 1 success
