"""Correlation and time semantics per the Sigma specification (issue 16, item 3): windows in event
time both ways, field-name aliases, references across files, time modifiers on the named field,
range conditions, and the reorder buffer in front of the correlations."""

from __future__ import annotations

from pathlib import Path

import pytest

from nocsoc.component import counter_points
from nocsoc.detections.engine import Detection, Engine
from nocsoc.detections.loader import load_rules
from nocsoc.detections.reorder import ReorderBuffer
from nocsoc.events import LogEvent

T0 = 1_795_000_000.0  # 2026-11-19 08:26:40 UTC

FAIL_RULE = """
title: Failed login
id: 22222222-0000-4000-8000-000000000001
name: fail
logsource:
    product: linux
    service: sshd
detection:
    sel:
        outcome: failure
    condition: sel
level: low
"""
OK_RULE = """
title: Successful login
id: 22222222-0000-4000-8000-000000000002
name: ok
logsource:
    product: linux
    service: sshd
detection:
    sel:
        outcome: success
    condition: sel
level: low
"""


def corr(title: str, body: str) -> str:
    lines = "".join(f"    {line}\n" for line in body.splitlines())
    return f"title: {title}\nlevel: high\ncorrelation:\n{lines}"


def engine_of(tmp_path: Path, *docs: str, **kw: float) -> Engine:
    p = tmp_path / "rules.yml"
    p.write_text("\n---\n".join(docs))
    rs = load_rules([p])
    assert rs.errors == []
    return Engine(rs, sweep_every_s=5, **kw)  # type: ignore[arg-type]


def ev(t: float, src: str = "203.0.113.7", outcome: str = "failure", **fields: object) -> LogEvent:
    return LogEvent(f"{outcome} from {src}", {"outcome": outcome, "src_ip": src, "user": "root", **fields},
                    time=t, product="linux", services=("sshd",))


def firings(eng: Engine, events: list[LogEvent], title: str, end: float | None = None) -> list[Detection]:
    out: list[Detection] = []
    for e in events:
        out += eng.process(e)
    if end is not None:
        out += eng.flush(end)
    return [d for d in out if d.title == title]


def incidents(dets: list[Detection]) -> list[tuple[str, int, float, float]]:
    return [(d.group_key, d.count, d.first_seen, d.last_seen) for d in dets if d.new]


BRUTE = corr("Brute force",
             "type: event_count\nrules: [fail]\ngroup-by: [src_ip]\ntimespan: 5m\ncondition:\n    gte: 4")


# --- 1. windows in event time, both ways -------------------------------------------------------

def test_two_batches_hours_apart_in_reverse_order_are_not_one_brute_force(tmp_path: Path) -> None:
    """auth.log (now) read before auth.log.1 (2 h earlier): 2 + 2 failures are not 4 in 5 min."""
    old = [ev(T0 + i * 10) for i in range(2)]
    new = [ev(T0 + 7200 + i * 10) for i in range(2)]
    eng = engine_of(tmp_path, FAIL_RULE, BRUTE)
    assert firings(eng, new + old, "Brute force", end=T0 + 9000) == []
    (tr,) = eng.trackers
    assert (tr.past, tr.too_old) == (2, 0)  # the old pair had a window of its own
    eng = engine_of(tmp_path, FAIL_RULE, BRUTE)
    assert firings(eng, old + new, "Brute force", end=T0 + 9000) == []


def test_a_brute_force_in_the_older_file_read_last_is_still_found_alone(tmp_path: Path) -> None:
    """5 failures at T0 (auth.log.1) and 3 at T0+2h (auth.log): one incident of exactly the 5
    old ones, at their times, in either reading order."""
    old = [ev(T0 + i * 10) for i in range(5)]
    new = [ev(T0 + 7200 + i * 10) for i in range(3)]
    want = [("src_ip=203.0.113.7", 4, T0, T0 + 30)]
    for order in (old + new, new + old):
        eng = engine_of(tmp_path, FAIL_RULE, BRUTE)
        dets = firings(eng, order, "Brute force") + [d for d in eng.tick() if d.title == "Brute force"]
        assert incidents(dets) == want
        assert [(d.new, d.count) for d in dets] == [(True, 4), (False, 1)]  # then the 5th old one
        assert all(s.time < T0 + 3600 for d in dets for s in d.samples)


def test_out_of_order_within_the_window_counts_in_event_time(tmp_path: Path) -> None:
    eng = engine_of(tmp_path, FAIL_RULE, BRUTE)
    dets = firings(eng, [ev(T0 + 30), ev(T0 + 10), ev(T0 + 20), ev(T0)], "Brute force")
    assert incidents(dets) == [("src_ip=203.0.113.7", 4, T0, T0 + 30)]
    # one failure 6 min after the newest: the window moved on (new incident needs 4 again)
    eng = engine_of(tmp_path, FAIL_RULE, BRUTE)
    assert firings(eng, [ev(T0), ev(T0 + 10), ev(T0 + 20), ev(T0 + 400), ev(T0 + 410)], "Brute force") == []


def test_events_older_than_every_kept_window_are_dropped_and_counted(tmp_path: Path) -> None:
    eng = engine_of(tmp_path, FAIL_RULE, BRUTE)
    batches = [[ev(T0 - k * 7200 + i) for i in range(2)] for k in range(5)]  # newest first
    firings(eng, [e for b in batches for e in b], "Brute force")
    (tr,) = eng.trackers
    # the newest window and 3 past ones; the 5th batch back has no room
    assert (tr.past, tr.too_old, len(tr.groups)) == (6, 2, 1)
    (c,) = eng.counter_sets()
    assert (c.get("correlation_past_window"), c.get("correlation_too_old")) == (6, 2)


# --- 2. aliases --------------------------------------------------------------------------------

ALIAS_RULES = [
    """title: Internal error
name: internal_error
logsource:
    product: linux
    service: sshd
detection:
    sel:
        http.response.status_code: 500
    condition: sel""",
    """title: New network connection
name: new_network_connection
logsource:
    product: linux
    service: sshd
detection:
    sel:
        event.type: connection
    condition: sel""",
    corr("Error then connection", """type: temporal
rules:
    - internal_error
    - new_network_connection
group-by:
    - internal_ip
    - remote_ip
timespan: 10s
aliases:
    internal_ip:
        internal_error: destination.ip
        new_network_connection: source.ip
    remote_ip:
        internal_error: source.ip
        new_network_connection: destination.ip"""),
]


def web(t: float, src: str, dst: str) -> LogEvent:
    return LogEvent("500", {"http.response.status_code": 500, "source.ip": src, "destination.ip": dst},
                    time=t, product="linux", services=("sshd",))


def conn(t: float, src: str, dst: str) -> LogEvent:
    return LogEvent("conn", {"event.type": "connection", "source.ip": src, "destination.ip": dst},
                    time=t, product="linux", services=("sshd",))


def test_aliases_group_different_fields_of_each_rule_as_one(tmp_path: Path) -> None:
    """The spec's example: the server's address is destination.ip in the error and source.ip
    in the connection it then opens; remote_ip the other way round."""
    eng = engine_of(tmp_path, *ALIAS_RULES)
    events = [
        web(T0, "203.0.113.9", "10.0.0.5"),
        conn(T0 + 1, "10.0.0.6", "203.0.113.9"),  # another server: no pair
        conn(T0 + 2, "203.0.113.9", "10.0.0.5"),  # the fields not swapped: no pair
        conn(T0 + 3, "10.0.0.5", "203.0.113.9"),  # the pair
    ]
    dets = firings(eng, events, "Error then connection")
    assert incidents(dets) == [("internal_ip=10.0.0.5|remote_ip=203.0.113.9", 2, T0, T0 + 3)]
    eng = engine_of(tmp_path, *ALIAS_RULES)  # outside the 10 s: nothing
    assert firings(eng, [web(T0, "203.0.113.9", "10.0.0.5"), conn(T0 + 11, "10.0.0.5", "203.0.113.9")],
                   "Error then connection") == []


def test_aliases_name_rules_by_name_while_rules_lists_their_ids(tmp_path: Path) -> None:
    rules = [ALIAS_RULES[0].replace("name: internal_error", "id: 33333333-0000-4000-8000-000000000001\n"
                                                             "name: internal_error"),
             ALIAS_RULES[1], ALIAS_RULES[2].replace("    - internal_error\n",
                                                    "    - 33333333-0000-4000-8000-000000000001\n", 1)]
    eng = engine_of(tmp_path, *rules)
    dets = firings(eng, [web(T0, "203.0.113.9", "10.0.0.5"), conn(T0 + 3, "10.0.0.5", "203.0.113.9")],
                   "Error then connection")
    assert incidents(dets) == [("internal_ip=10.0.0.5|remote_ip=203.0.113.9", 2, T0, T0 + 3)]


# --- 3. references across files ----------------------------------------------------------------

def test_correlations_reference_rules_of_other_files_in_any_load_order(tmp_path: Path) -> None:
    d = tmp_path / "rules"
    d.mkdir()
    # a_ sorts (and loads) first: its correlation names a rule by name (b_) and one by id (c_)
    (d / "a_corr.yml").write_text(corr("Fail then ok", "type: temporal_ordered\nrules:\n    - fail\n"
                                                       "    - 22222222-0000-4000-8000-000000000002\n"
                                                       "group-by: [src_ip]\ntimespan: 1m"))
    (d / "b_fail.yml").write_text(FAIL_RULE)
    (d / "c_ok.yml").write_text(OK_RULE)
    for paths in ([d], [d / "c_ok.yml", d / "b_fail.yml", d / "a_corr.yml"]):
        rs = load_rules(paths)
        assert (rs.errors, [c.title for c in rs.correlations]) == ([], ["Fail then ok"])
        eng = Engine(rs)
        dets = firings(eng, [ev(T0), ev(T0 + 5, outcome="success")], "Fail then ok")
        assert incidents(dets) == [("src_ip=203.0.113.7", 2, T0, T0 + 5)]
        assert [r.generate for r in rs.rules] == [False, False]  # referenced: quiet


def test_a_missing_reference_skips_only_its_correlation_with_one_line(tmp_path: Path) -> None:
    f = tmp_path / "mixed.yml"
    f.write_text("\n---\n".join([
        FAIL_RULE, BRUTE,
        corr("Broken", "type: event_count\nrules: [fail, no_such_rule]\ngroup-by: [src_ip]\n"
                       "timespan: 5m\ncondition:\n    gte: 2").replace("title: Broken",
                                                                         "title: Broken\nname: broken"),
        corr("Of broken", "type: event_count\nrules: [broken]\ngroup-by: [src_ip]\ntimespan: 5m\n"
                          "condition:\n    gte: 1"),
    ]))
    rs = load_rules([f])
    assert [(e.path, e.rule, e.message) for e in rs.errors] == [
        (str(f), "broken", "rule reference 'no_such_rule' not found in the loaded rules: "
                           "this correlation is skipped"),
        (str(f), "Of broken", "rule reference 'broken' is a correlation that did not load: "
                              "this correlation is skipped"),
    ]
    assert [c.title for c in rs.correlations] == ["Brute force"] and [r.title for r in rs.rules] == [
        "Failed login"]


# --- 4. time modifiers read the named field -----------------------------------------------------

def time_rule(expr: str) -> str:
    return f"""title: Odd hour
name: odd
logsource:
    product: linux
    service: sshd
detection:
    sel:
        {expr}
    condition: sel
level: medium"""


@pytest.mark.parametrize(("expr", "value", "hit"), [
    ("LogonTime|hour: 3", "2026-11-25T03:15:00+07:00", True),  # as written: no time zone conversion
    ("LogonTime|hour: 3", "2026-11-24T20:15:00Z", False),  # 03:15 at +07:00, but written 20:15
    ("LogonTime|hour: 3", "2026-11-25 03:59:59", True),
    ("LogonTime|minute: 15", "2026-11-25T03:15:00Z", True),
    ("LogonTime|day: 25", "25/Nov/2026:03:15:00 +0700", True),  # Apache/nginx access log
    ("LogonTime|month: 11", "Nov 25 03:15:00", True),  # syslog: no year
    ("LogonTime|year: 2026", "Nov 25 03:15:00", False),  # ... so no year
    ("LogonTime|week: 48", "2026-11-25T03:15:00Z", True),  # ISO week
    ("LogonTime|year: 2026", 1795576500, True),  # epoch seconds (UTC)
    ("LogonTime|hour: 3", 1795576500000, True),  # epoch milliseconds: 2026-11-25 03:15 UTC
    ("LogonTime|hour: 3", "not a date", False),
    ("LogonTime|hour: 3", None, False),  # no such field: no match
])
def test_time_modifiers_read_the_named_field(tmp_path: Path, expr: str, value: object, hit: bool) -> None:
    eng = engine_of(tmp_path, time_rule(expr))
    fields = {"outcome": "success"} if value is None else {"LogonTime": value}
    # the event's own time is 12:00 UTC on another day, month and year: never what is tested
    e = LogEvent("logon", fields, time=1_767_268_800.0, product="linux", services=("sshd",))
    assert bool(eng.process(e)) is hit


def test_timestamp_names_without_a_field_mean_the_event_time(tmp_path: Path) -> None:
    eng = engine_of(tmp_path, time_rule("'@timestamp|hour': 3"))
    at = 1_795_576_500.0  # 2026-11-25 03:15 UTC
    assert [bool(eng.process(LogEvent("x", {}, time=t, product="linux", services=("sshd",))))
            for t in (at, at + 3600)] == [True, False]


# --- 7. range conditions ---------------------------------------------------------------------

def range_corr(cond: str) -> str:
    return corr("In range", "type: event_count\nrules: [fail]\ngroup-by: [src_ip]\ntimespan: 5m\n"
                            f"condition:\n{cond}")


@pytest.mark.parametrize(("cond", "firing"), [
    ("    gte: 10\n    lte: 20", {10, 11, 12, 19, 20}),
    ("    gt: 10\n    lte: 20", {11, 12, 19, 20}),
    ("    gte: 10\n    lt: 20", {10, 11, 12, 19}),
    ("    gt: 10\n    gte: 12", {12, 19, 20, 21}),  # two lower bounds: fires as it is reached
])
def test_range_conditions_hold_at_their_boundaries(tmp_path: Path, cond: str, firing: set[int]) -> None:
    sizes = (9, 10, 11, 12, 19, 20, 21)
    eng = engine_of(tmp_path, FAIL_RULE, range_corr(cond))
    events = [ev(T0 + i, src=f"198.51.100.{n}") for n in sizes for i in range(n)]
    dets = firings(eng, events, "In range", end=T0 + 86400)
    fired = {int(d.group_key.rsplit(".", 1)[1]) for d in dets if d.new}
    assert fired == firing
    # an upper bound is judged when the window closes, on the whole incident
    if "lt" in cond:
        assert all(d.count == int(d.group_key.rsplit(".", 1)[1]) for d in dets)


def test_a_range_no_count_can_meet_is_one_line_and_the_file_loads(tmp_path: Path) -> None:
    f = tmp_path / "r.yml"
    f.write_text("\n---\n".join([FAIL_RULE, BRUTE, range_corr("    gt: 20\n    lt: 10")]))
    rs = load_rules([f])
    assert [(e.path, e.rule, e.message) for e in rs.errors] == [
        (str(f), "In range", "correlation condition {gt: 20, lt: 10}: no count can meet it")]
    assert [c.title for c in rs.correlations] == ["Brute force"]


def test_range_on_a_value_count(tmp_path: Path) -> None:
    spray = corr("Spray", "type: value_count\nrules: [fail]\ngroup-by: [src_ip]\ntimespan: 5m\n"
                          "condition:\n    field: user\n    gte: 3\n    lte: 4")
    eng = engine_of(tmp_path, FAIL_RULE, spray)
    events = [ev(T0 + i, src="192.0.2.1", user=f"u{i}") for i in range(3)]
    events += [ev(T0 + i, src="192.0.2.2", user=f"u{i}") for i in range(5)]
    events += [ev(T0 + i, src="192.0.2.3", user="root") for i in range(6)]  # one user, 6 times
    dets = firings(eng, events, "Spray", end=T0 + 86400)
    assert [(d.group_key, d.count) for d in dets if d.new] == [("src_ip=192.0.2.1", 3)]


# --- reorder buffer ----------------------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_reorder_buffer_releases_in_event_time_order() -> None:
    clock = Clock()
    rb: ReorderBuffer[str] = ReorderBuffer(10.0, 100, clock)
    assert [list(rb.push(t, f"e{t:g}")) for t in (5, 3, 4, 1)] == [[], [], [], []]
    assert list(rb.push(14, "e14")) == [(1, "e1"), (3, "e3"), (4, "e4")]  # the watermark is 14 - 10
    assert list(rb.push(16, "e16")) == [(5, "e5")]
    assert list(rb.push(2, "late")) == [(2, "late")] and rb.late == 1  # after e5 went: passed through
    clock.now += 9.9
    assert list(rb.tick()) == []  # held less than the window of wall-clock time
    assert list(rb.push(17, "e17")) == []
    clock.now += 0.2
    assert list(rb.tick()) == [(14, "e14"), (16, "e16")]  # held a window long (e17 arrived later)
    assert list(rb.drain()) == [(17, "e17")] and len(rb) == 0
    # a late arrival dated before older arrivals: they wait for it (at most another window)
    rb.push(30, "a")
    clock.now += 5
    rb.push(29, "b")  # out of order, inside the window: put before "a"
    clock.now += 5.1
    assert list(rb.tick()) == [] and len(rb) == 2  # "a" is due, "b" (first in order) not yet
    clock.now += 5
    assert list(rb.tick()) == [(29, "b"), (30, "a")]


def test_reorder_buffer_is_bounded_and_counts_early_releases() -> None:
    rb: ReorderBuffer[int] = ReorderBuffer(60.0, 3, Clock())
    assert [list(rb.push(t, t)) for t in (4, 2, 3)] == [[], [], []]
    assert list(rb.push(1, 1)) == [(1, 1)] and rb.overflow == 1  # full: the oldest goes early
    assert list(rb.push(5, 5)) == [(2, 2)] and (rb.overflow, len(rb)) == (2, 3)
    assert list(rb.push(1.5, 0)) == [(1.5, 0)] and rb.late == 1


def test_engine_reorders_correlation_events_and_flushes_them_at_the_end(tmp_path: Path) -> None:
    shuffled = [ev(T0 + t) for t in (1, 0, 3, 2, 5, 4)]
    eng = engine_of(tmp_path, FAIL_RULE, BRUTE, reorder_window_s=2.0)
    out: list[Detection] = []
    for e in shuffled:
        out += eng.process(e)
    assert eng.held() == 2  # 4 and 5 are within 2 s of the newest; 0 to 3 went in, in order
    fired = [d for d in out if d.title == "Brute force"]
    assert incidents(fired) == [("src_ip=203.0.113.7", 4, T0, T0 + 3)]
    assert [s.time - T0 for s in fired[0].samples] == [0, 1, 2, 3]  # evidence in event-time order
    dets = [d for d in eng.flush(T0 + 10) if d.title == "Brute force"]
    # 4 and 5 join the incident: one update of 2 events
    assert [(d.new, d.count, d.first_seen - T0, d.last_seen - T0) for d in dets] == [(False, 2, 4, 5)]
    assert eng.held() == 0
    late = eng.process(ev(T0 + 1))  # after 5 was released: counted late, still correlated
    points = {p.measurement: p.fields for p in counter_points(eng.counter_sets())}
    assert points["log_collector"]["reorder_late"] == 1
    assert [d for d in late if d.title == "Brute force"] == [] and eng.held() == 1  # to report
    assert [(d.title, d.new, d.count) for d in eng.tick()] == [("Brute force", False, 1)]  # in the incident
    assert points["log_collector"]["reorder_held"] == 0 and eng.held() == 0


def test_detect_reads_rotations_oldest_first_whatever_the_argument_order(tmp_path: Path) -> None:
    import os

    from nocsoc.collectors.logs import hunt_inputs

    names = ["auth.log", "auth.log.1", "auth.log.2.gz"]
    for i, n in enumerate(names):
        (tmp_path / n).write_bytes(b"")
        os.utime(tmp_path / n, (T0 - i * 86400, T0 - i * 86400))
    got = hunt_inputs.expand([str(tmp_path / n) for n in names])
    assert [p.name for p in got] == ["auth.log.2.gz", "auth.log.1", "auth.log"]


def test_a_sweep_feeds_what_it_passed_before_freeing_windows(tmp_path: Path) -> None:
    """An event no rule matches, hours later (an unparsed line is dated on arrival), sweeps the
    windows: the success held for reordering goes in first, so the chain is complete."""
    chain = corr("Fail then ok",
                 "type: temporal_ordered\nrules: [fail, ok]\ngroup-by: [src_ip]\ntimespan: 1m")
    eng = engine_of(tmp_path, FAIL_RULE, OK_RULE, chain, reorder_window_s=2.0)
    other = LogEvent("junk", {}, time=T0 + 7200, product="linux", services=("sshd",))
    dets = firings(eng, [ev(T0), ev(T0 + 5, outcome="success"), other], "Fail then ok")
    assert incidents(dets) == [("src_ip=203.0.113.7", 2, T0, T0 + 5)] and eng.held() == 0


SSH_FAIL = "Nov 25 04:01:{s:02d} dns1 sshd[5{i}]: Failed password for root from 192.0.2.77 port 4{i} ssh2\n"


def _pipeline(tmp_path: Path, window: float):  # type: ignore[no-untyped-def]
    from nocsoc.collectors.logs.config import LogsConfig
    from nocsoc.collectors.logs.pipeline import LogPipeline
    from nocsoc.detections.config import DetectionsConfig
    from nocsoc.sinks.memory import MemorySink

    log = tmp_path / "auth.log"
    log.write_text("")
    logs = LogsConfig(syslog_udp=None, syslog_tcp=None, files=[str(log)], poll_interval_s=0.02)
    det = DetectionsConfig(alerts_db=str(tmp_path / "alerts.db"), flush_interval_s=0.02,
                           reorder_window_s=window)
    p = LogPipeline(logs, det, MemorySink(), base_dir=tmp_path)
    p.start()
    # 12 failed logins, pairs swapped: 2 s apart, 1 s out of order
    order = [i ^ 1 for i in range(12)]
    with open(log, "a") as f:
        f.writelines(SSH_FAIL.format(s=10 + i * 2, i=10 + i) for i in order)
    return p


def _brute(p) -> list[tuple[int, float, float]]:  # type: ignore[no-untyped-def]
    return [(a.count, a.first_seen, a.last_seen) for a in p.store.list_alerts()
            if a.rule_title == "SSH Brute Force From One Source"]


def test_pipeline_releases_held_events_by_wall_clock_and_idle_waits_for_them(tmp_path: Path) -> None:
    from tests.servers.base import wait_until

    p = _pipeline(tmp_path, 0.3)
    try:
        wait_until(lambda: p.processed() >= 12 and p.idle(), timeout=20, what="12 lines, none held")
        ((count, first, last),) = _brute(p)
        assert count == 12 and last - first == 22  # 04:01:10 to 04:01:32: the whole burst
        assert p.engine.held() == 0
    finally:
        p.stop()


def test_pipeline_flushes_held_events_at_stop(tmp_path: Path) -> None:
    from tests.servers.base import wait_until

    p = _pipeline(tmp_path, 15.0)  # 04:01:10 to :16 go in by event time; the clock waits 15 s
    wait_until(lambda: p.processed() >= 12, timeout=20, what="12 lines read")
    wait_until(lambda: p.engine.held() == 8, timeout=20, what="04:01:18 to :32 held")
    assert not p.idle() and _brute(p) == []
    p.stop()
    from nocsoc.detections.alerts import AlertStore

    with AlertStore(tmp_path / "alerts.db") as store:
        (bf,) = [a for a in store.list_alerts() if a.rule_title == "SSH Brute Force From One Source"]
    assert (bf.count, bf.last_seen - bf.first_seen) == (12, 22)


def test_past_windows_and_peaks_survive_a_snapshot(tmp_path: Path) -> None:
    """A restart keeps a group's past window (and an upper-bound window's peak) exactly."""
    ranged = range_corr("    gte: 3\n    lte: 4")
    old, new = [ev(T0 + i) for i in range(3)], [ev(T0 + 7200 + i) for i in range(2)]
    eng = engine_of(tmp_path, FAIL_RULE, BRUTE, ranged)
    firings(eng, new + old[:2], "Brute force")
    import json

    saved = json.loads(json.dumps(eng.snapshot()))
    other = engine_of(tmp_path, FAIL_RULE, BRUTE, ranged)
    assert other.restore(saved) == (2, [])
    out = [d for e in [old[2], ev(T0 + 3)] for d in other.process(e)] + other.flush(T0 + 86400)
    # the 4th old failure completes the old window's brute force; the range sees peaks 4 and 2
    assert [(d.title, d.count, d.first_seen) for d in out if d.new] == [
        ("Brute force", 4, T0), ("In range", 4, T0)]


def test_rules_check_of_one_file_resolves_references_to_the_builtin_pack(tmp_path: Path) -> None:
    """A correlation of the user's naming a built-in rule loads under `nocsoc run` (built-in pack
    plus detections.rules): `rules check` of that file alone agrees, and still names a reference
    found nowhere."""
    from typer.testing import CliRunner

    from nocsoc.cli.app import app

    def check(body: str) -> tuple[int, str]:
        f = tmp_path / "mr_mine.yml"
        f.write_text(corr("Mine", body))
        res = CliRunner().invoke(app, ["rules", "check", str(f)],
                                 env={"NOCSOC_CONFIG": str(tmp_path / "none.yaml"), "COLUMNS": "300"})
        return res.exit_code, res.stdout

    body = "type: event_count\nrules: [nocsoc_ssh_failed_login{}]\ngroup-by: [src_ip]\ntimespan: 5m\n" \
           "condition:\n    gte: 20"
    code, out = check(body.format(""))
    assert (code, out.splitlines()[0]) == (
        0, "1 files: 0 rules and 1 correlations load; 0 unsupported; 0 errors")
    code, out = check(body.format(", no_such_rule"))
    assert code == 2 and "Mine: rule reference 'no_such_rule' not found in the loaded rules" in out
    assert "nocsoc_ssh_failed_login'" not in out


@pytest.mark.parametrize(("cond", "message"), [
    ("    gte: many", "correlation condition gte: 'many' is no count"),
    ("    gte: true", "correlation condition gte: True is no count"),
    ("    gte: 3\n    lte: [4]", "correlation condition lte: [4] is no count"),
    ("    gtee: 5", "correlation condition: unknown item 'gtee' (criteria: lt, lte, gt, gte, eq, neq; "
                    "also field, percentile)"),
    ("    field: user", "correlation condition has no criterion (lt, lte, gt, gte, eq, neq)"),
])
def test_a_bad_condition_skips_its_correlation_only(tmp_path: Path, cond: str, message: str) -> None:
    """pySigma < 2 raises on these outside its error collection (the whole file was dropped)."""
    f = tmp_path / "r.yml"
    f.write_text("\n---\n".join([FAIL_RULE, BRUTE, range_corr(cond)]))
    rs = load_rules([f])
    assert [(e.path, e.rule, e.message) for e in rs.errors] == [(str(f), "In range", message)]
    assert [c.title for c in rs.correlations] == ["Brute force"] and len(rs.rules) == 1
