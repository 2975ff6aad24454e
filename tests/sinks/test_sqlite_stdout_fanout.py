"""The embedded sinks (sqlite, stdout), FanoutSink, the factory and the sink self-metrics."""

from __future__ import annotations

import io
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nocsoc.errors import SecretError
from nocsoc.lineproto import encode_many
from nocsoc.schema import DEVICE, INTERFACE, SINK, Point
from nocsoc.sinks.base import Sink, SinkError
from nocsoc.sinks.batching import COUNTERS
from nocsoc.sinks.fanout import FanoutSink
from nocsoc.sinks.plugins.influxdb import InfluxDBSinkConfig
from nocsoc.sinks.plugins.influxdb1 import InfluxDB1SinkConfig
from nocsoc.sinks.plugins.sqlite import SqliteSinkConfig
from nocsoc.sinks.plugins.stdout import StdoutSinkConfig
from nocsoc.sinks.sqlite import MeasurementSummary, QueryRow, SqliteReader, SqliteSink
from nocsoc.sinks.stdout import StdoutSink
from tests.sinks.conftest import T0, fast_settings


def interface_points(n: int, t0: int = T0) -> list[Point]:
    return [INTERFACE.point(t0 + i * 60_000_000_000,
                            {"device": f"dx-core-{i % 2}", "site": "dong-xoai", "role": "core",
                             "ifname": "Gi0/0/1"},
                            {"in_bps": 1e6 + i / 3, "in_octets": 2**40 + i, "oper_status": 1})
            for i in range(n)]


def test_sqlite_roundtrip_and_query(tmp_path: Path, closing: Callable[[Any], Any]) -> None:
    sink = closing(SqliteSink("sqlite", tmp_path / "var" / "nocsoc.db", fast_settings(None),
                              retention_days=36500))
    pts = interface_points(10)
    sink.write(pts)
    sink.write([Point("flags", {"site": "Bình Long"}, {"up": True, "note": 'a "b"', "n": -2}, T0)])
    assert sink.flush(30)
    rows = sink.query("interface", fields=["in_bps", "in_octets"], where_tags={"device": "dx-core-1"})
    assert rows == [QueryRow(p.time_ns, p.tags, {"in_bps": p.fields["in_bps"],
                                                 "in_octets": p.fields["in_octets"]})
                    for p in pts if p.tags["device"] == "dx-core-1"]
    since = T0 + 5 * 60_000_000_000
    assert [r.time_ns for r in sink.query("interface", since_ns=since)] == [p.time_ns for p in pts[5:]]
    assert sink.query("flags") == [QueryRow(T0, {"site": "Bình Long"}, {"n": -2, "note": 'a "b"', "up": 1})]
    assert SqliteReader(sink.path).summary() == [
        MeasurementSummary("flags", 1, 3, T0, T0),
        MeasurementSummary("interface", 2, 30, T0, pts[-1].time_ns),
    ]
    assert sink.counters()["written"] == 11
    with sqlite3.connect(sink.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sqlite_same_series_and_time_is_stored_once(tmp_path: Path, closing: Callable[[Any], Any]) -> None:
    sink = closing(SqliteSink("sqlite", tmp_path / "n.db", fast_settings(None), retention_days=36500))
    p = DEVICE.point(T0, {"device": "ups-1", "site": "dx", "role": "ups"}, {"cpu_pct": 5.0, "reachable": 1})
    sink.write([p])
    sink.write([DEVICE.point(T0, {"device": "ups-1", "site": "dx", "role": "ups"}, {"cpu_pct": 7.5})])
    assert sink.flush(30)
    assert sink.query("device") == [QueryRow(T0, p.tags, {"cpu_pct": 7.5, "reachable": 1})]


def test_sqlite_retention_deletes_old_values(tmp_path: Path) -> None:
    path = tmp_path / "n.db"
    now = time.time_ns()
    sink = SqliteSink("sqlite", path, fast_settings(None), retention_days=1)
    old = interface_points(3, t0=now - 3 * 86400 * 10**9)
    new = interface_points(2, t0=now - 3600 * 10**9)
    sink.write(old + new)
    assert sink.flush(30)
    assert len(sink.query("interface")) == 5
    sink.close()
    reopened = SqliteSink("sqlite", path, fast_settings(None), retention_days=1)  # retention at start
    try:
        assert [r.time_ns for r in reopened.query("interface")] == [p.time_ns for p in new]
        assert reopened.summary()[0].series == 2
    finally:
        reopened.close()


def test_stdout_writes_line_protocol() -> None:
    out = io.StringIO()
    sink = StdoutSink("stdout", out)
    pts = interface_points(3)
    sink.write(pts)
    sink.write([Point("bad\\", {}, {"v": 1.0}, 1)])  # refused: counted, not raised
    assert sink.flush()
    assert out.getvalue() == "".join(line + "\n" for line in encode_many(pts))
    assert sink.counters()["written"] == 3
    assert sink.counters()["rejected"] == 1


def test_fanout_writes_to_every_sink_and_reports_self_metrics(tmp_path: Path) -> None:
    out = io.StringIO()
    sqlite = SqliteSink("local", tmp_path / "n.db", fast_settings(None), retention_days=36500)
    fan = FanoutSink([StdoutSink("stdout", out), sqlite])
    pts = interface_points(4)
    fan.write(pts)
    assert fan.flush(30)
    assert len(out.getvalue().splitlines()) == 4
    assert len(sqlite.query("interface")) == 4
    assert fan.counters()["written"] == 8
    self_points = fan.self_points(T0)
    assert [(p.measurement, p.tags, p.fields["written"]) for p in self_points] == [
        (SINK.name, {"sink": "stdout"}, 4), (SINK.name, {"sink": "local"}, 4)]
    assert set(self_points[1].fields) == set(COUNTERS)  # every counter a batching sink declares
    fan.close()


def test_factory_builds_each_type_with_paths_under_base_dir(tmp_path: Path) -> None:
    from nocsoc.sinks.factory import build_sink
    from nocsoc.sinks.influxdb1 import InfluxDB1Sink

    sqlite = build_sink(SqliteSinkConfig(path="var/x.db"), tmp_path)
    stdout = build_sink(StdoutSinkConfig(), tmp_path)
    influx1 = build_sink(InfluxDB1SinkConfig(name="dc", url="http://127.0.0.1:1", database="noc"), tmp_path)
    try:
        assert isinstance(sqlite, SqliteSink) and sqlite.path == tmp_path / "var" / "x.db"
        assert isinstance(stdout, StdoutSink)
        assert isinstance(influx1, InfluxDB1Sink) and influx1.spool is not None
        assert influx1.spool.directory == tmp_path / "var" / "spool" / "dc"
        assert all(isinstance(s, Sink) for s in (sqlite, stdout, influx1))
    finally:
        for sink in (sqlite, stdout, influx1):
            sink.close()


def test_factory_refuses_literal_secrets_and_duplicate_names(tmp_path: Path) -> None:
    from nocsoc.config import Config
    from nocsoc.sinks.factory import build_sink, build_sinks

    with pytest.raises(SecretError, match="literal secret"):
        build_sink(InfluxDBSinkConfig(url="http://127.0.0.1:1", bucket="b", token="my-token"), tmp_path)
    with pytest.raises(SecretError) as exc:
        build_sink(InfluxDB1SinkConfig(url="http://127.0.0.1:1", username="u", password="hunter2"),
                   tmp_path)
    assert "hunter2" not in str(exc.value)
    config = Config(sinks=[StdoutSinkConfig(), StdoutSinkConfig()])
    with pytest.raises(SinkError, match="duplicate sink name"):
        build_sinks(config.sinks, tmp_path)


def test_build_sinks_from_config_default_is_sqlite(tmp_path: Path) -> None:
    from nocsoc.config import Config
    from nocsoc.sinks.factory import build_fanout, build_sinks

    sinks = build_sinks(Config().sinks, tmp_path)
    try:
        assert [type(s).__name__ for s in sinks] == ["SqliteSink"]
        assert isinstance(sinks[0], SqliteSink) and sinks[0].path == tmp_path / "var" / "nocsoc.db"
    finally:
        for s in sinks:
            s.close()
    fan = build_fanout(Config(sinks=[SqliteSinkConfig(name="local", path="a.db", flush_interval_s=0.05),
                                     StdoutSinkConfig()]).sinks, tmp_path)
    try:
        fan.write(interface_points(2))
        assert fan.flush(30)
        assert [s.name for s in fan.sinks] == ["local", "stdout"]
        assert len(SqliteReader(tmp_path / "a.db").query("interface")) == 2
    finally:
        fan.close()
