"""InfluxDB 2.x/3.x sink (influxdb-client, /api/v2/write) against VictoriaMetrics, read back
through /api/v1/export. VictoriaMetrics names series `{measurement}_{field}`, keeps numbers as
float64 rounded to about 12 significant digits (so test values are short decimals), booleans as
0/1, strings as 0, and timestamps in ms."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nocsoc.schema import FLOW_TOTAL, Point
from nocsoc.sinks.influxdb import InfluxDBSink
from tests.servers.base import free_port, wait_until
from tests.servers.influx import VictoriaMetrics
from tests.sinks.conftest import T0, fast_settings


def test_write_through_influxdb_client_and_export(victoria_metrics: VictoriaMetrics, tmp_path: Path,
                                                  closing: Callable[[Any], Any]) -> None:
    sink = closing(InfluxDBSink("influx2", victoria_metrics.url, "nocsoc",
                                fast_settings(tmp_path / "spool"), org="ioc", token="unused"))
    points = [FLOW_TOTAL.point(T0 + i * 60_000_000_000,
                               {"exporter": "127.0.1.1", "device": "dx-core-1", "site": "dong-xoai",
                                "ip_version": 4},
                               {"bytes": 1_000_000 + i, "packets": 900 + i, "flows": 12,
                                "bps": (1_000_000 + i) * 0.125})
              for i in range(30)]
    points.append(Point("v2probe", {"site": "Bình Long"}, {"ok": True, "n": -3}, T0))
    sink.write(points)
    assert sink.flush(30)
    series = victoria_metrics.wait_export(
        '{__name__=~"flow_total_.*", device="dx-core-1"}', lambda s: len(s) == 4
        and all(len(x["values"]) == 30 for x in s))
    got = {s["metric"]["__name__"]: s for s in series}
    ms = [T0 // 1_000_000 + i * 60_000 for i in range(30)]
    assert got["flow_total_bytes"]["values"] == [1_000_000 + i for i in range(30)]
    assert got["flow_total_bps"]["values"] == [(1_000_000 + i) * 0.125 for i in range(30)]
    assert got["flow_total_packets"]["values"] == [900 + i for i in range(30)]
    assert got["flow_total_flows"]["values"] == [12] * 30
    assert all(s["timestamps"] == ms for s in series)
    assert got["flow_total_bytes"]["metric"] == {"__name__": "flow_total_bytes", "exporter": "127.0.1.1",
                                                 "device": "dx-core-1", "site": "dong-xoai",
                                                 "ip_version": "4"}
    probe = victoria_metrics.wait_export('{__name__=~"v2probe_.*"}', lambda s: len(s) == 2)
    assert {s["metric"]["__name__"]: (s["metric"]["site"], s["values"]) for s in probe} == {
        "v2probe_ok": ("Bình Long", [1]), "v2probe_n": ("Bình Long", [-3])}
    c = sink.counters()
    assert (c["written"], c["rejected"], c["spooled"]) == (31, 0, 0)


def test_unreachable_then_replay(victoria_metrics: VictoriaMetrics, tmp_path: Path,
                                 closing: Callable[[Any], Any]) -> None:
    spool = tmp_path / "spool"
    down = InfluxDBSink("influx2", f"http://127.0.0.1:{free_port()}", "nocsoc", fast_settings(spool),
                        org="ioc", token="unused")
    down.write([Point("v2replay", {"k": "a"}, {"v": float(i)}, T0 + i * 1_000_000) for i in range(40)])
    assert down.flush(30) is False
    down.close()
    assert down.counters()["spooled"] == 40
    sink = closing(InfluxDBSink("influx2", victoria_metrics.url, "nocsoc", fast_settings(spool),
                                org="ioc", token="unused"))
    wait_until(lambda: sink.flush(1), what="spool replay to VictoriaMetrics")
    series = victoria_metrics.wait_export('{__name__="v2replay_v"}', lambda s: len(s) == 1
                                          and len(s[0]["values"]) == 40)
    assert series[0]["values"] == [float(i) for i in range(40)]
    assert sink.counters()["replayed"] == 40


@pytest.mark.parametrize("token", ["env:NOCSOC_TEST_TOKEN"])
def test_factory_resolves_the_token_reference(victoria_metrics: VictoriaMetrics, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, token: str,
                                              closing: Callable[[Any], Any]) -> None:
    from nocsoc.sinks.factory import build_sink
    from nocsoc.sinks.plugins.influxdb import InfluxDBSinkConfig

    monkeypatch.setenv("NOCSOC_TEST_TOKEN", "s3cret-token")
    cfg = InfluxDBSinkConfig(url=victoria_metrics.url, bucket="nocsoc", org="ioc", token=token,
                             spool_dir="spool", flush_interval_s=0.05)
    sink = closing(build_sink(cfg, tmp_path))
    assert isinstance(sink, InfluxDBSink)
    assert sink._client.token == "s3cret-token"
    assert sink.spool is not None and sink.spool.directory == tmp_path / "spool" / "influxdb"
    sink.write([Point("v2token", {}, {"v": 2.5}, T0)])
    assert sink.flush(30)
    victoria_metrics.wait_export('{__name__="v2token_v"}', lambda s: bool(s) and s[0]["values"] == [2.5])
