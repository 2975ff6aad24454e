"""A bus partition's saved correlation windows (`AlertStore.ingest(windows=...)`,
`partition_windows`) on SQLite and PostgreSQL: each partition's kept apart, replaced whole by the
next save, in the transaction of the marks they match, and readable by any detector."""

from __future__ import annotations

import uuid
from pathlib import Path

from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.alerts.postgres import PostgresAlertStore
from tests.servers.postgres import Postgres, create_database, pg_server  # noqa: F401 - a fixture

P1, P2 = "bus:NOCSOC_LOGS_P001", "bus:NOCSOC_LOGS_P002"


def _check(a: AlertStore, b: AlertStore) -> None:
    """`a` saves, `b` (another detector on the same store) reads."""
    brute = {"fingerprint": "f", "incidents": 1, "groups": [[["1", "192.0.2.10"], [1.0], []]], "left_out": 0}
    spray = {"fingerprint": "g", "incidents": 0, "groups": [], "left_out": 0}
    a.ingest([], offsets={P1: (0, 41)}, windows={P1: {"brute": brute, "spray": spray}, P2: {"brute": spray}})
    assert b.partition_windows(P1) == {"brute": brute, "spray": spray}
    assert b.partition_windows(P2) == {"brute": spray}
    assert b.input_offset(P1) == (0, 41)
    a.ingest([], offsets={P1: (0, 42)}, windows={P1: {"brute": spray}})  # replaced whole, P2 untouched
    assert b.partition_windows(P1) == {"brute": spray} and b.partition_windows(P2) == {"brute": spray}
    assert b.partition_windows("bus:NOCSOC_LOGS_P003") == {}
    assert b.correlations() == {}  # a one-machine snapshot is another thing


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
