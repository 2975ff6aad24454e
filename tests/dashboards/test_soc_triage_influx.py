"""Triage reaches the sinks: alerts raised by the engine and triaged in the console, their
`alert` points written through nocsoc's influxdb1 sink to a real influxd, then the SOC alerts
dashboard's queries (as Grafana substitutes them) count each alert once, in its latest state."""

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
DB = "soc_triage"


def test_triage_changes_reach_the_soc_dashboard(influxd: Any, tmp_path: Path) -> None:
    if not influxd.running:
        influxd.start()
    influxd.drop_database(DB)
    influxd.create_database(DB)
    store = AlertStore(tmp_path / "alerts.db")
    ingest(store, rule_lines())
    alerts = store.list_alerts(limit=100)
    now = time.time_ns() - 60_000_000_000
    points = [alert_point(a, a.count, now + i) for i, a in enumerate(alerts)]
    closed = [a.id for a in alerts if a.level == "high"][:2]
    acked = [a.id for a in alerts if a.level == "medium"][:1]
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
    queries = {q.panel: q for q in dashboard_queries(dashboards) if q.owner == "nocsoc-soc-alerts"}
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

    truth = {a.id: store.get(a.id) for a in alerts}
    open_now = {aid: a for aid, a in truth.items() if a.state in ("new", "acknowledged")}
    queue = rows("Open triage queue")
    assert sorted((int(r["alert_id"]), r["state"], r["events"]) for r in queue) == sorted(
        (aid, a.state, a.count) for aid, a in open_now.items()
    )
    by_level = dict.fromkeys({a.level for a in truth.values()}, 0)  # all closed: 0, not absent
    for a in open_now.values():
        by_level[a.level] = by_level.get(a.level, 0) + 1
    got = {r["level"]: r["alerts"] for r in rows("Open alerts by level")}
    assert got == by_level
    assert len(closed) == 2 and all(aid not in {int(r["alert_id"]) for r in queue} for aid in closed)
    store.close()
    influxd.drop_database(DB)
