"""A bus partition's saved correlation state (`AlertStore.ingest(windows=...)`,
`nocsoc.detections.alerts.partitions`) on SQLite and PostgreSQL: saved piecewise (a group
upserted when it changed, deleted when gone; held events inserted, then deleted once
released), each partition's kept apart, a reset replacing the partition's rows whole, in the
transaction of the marks they match, and readable by any detector; a commit of a holder whose
partition another holder took since (its epoch moved on) writes nothing of it."""

from __future__ import annotations

import uuid
from pathlib import Path

from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.alerts.partitions import PartitionSave
from nocsoc.detections.alerts.postgres import PostgresAlertStore
from tests.servers.postgres import Postgres, create_database, pg_server  # noqa: F401 - a fixture

P1, P2 = "bus:NOCSOC_LOGS_P001", "bus:NOCSOC_LOGS_P002"


def _group(src: str, last: float) -> list[object]:
    """A group as `Engine.snapshot` saves it: key, window (newest event time first), past windows."""
    return [["1", src], [last, False, 1, [last], [], 0], []]


def _key(src: str) -> str:
    return f'["1", "{src}"]'


EV = {"time": 5.0, "host": "srv1", "raw": "x", "fields": {"src_ip": "192.0.2.9"}}


def _check(a: AlertStore, b: AlertStore) -> None:
    """`a` saves, `b` (another detector on the same store) reads."""
    g10, g11 = _group("192.0.2.10", 2.0), _group("192.0.2.11", 1.0)
    a.ingest([], offsets={P1: (0, 41)}, windows={
        P1: PartitionSave(reset=True, fingerprints={"brute": "f", "spray": "g"},
                          groups=[("brute", _key("192.0.2.10"), g10), ("brute", _key("192.0.2.11"), g11)],
                          held=[(7, "fail", EV), (9, "fail", {**EV, "time": 6.0})]),
        P2: PartitionSave(fingerprints={"brute": "f"})})
    windows, held = b.partition_state(P1)
    assert windows == {"brute": {"fingerprint": "f", "incidents": 0, "groups": [g11, g10], "left_out": 0},
                       "spray": {"fingerprint": "g", "incidents": 0, "groups": [], "left_out": 0}}
    assert held == [("fail", EV), ("fail", {**EV, "time": 6.0})]
    assert b.input_offset(P1) == (0, 41)
    # the next commit: one group changed, one gone, one event released, one newly held
    g10b = _group("192.0.2.10", 3.0)
    a.ingest([], offsets={P1: (0, 42)}, windows={P1: PartitionSave(
        fingerprints={"brute": "f"},
        groups=[("brute", _key("192.0.2.10"), g10b), ("brute", _key("192.0.2.11"), None)],
        held=[(12, "fail", {**EV, "time": 8.0})], released=[7])})
    windows, held = b.partition_state(P1)
    assert windows["brute"]["groups"] == [g10b] and windows["spray"]["groups"] == []
    assert held == [("fail", {**EV, "time": 6.0}), ("fail", {**EV, "time": 8.0})]
    assert b.input_offset(P1) == (0, 42)
    assert b.partition_windows(P2) == {"brute": {"fingerprint": "f", "incidents": 0, "groups": [],
                                                 "left_out": 0}}
    # a reset (a new holder's first save) replaces the partition's rows whole, P2 untouched
    a.ingest([], windows={P1: PartitionSave(reset=True, fingerprints={"brute": "h"})})
    assert b.partition_state(P1) == ({"brute": {"fingerprint": "h", "incidents": 0, "groups": [],
                                                "left_out": 0}}, [])
    assert b.partition_windows(P2)["brute"]["fingerprint"] == "f"
    assert b.partition_state("bus:NOCSOC_LOGS_P003") == ({}, [])
    assert b.correlations() == {}  # a one-machine snapshot is another thing
    # the fence: a holder's commit after another took the partition writes nothing of it
    assert a.hold_partition(P2, "d1") == 1 and b.hold_partition(P2, "d2") == 2
    res = a.ingest([], offsets={P2: (0, 99), P1: (0, 50)}, fences={P2: ("d1", 1)},
                   windows={P2: PartitionSave(reset=True, fingerprints={"brute": "zombie"})})
    assert res.fenced == {P2}
    assert b.input_offset(P2) is None and b.partition_windows(P2)["brute"]["fingerprint"] == "f"
    assert b.input_offset(P1) == (0, 50)  # another partition of the same commit: written
    res = b.ingest([], offsets={P2: (0, 99)}, fences={P2: ("d2", 2)})
    assert res.fenced == set() and a.input_offset(P2) == (0, 99)


def test_sqlite(tmp_path: Path) -> None:
    with AlertStore(tmp_path / "a.db") as a, AlertStore(tmp_path / "a.db", owner="other") as b:
        _check(a, b)


def test_postgres(pg_server: Postgres) -> None:  # noqa: F811
    dsn = create_database(pg_server, f"t{uuid.uuid4().hex[:16]}")
    a = PostgresAlertStore(dsn, password=pg_server.password, owner="d1")
    b = PostgresAlertStore(dsn, password=pg_server.password, owner="d2")
    try:
        _check(a, b)
    finally:
        a.close()
        b.close()
