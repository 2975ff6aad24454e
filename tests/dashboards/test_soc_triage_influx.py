"""Triage reaches the sinks: alerts raised by the engine and triaged in the console, their
`alert` points written through nocsoc's influxdb1 sink to a real influxd, then the SOC alerts
dashboard's queries (as Grafana substitutes them) count each alert once, in its latest state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.dashboards.triage_influx import panel_rows, raise_alerts, write_triaged

pytestmark = pytest.mark.servers
DB = "soc_triage"


def test_triage_changes_reach_the_soc_dashboard(influxd: Any, tmp_path: Path) -> None:
    store, alerts = raise_alerts(influxd, DB, tmp_path)
    closed = [a.id for a in alerts if a.level == "high"][:2]
    acked = [a.id for a in alerts if a.level == "medium"][:1]
    write_triaged(influxd, DB, tmp_path, store, alerts, closed, acked)
    rows = panel_rows(influxd, DB, "nocsoc-soc-alerts")

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
