"""Correlations on a stream: once per incident, group-by, timespan, memory freed, groups capped."""

from __future__ import annotations

from pathlib import Path

from nocsoc.collectors.logs.event import LogEvent
from nocsoc.detections.engine import Engine
from nocsoc.detections.loader import load_rules

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
        ("Many failures", False, "src_ip=10.0.0.1", 1),
        ("Many failures", False, "src_ip=10.0.0.1", 1),
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
    assert got == [("Many users", True, "src_ip=10.0.0.5", 4), ("Many users", False, "src_ip=10.0.0.5", 1)]


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
