"""The IOC overview's alert panels count alerts, not events: alerts raised by the engine and
triaged, their `alert` points written through nocsoc's influxdb1 sink to a real influxd, then
the dashboard's queries (as Grafana substitutes them) against the alert store's own states."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.dashboards.macros import TimeRange
from nocsoc.dashboards.proof import InfluxQuery, all_selected, dashboard_queries, prove
from nocsoc.dashboards.registry import build_all
from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.alerts.points import alert_point
from nocsoc.sinks.factory import build_sink
from nocsoc.sinks.plugins.influxdb1 import InfluxDB1SinkConfig
from tests.web.conftest import ingest, rule_lines

pytestmark = pytest.mark.servers
DB = "ioc_open_alerts"


def test_ioc_overview_counts_open_alerts(influxd: Any, tmp_path: Path) -> None:
    if not influxd.running:
        influxd.start()
    influxd.drop_database(DB)
    influxd.create_database(DB)
    store = AlertStore(tmp_path / "alerts.db")
    ingest(store, rule_lines())
    alerts = store.list_alerts(limit=100)
    now = time.time_ns() - 60_000_000_000
    points = [alert_point(a, a.count, now + i) for i, a in enumerate(alerts)]
    # close one alert of each level that has two or more, and a critical one if any; ack one
    by_level: dict[str, list[int]] = {}
    for a in alerts:
        by_level.setdefault(a.level, []).append(a.id)
    closed = [ids[0] for lv, ids in by_level.items() if len(ids) > 1 or lv == "critical"]
    acked = [ids[-1] for ids in by_level.values() if len(ids) > 2]
    later = now + 10_000_000_000
    for i, aid in enumerate(closed):
        points.append(alert_point(store.transition(aid, "close", "ana", "đã xử lý"), 0, later + i))
    for i, aid in enumerate(acked):
        points.append(alert_point(store.transition(aid, "ack", "ana"), 0, later + 100 + i))
    sink = build_sink(
        InfluxDB1SinkConfig(url=influxd.url, database=DB, spool_dir=str(tmp_path / "spool")), tmp_path
    )
    sink.write(points)
    assert sink.flush(10.0)
    sink.close()

    dashboards = [d for _, d in build_all("en", DashboardsConfig().datasource_uid)]
    queries = {q.panel: q for q in dashboard_queries(dashboards) if q.owner == "nocsoc-ioc-overview"}
    now_ms = time.time_ns() // 1_000_000
    tr = TimeRange(now_ms - 3_600_000, now_ms, "now-1h", "now")
    client = InfluxQuery(influxd.url, DB)

    def rows(panel: str) -> list[dict[str, Any]]:
        (r,) = prove(client, [queries[panel]], tr, all_selected(dashboards), 200)
        assert not r.error, r.error
        return [
            {**s.get("tags", {}), **dict(zip(s["columns"], v, strict=True))}
            for s in r.series
            for v in s["values"]
        ]

    truth = [store.get(a.id) for a in alerts]
    open_now = [a for a in truth if a.state in ("new", "acknowledged")]
    events = sum(a.count for a in open_now)
    assert len(closed) >= 2 and acked and events > len(open_now)  # a sum of events would differ
    [got] = rows("Open alerts")
    assert got["alerts"] == len(open_now)
    critical = rows("Critical alerts")
    assert [r["alerts"] for r in critical] == (
        [sum(1 for a in open_now if a.level == "critical")] if "critical" in by_level else []
    )
    want = {lv: sum(1 for a in open_now if a.level == lv) for lv in by_level}  # all closed: 0
    assert {r["level"]: r["alerts"] for r in rows("Open alerts by level")} == want
    store.close()
    influxd.drop_database(DB)
