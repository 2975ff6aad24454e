"""Shared by the alert-counting dashboard tests: raise the rules' sample alerts, triage some,
write every `alert` point through nocsoc's influxdb1 sink to a real influxd, and read a
dashboard's panels back as Grafana would substitute their queries."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.dashboards.macros import TimeRange
from nocsoc.dashboards.proof import InfluxQuery, all_selected, dashboard_queries, prove
from nocsoc.dashboards.registry import build_all
from nocsoc.detections.alerts import Alert, AlertStore
from nocsoc.detections.alerts.points import alert_point
from nocsoc.sinks.factory import build_sink
from nocsoc.sinks.plugins.influxdb1 import InfluxDB1SinkConfig
from tests.web.conftest import ingest, rule_lines

Rows = Callable[[str], list[dict[str, Any]]]


def raise_alerts(influxd: Any, db: str, tmp_path: Path) -> tuple[AlertStore, list[Alert]]:
    """A fresh database on `influxd` and an alert store holding the rules' sample alerts."""
    if not influxd.running:
        influxd.start()
    influxd.drop_database(db)
    influxd.create_database(db)
    store = AlertStore(tmp_path / "alerts.db")
    ingest(store, rule_lines())
    return store, store.list_alerts(limit=100)


def write_triaged(influxd: Any, db: str, tmp_path: Path, store: AlertStore, alerts: list[Alert],
                  closed: list[int], acked: list[int]) -> None:
    """Every alert's point a minute ago, then the points of closing and acknowledging some."""
    now = time.time_ns() - 60_000_000_000
    points = [alert_point(a, a.count, now + i) for i, a in enumerate(alerts)]
    later = now + 10_000_000_000
    for i, aid in enumerate(closed):
        points.append(alert_point(store.transition(aid, "close", "ana", "đã xử lý"), 0, later + i))
    for i, aid in enumerate(acked):
        points.append(alert_point(store.transition(aid, "ack", "ana"), 0, later + 100 + i))
    sink = build_sink(
        InfluxDB1SinkConfig(url=influxd.url, database=db, spool_dir=str(tmp_path / "spool")), tmp_path
    )
    sink.write(points)
    assert sink.flush(30)
    sink.close()


def panel_rows(influxd: Any, db: str, owner: str) -> Rows:
    """Rows of a panel of dashboard `owner` over the last hour, tags merged into each row."""
    dashboards = [d for _, d in build_all("en", DashboardsConfig().datasource_uid)]
    queries = {q.panel: q for q in dashboard_queries(dashboards) if q.owner == owner}
    now_ms = time.time_ns() // 1_000_000
    tr = TimeRange(now_ms - 3_600_000, now_ms, "now-1h", "now")
    client = InfluxQuery(influxd.url, db)

    def rows(panel: str) -> list[dict[str, Any]]:
        (r,) = prove(client, [queries[panel]], tr, all_selected(dashboards), 200)
        assert not r.error, r.error
        return [
            {**s.get("tags", {}), **dict(zip(s["columns"], v, strict=True))}
            for s in r.series
            for v in s["values"]
        ]

    return rows
