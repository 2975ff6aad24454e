"""Correlation windows per origin (a bus detector's partitions): one origin's windows are saved,
handed to another engine and dropped, the others' untouched, and the incident split across the
hand-over fires once with its whole count, as one engine gives (nocsoc.bus.windows)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.engine import Detection, Engine
from nocsoc.events import LogEvent
from tests.detections.test_correlation_semantics import BRUTE, FAIL_RULE, T0, engine_of, ev

UPPER = ("title: At most five\nlevel: high\ncorrelation:\n    type: event_count\n    rules: [fail]\n"
         "    group-by: [src_ip]\n    timespan: 1m\n    condition:\n        gte: 2\n        lte: 5\n")


def _from(origin: str, e: LogEvent) -> LogEvent:
    e.origin = origin
    return e


def _brute(dets: list[Detection]) -> list[tuple[bool, int, str]]:
    return [(d.new, d.count, d.group_key) for d in dets if d.title == "Brute force"]


def _scoped(tmp_path: Path, *docs: str) -> Engine:
    eng = engine_of(tmp_path, *docs)
    eng.scope_by_origin()
    return eng


def _via_json(snap: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    """As the alert store keeps it."""
    return json.loads(json.dumps(snap, default=str))


def test_a_brute_force_split_across_a_hand_over_fires_once_with_its_count(tmp_path: Path) -> None:
    one = engine_of(tmp_path, FAIL_RULE, BRUTE)  # gte 4 in 5 min, by src_ip
    events = [ev(T0 + i) for i in range(7)]
    want = [d for e in events for d in one.process(e)] + one.flush(T0 + 10)
    assert _brute(want) == [(True, 4, "src_ip=203.0.113.7"), (False, 3, "src_ip=203.0.113.7")]

    a, b = _scoped(tmp_path, FAIL_RULE, BRUTE), _scoped(tmp_path, FAIL_RULE, BRUTE)
    got = [d for e in events[:2] for d in a.process(_from("3", e))]
    a.process(_from("5", ev(T0, src="198.51.100.9")))  # another partition's group stays with a
    got += a.drain()
    saved = _via_json(a.snapshot(scope="3"))
    assert a.forget("3") == 1 and a.state_size() == 1
    assert b.restore(saved, merge=True) == (1, [])
    got += [d for e in events[2:] for d in b.process(_from("3", e))] + b.flush(T0 + 10)
    assert _brute(got) == _brute(want)
    assert a.snapshot(scope="5")["Brute force"]["groups"][0][0] == ["5", "198.51.100.9"]


def test_without_the_hand_over_the_split_brute_force_is_missed(tmp_path: Path) -> None:
    """What the move fixes: the taking engine would start the window empty (3 + 3, each below 4)."""
    a, b = _scoped(tmp_path, FAIL_RULE, BRUTE), _scoped(tmp_path, FAIL_RULE, BRUTE)
    got = [d for e in [ev(T0), ev(T0 + 1), ev(T0 + 2)] for d in a.process(_from("3", e))]
    got += [d for e in [ev(T0 + 3), ev(T0 + 4), ev(T0 + 5)] for d in b.process(_from("3", e))]
    assert _brute(got) == []


def test_unreported_counts_move_with_the_window_and_are_reported_once(tmp_path: Path) -> None:
    a, b = _scoped(tmp_path, FAIL_RULE, BRUTE), _scoped(tmp_path, FAIL_RULE, BRUTE)
    got = [d for i in range(6) for d in a.process(_from("1", ev(T0 + i)))]
    assert _brute(got) == [(True, 4, "src_ip=203.0.113.7")]  # 2 gained, not reported yet
    saved = _via_json(a.snapshot(scope="1"))
    a.forget("1")
    assert a.drain() == [] and a.held() == 0  # dropped with the window: a reports nothing
    b.restore(saved, merge=True)
    assert b.held() == 1
    got += b.tick()
    assert _brute(got) == [(True, 4, "src_ip=203.0.113.7"), (False, 2, "src_ip=203.0.113.7")]


def test_one_origin_restored_leaves_the_others_and_replaces_its_own(tmp_path: Path) -> None:
    eng = _scoped(tmp_path, FAIL_RULE, BRUTE)
    for o, src in (("0", "192.0.2.1"), ("1", "192.0.2.2"), ("1", "192.0.2.3")):
        eng.process(_from(o, ev(T0, src=src)))
    mine = _via_json(eng.snapshot(scope="1"))
    eng.process(_from("1", ev(T0 + 1, src="192.0.2.4")))  # after the save: replaced by it
    assert eng.restore(mine, merge=True) == (2, [])
    groups = [g[0] for g in eng.snapshot()["Brute force"]["groups"]]
    assert sorted(groups) == [["0", "192.0.2.1"], ["1", "192.0.2.2"], ["1", "192.0.2.3"]]


def test_the_same_group_in_two_origins_is_two_windows(tmp_path: Path) -> None:
    """An attacker seen through two partitions is counted per partition, wherever they are held,
    so the result does not depend on which detector holds what; its alert (rule and group)
    adds the partitions' counts once each has fired."""
    eng = _scoped(tmp_path, FAIL_RULE, BRUTE)
    got: list[Detection] = []
    for i in range(4):
        got += eng.process(_from("0", ev(T0 + i)))
        got += eng.process(_from("1", ev(T0 + i)))
    got += eng.flush(T0 + 10)
    assert _brute(got) == [(True, 4, "src_ip=203.0.113.7")] * 2
    with AlertStore(tmp_path / "a.db") as store:
        store.ingest(got, now=T0 + 10)
        (alert,) = [a for a in store.list_alerts() if a.rule_title == "Brute force"]
    assert alert.count == 8


def test_an_upper_bound_window_closes_on_its_new_holder(tmp_path: Path) -> None:
    a, b = _scoped(tmp_path, FAIL_RULE, UPPER), _scoped(tmp_path, FAIL_RULE, UPPER)
    for i in range(2):
        a.process(_from("2", ev(T0 + i)))
    saved = _via_json(a.snapshot(scope="2"))
    a.forget("2")
    b.restore(saved, merge=True)
    got = [d for d in b.process(_from("2", ev(T0 + 2)))] + b.flush(T0 + 300)
    assert [(d.new, d.count) for d in got if d.title == "At most five"] == [(True, 3)]
    assert [d for d in a.flush(T0 + 300) if d.title == "At most five"] == []


def test_scoping_an_engine_with_windows_is_refused(tmp_path: Path) -> None:
    eng = engine_of(tmp_path, FAIL_RULE, BRUTE)
    eng.process(ev(T0))
    with pytest.raises(RuntimeError, match="has windows already"):
        eng.scope_by_origin()


def test_changed_groups_are_given_once_per_origin_and_gone_ones_as_none(tmp_path: Path) -> None:
    """What a bus detector saves with each commit (nocsoc.bus.windows): the groups changed since
    the last call, by origin and rule, each as `snapshot` saves it; None once a group is gone."""
    eng = _scoped(tmp_path, FAIL_RULE, BRUTE)
    eng.process(_from("1", ev(T0, src="192.0.2.1")))
    eng.process(_from("1", ev(T0 + 1, src="192.0.2.2")))
    eng.process(_from("2", ev(T0 + 1, src="192.0.2.1")))
    got = eng.window_changes()
    assert {o: {rid: sorted(gk for gk, _ in gs) for rid, gs in per.items()} for o, per in got.items()} == {
        "1": {"Brute force": [("1", "192.0.2.1"), ("1", "192.0.2.2")]},
        "2": {"Brute force": [("2", "192.0.2.1")]}}
    full = {tuple(g[0]): g for g in eng.snapshot()["Brute force"]["groups"]}
    assert all(entry == full[gk] for per in got.values() for gs in per.values() for gk, entry in gs)
    assert eng.window_changes() == {}  # given once
    eng.process(_from("1", ev(T0 + 2, src="192.0.2.2")))
    (changed,) = eng.window_changes()["1"]["Brute force"]
    assert changed[0] == ("1", "192.0.2.2") and changed[1][1][2] == 2  # its window counts 2 now
    eng.process(_from("2", ev(T0 + 400, src="192.0.2.9")))  # a sweep frees the idle groups
    gone = eng.window_changes()
    assert sorted(gk for gk, entry in gone["1"]["Brute force"] if entry is None) == [
        ("1", "192.0.2.1"), ("1", "192.0.2.2")]
    eng.redirty(gone)  # a save the store refused: given again
    again = eng.window_changes()
    assert {o: {r: sorted(gs, key=str) for r, gs in per.items()} for o, per in again.items()} == \
        {o: {r: sorted(gs, key=str) for r, gs in per.items()} for o, per in gone.items()}
    eng.process(_from("1", ev(T0 + 401, src="192.0.2.3")))
    eng.forget("1")  # the origin given up: its changes are its next holder's to save
    assert "1" not in eng.window_changes()


def test_events_held_for_reordering_move_to_another_engine(tmp_path: Path) -> None:
    """Events held for reordering, given by `held_events` and held again by another engine
    (`hold`), are counted there as if they had arrived there: the brute force fires once."""
    one = engine_of(tmp_path, FAIL_RULE, BRUTE, reorder_window_s=60.0)
    events = [ev(T0 + i) for i in range(5)]
    want = [d for e in events for d in one.process(e)] + one.drain()
    a = engine_of(tmp_path, FAIL_RULE, BRUTE, reorder_window_s=60.0)
    a.scope_by_origin()
    b = engine_of(tmp_path, FAIL_RULE, BRUTE, reorder_window_s=60.0)
    b.scope_by_origin()
    got = [d for e in events for d in a.process(_from("3", e))]
    held = a.held_events()
    fail_id = "22222222-0000-4000-8000-000000000001"  # FAIL_RULE's id
    assert [(rid, e.time) for _, rid, e in held] == [(fail_id, T0 + i) for i in range(5)]
    assert [n for n, _, _ in held] == sorted(n for n, _, _ in held)  # arrival order
    for _, rid, e in held:  # through JSON, as the store keeps them
        moved = LogEvent.from_dict(json.loads(json.dumps(e.to_dict())))
        moved.origin = "3"
        got += b.hold(rid, moved) or []
    assert b.hold("no-such-rule", ev(T0)) is None
    got += b.drain()
    assert _brute(got) == _brute(want) == [(True, 4, "src_ip=203.0.113.7"), (False, 1, "src_ip=203.0.113.7")]


def test_forgetting_an_origin_takes_its_held_events_out(tmp_path: Path) -> None:
    """A partition handed over with its held events (saved with its state) leaves none of them
    in the giving engine's reorder buffer, to be counted there after it is gone."""
    eng = engine_of(tmp_path, FAIL_RULE, BRUTE, reorder_window_s=60.0)
    eng.scope_by_origin()
    for i in range(3):
        eng.process(_from("1", ev(T0 + i)))
        eng.process(_from("2", ev(T0 + i, src="198.51.100.9")))
    assert sorted(e.origin for _, _, e in eng.held_events()) == ["1"] * 3 + ["2"] * 3
    eng.forget("1")
    assert [e.origin for _, _, e in eng.held_events()] == ["2"] * 3
    for i in range(3, 5):
        eng.process(_from("2", ev(T0 + i, src="198.51.100.9")))
    assert _brute(eng.drain()) == [(True, 4, "src_ip=198.51.100.9"), (False, 1, "src_ip=198.51.100.9")]
    assert eng.held() == 0 and eng.reorder_released(eng.reorder_mark())
