"""The IOC overview's alert panels count alerts, not events: alerts raised by the engine and
triaged, their `alert` points written through nocsoc's influxdb1 sink to a real influxd, then
the dashboard's queries (as Grafana substitutes them) against the alert store's own states."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.dashboards.triage_influx import panel_rows, raise_alerts, write_triaged

pytestmark = pytest.mark.servers
DB = "ioc_open_alerts"


def test_ioc_overview_counts_open_alerts(influxd: Any, tmp_path: Path) -> None:
    store, alerts = raise_alerts(influxd, DB, tmp_path)
    # close one alert of each level that has two or more, and a critical one if any; ack one
    by_level: dict[str, list[int]] = {}
    for a in alerts:
        by_level.setdefault(a.level, []).append(a.id)
    closed = [ids[0] for lv, ids in by_level.items() if len(ids) > 1 or lv == "critical"]
    acked = [ids[-1] for ids in by_level.values() if len(ids) > 2]
    write_triaged(influxd, DB, tmp_path, store, alerts, closed, acked)
    rows = panel_rows(influxd, DB, "nocsoc-ioc-overview")

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
