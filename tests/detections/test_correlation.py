"""Correlations on a stream: once per incident, group-by, timespan, memory freed, groups capped."""

from __future__ import annotations

import json
from pathlib import Path

from nocsoc.detections.engine import Engine
from nocsoc.detections.loader import load_rules
from nocsoc.events import LogEvent

RULES = """
title: Base
id: 11111111-0000-4000-8000-000000000001
name: base_fail
logsource:
    product: linux
    service: sshd
detection:
    sel:
        outcome: failure
    condition: sel
level: low
---
title: Ok
id: 11111111-0000-4000-8000-000000000002
name: base_ok
logsource:
    product: linux
    service: sshd
detection:
    sel:
        outcome: success
    condition: sel
level: low
---
title: Many failures
id: 11111111-0000-4000-8000-000000000003
name: many
correlation:
    type: event_count
    rules: [base_fail]
    group-by: [src_ip]
    timespan: 60s
    condition:
        gte: 3
level: high
---
title: Many users
id: 11111111-0000-4000-8000-000000000004
correlation:
    type: value_count
    rules: [base_fail]
    group-by: [src_ip]
    timespan: 60s
    condition:
        gte: 3
        field: user
level: high
---
title: Both
id: 11111111-0000-4000-8000-000000000005
correlation:
    type: temporal
    rules: [base_fail, base_ok]
    group-by: [src_ip]
    timespan: 30s
level: medium
---
title: Fail then ok
id: 11111111-0000-4000-8000-000000000006
correlation:
    type: temporal_ordered
    rules: [base_fail, base_ok]
    group-by: [src_ip]
    timespan: 30s
level: critical
"""


def engine(tmp_path: Path, max_groups: int = 100_000) -> Engine:
    p = tmp_path / "r.yml"
    p.write_text(RULES)
    rs = load_rules([p])
    assert not rs.errors and len(rs.correlations) == 4
    return Engine(rs, max_groups=max_groups, sweep_every_s=5)


def e(t: float, src: str, outcome: str = "failure", user: str = "root") -> LogEvent:
    return LogEvent(
        f"{outcome} {user} {src}",
        {"outcome": outcome, "user": user, "src_ip": src},
        time=t,
        product="linux",
        services=("sshd",),
    )


def run(eng: Engine, events: list[LogEvent]) -> list[tuple[str, bool, str, int]]:
    out = []
    for ev in events:
        out += [(d.title, d.new, d.group_key, d.count) for d in eng.process(ev)]
    return out


def test_event_count_fires_once_per_incident_and_again_after_a_quiet_window(tmp_path: Path) -> None:
    eng = engine(tmp_path)
    evs = [e(t, "10.0.0.1") for t in (0, 10, 20, 30, 40)] + [e(t, "10.0.0.1") for t in (200, 201, 202)]
    got = [x for x in run(eng, evs) if x[0] == "Many failures"]
    assert got == [
        ("Many failures", True, "src_ip=10.0.0.1", 3),
        # the incident's 2 later events: one update, reported when the next window starts
        ("Many failures", False, "src_ip=10.0.0.1", 2),
        ("Many failures", True, "src_ip=10.0.0.1", 3),
    ]


def test_event_count_respects_timespan_and_groups(tmp_path: Path) -> None:
    eng = engine(tmp_path)
    # 3 failures but spread over more than 60 s; and 2 + 1 from different sources
    evs = [
        e(0, "10.0.0.2"),
        e(35, "10.0.0.2"),
        e(70, "10.0.0.2"),
        e(71, "10.0.0.3"),
        e(72, "10.0.0.3"),
        e(73, "10.0.0.4"),
    ]
    assert [x for x in run(eng, evs) if x[0] == "Many failures"] == []


def test_value_count_counts_distinct_values(tmp_path: Path) -> None:
    eng = engine(tmp_path)
    evs = [
        e(0, "10.0.0.5", user="a"),
        e(1, "10.0.0.5", user="a"),
        e(2, "10.0.0.5", user="b"),
        e(3, "10.0.0.5", user="c"),
        e(4, "10.0.0.5", user="d"),
    ]
    got = [x for x in run(eng, evs) if x[0] == "Many users"]
    assert got == [("Many users", True, "src_ip=10.0.0.5", 4)]
    # the 5th event is counted into the incident, and reported at the next tick
    assert [(d.title, d.new, d.group_key, d.count) for d in eng.tick() if d.title == "Many users"] == [
        ("Many users", False, "src_ip=10.0.0.5", 1)]


def test_temporal_and_temporal_ordered(tmp_path: Path) -> None:
    eng = engine(tmp_path)
    # ok before fail: temporal fires, temporal_ordered does not
    got = run(eng, [e(0, "10.0.0.6", "success"), e(5, "10.0.0.6")])
    assert [x[0] for x in got if x[1]] == ["Both"]
    eng = engine(tmp_path)
    got = run(eng, [e(0, "10.0.0.7"), e(5, "10.0.0.7", "success")])
    assert sorted(x[0] for x in got if x[1]) == ["Both", "Fail then ok"]
    eng = engine(tmp_path)  # too far apart
    got = run(eng, [e(0, "10.0.0.8"), e(45, "10.0.0.8", "success")])
    assert [x for x in got if x[1]] == []


def test_idle_groups_are_freed_and_memory_is_capped(tmp_path: Path) -> None:
    eng = engine(tmp_path)
    run(eng, [e(i * 0.01, f"10.1.{i // 250}.{i % 250}") for i in range(2000)])
    assert eng.state_size() >= 2000  # one group per source in each correlation
    run(eng, [e(500, "10.9.9.9")])  # a minute later: everything idle is swept
    assert eng.state_size() == 4  # the new source's group, in each of the 4 correlations
    small = engine(tmp_path, max_groups=100)
    run(small, [e(i * 0.01, f"10.2.{i // 250}.{i % 250}") for i in range(1000)])
    assert all(tr.state_size() <= 100 for tr in small.trackers)
    assert sum(tr.evicted for tr in small.trackers) == 4 * 900


def _mixed_stream() -> list[LogEvent]:
    evs = []
    for t in range(0, 120, 4):  # failures from two sources, users rotating, a success now and then
        src = "10.0.1.1" if t % 8 else "10.0.1.2"
        evs.append(e(float(t), src, user=f"u{t % 12}"))
        if t % 20 == 0:
            evs.append(e(t + 1.0, src, outcome="success"))
    return evs


def test_snapshot_and_restore_continue_every_correlation_type_exactly(tmp_path: Path) -> None:
    """Stopping anywhere in a stream, saving the windows as JSON and going on in a new engine
    gives exactly the detections of one uninterrupted engine (all four correlation types)."""
    evs = _mixed_stream()
    whole = run(engine(tmp_path), evs)
    assert {x[0] for x in whole} >= {"Many failures", "Many users", "Both", "Fail then ok"}
    for cut in range(1, len(evs)):
        before = engine(tmp_path)
        first = run(before, evs[:cut])
        saved = json.loads(json.dumps(before.snapshot()))  # as the alert store keeps it
        after = engine(tmp_path)
        restored, stale = after.restore(saved)
        assert stale == [] and restored == before.state_size()
        assert first + run(after, evs[cut:]) == whole, f"cut after event {cut}"


def test_restore_keeps_the_arrival_order_of_events_of_the_same_time(tmp_path: Path) -> None:
    """temporal_ordered orders a step's events by time, then arrival: an event that comes after
    a restart arrived after every saved one, also when both carry the same second."""
    evs = [e(0.0, f"10.0.2.{i}") for i in range(5)] + [e(10.0, "10.0.0.10")]
    later = [e(10.0, "10.0.0.10", "success")]
    whole = run(engine(tmp_path), evs + later)
    assert ("Fail then ok", True, "src_ip=10.0.0.10", 2) in whole
    before = engine(tmp_path)
    first = run(before, evs)
    after = engine(tmp_path)
    after.restore(json.loads(json.dumps(before.snapshot())))
    assert first + run(after, later) == whole


def test_restore_leaves_out_the_state_of_a_changed_rule(tmp_path: Path) -> None:
    eng = engine(tmp_path)
    run(eng, [e(0, "10.0.0.9"), e(1, "10.0.0.9")])
    saved = eng.snapshot()
    changed = tmp_path / "changed"
    changed.mkdir()
    # the same rule id with a wider window: two saved failures would mean something else now
    (changed / "r.yml").write_text(RULES.replace("timespan: 60s\n    condition:\n        gte: 3",
                                                 "timespan: 600s\n    condition:\n        gte: 3", 1))
    other = Engine(load_rules([changed / "r.yml"]), sweep_every_s=5)
    restored, stale = other.restore(saved)
    assert stale == ["11111111-0000-4000-8000-000000000003"]
    assert restored == sum(len(s["groups"]) for rid, s in saved.items() if rid not in stale)
    assert [x for x in run(other, [e(2, "10.0.0.9")]) if x[0] == "Many failures"] == []


def test_snapshot_keeps_the_most_recently_active_groups(tmp_path: Path) -> None:
    eng = engine(tmp_path)
    run(eng, [e(float(t), f"10.0.2.{t}") for t in range(10)] + [e(10.0, "10.0.2.3")])
    snap = eng.snapshot(max_groups=3)["11111111-0000-4000-8000-000000000003"]
    assert [g[0] for g in snap["groups"]] == [["10.0.2.8"], ["10.0.2.9"], ["10.0.2.3"]]  # oldest first
    assert snap["left_out"] == 7
    other = engine(tmp_path)
    restored, _ = other.restore({"11111111-0000-4000-8000-000000000003": snap})
    assert restored == 3
    # 10.0.2.3 had two failures before the save: a third within the minute completes the incident
    assert [x for x in run(other, [e(11.0, "10.0.2.3")]) if x[0] == "Many failures"] == [
        ("Many failures", True, "src_ip=10.0.2.3", 3)]


def test_values_and_groups_compare_case_insensitively(tmp_path: Path) -> None:
    """Sigma: correlation values are case-insensitive (Admin, admin, ADMIN: one user)."""
    eng = engine(tmp_path)
    evs = [e(0, "10.0.0.9", user="Admin"), e(1, "10.0.0.9", user="admin"), e(2, "10.0.0.9", user="ADMIN")]
    assert [x for x in run(eng, evs) if x[0] == "Many users"] == []
    evs = [e(3, "10.0.0.9", user="bob"), e(4, "10.0.0.9", user="carol")]
    assert [x for x in run(eng, evs) if x[0] == "Many users" and x[1]] == [
        ("Many users", True, "src_ip=10.0.0.9", 5)]
    eng2 = engine(tmp_path)  # a group-by value in two spellings is one group
    got = run(eng2, [e(0, "FE80::1"), e(1, "fe80::1"), e(2, "Fe80::1")])
    assert [x for x in got if x[0] == "Many failures"] == [("Many failures", True, "src_ip=fe80::1", 3)]


def test_events_without_the_group_by_field_are_left_out_and_counted(tmp_path: Path) -> None:
    eng = engine(tmp_path)
    evs = [LogEvent(f"failure {i}", {"outcome": "failure", "user": "root"}, time=i, product="linux",
                    services=("sshd",)) for i in range(5)]
    evs += [e(10, "")]  # an empty value is missing too
    assert [x for x in run(eng, evs) if x[0] == "Many failures"] == []
    tracker = next(tr for tr in eng.trackers if tr.corr.title == "Many failures")
    assert (tracker.missing, len(tracker.groups)) == (6, 0)
