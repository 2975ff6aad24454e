"""Every panel and alert query, substituted as Grafana substitutes it, on a real influxd.

The database is filled with the known backbone of `backbone_data` (points made by the schema's
`Measurement.point()`, written by nocsoc's influxdb1 sink); each
query must return data, and the headline panels must return the exact ground-truth values.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from nocsoc.dashboards import alerting
from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.dashboards.macros import ALL, TimeRange, Variable, render_query
from nocsoc.dashboards.proof import (
    InfluxQuery,
    QueryRef,
    QueryResult,
    alert_queries,
    all_selected,
    dashboard_queries,
    prove,
    variable_queries,
)
from nocsoc.dashboards.registry import build_all
from nocsoc.dashboards.validate import panels_of
from nocsoc.sinks.factory import build_sink
from nocsoc.sinks.plugins.influxdb1 import InfluxDB1SinkConfig
from tests.dashboards import backbone_data as bb

pytestmark = pytest.mark.servers
DB = "dashboards_proof"
MAX_POINTS = 200  # 1 h / 200 -> Grafana's $__interval = 20s


class Loaded:
    def __init__(self, influxd: Any, now_ms: int) -> None:
        self.influxd = influxd
        self.client = InfluxQuery(influxd.url, DB)
        self.tr = TimeRange(now_ms - 3_600_000, now_ms, "now-1h", "now")
        self.cfg = DashboardsConfig()
        self.dashboards = [d for _, d in build_all("en", self.cfg.datasource_uid)]
        self.queries = [*dashboard_queries(self.dashboards), *alert_queries(self.cfg, "en")]

    def run(self, variables: dict[str, Variable] | None = None, style: str = "backend") -> list[QueryResult]:
        return prove(
            self.client, self.queries, self.tr, variables or all_selected(self.dashboards), MAX_POINTS, style
        )

    def result(
        self, owner: str, panel_title: str, ref: str = "A", variables: dict[str, Variable] | None = None
    ) -> QueryResult:
        (q,) = [q for q in self.queries if (q.owner, q.panel, q.ref_id) == (owner, panel_title, ref)]
        (r,) = prove(
            self.client, [q], self.tr, {**all_selected(self.dashboards), **(variables or {})}, MAX_POINTS
        )
        assert not r.error, f"{q}: {r.error}\n{r.influxql}"
        return r


@pytest.fixture(scope="module")
def loaded(influxd: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    if not influxd.running:
        influxd.start()
    influxd.drop_database(DB)
    influxd.create_database(DB)
    now_ns = time.time_ns()
    data = bb.make(now_ns - 30_000_000_000)
    tmp = tmp_path_factory.mktemp("sink")
    sink = build_sink(InfluxDB1SinkConfig(url=influxd.url, database=DB, spool_dir=str(tmp / "spool")), tmp)
    sink.write(data.points)
    assert sink.flush(30)
    sink.close()
    assert sink.counters()["written"] == len(data.points) and sink.counters()["rejected"] == 0
    yield Loaded(influxd, now_ns // 1_000_000)
    influxd.drop_database(DB)


def rows(r: QueryResult) -> list[dict[str, Any]]:
    """Every value row as {tag..., column: value}."""
    out = []
    for s in r.series:
        for v in s["values"]:
            out.append({**s.get("tags", {}), **dict(zip(s["columns"], v, strict=True))})
    return out


def by_tag(r: QueryResult, tag: str, col: str) -> dict[str, Any]:
    return {s["tags"][tag]: s["values"][-1][s["columns"].index(col)] for s in r.series}


@pytest.mark.parametrize("style", ["backend", "browser"])
def test_every_panel_and_alert_query_returns_data(loaded: Loaded, style: str) -> None:
    results = loaded.run(style=style)
    assert len(results) == len(loaded.queries) >= 60
    bad = [f"{r.ref}: {r.error or 'no rows'}\n    {r.influxql}" for r in results if not r.ok]
    assert bad == []


def test_ioc_overview_kpis_match_the_ground_truth(loaded: Loaded) -> None:
    ioc = "nocsoc-ioc-overview"
    assert rows(loaded.result(ioc, "Devices up"))[0]["up"] == len(bb.DEVICES) - 1
    assert rows(loaded.result(ioc, "Devices down"))[0]["down"] == 1
    # alerts in an open state, each once (not their events: 24 here)
    open_alerts = sum(1 for a in bb.ALERTS if a[4] != "closed")
    assert rows(loaded.result(ioc, "Open alerts"))[0]["alerts"] == open_alerts == 3
    assert rows(loaded.result(ioc, "Critical alerts"))[0]["alerts"] == 1
    assert rows(loaded.result(ioc, "Traffic volume"))[0]["bytes"] == bb.TOTAL_BYTES * bb.STEPS
    top = [(r["link"], r["util"]) for r in rows(loaded.result(ioc, "Most utilized backbone links"))]
    assert sorted(top, key=lambda x: -x[1]) == [("dx-dp", 85.0), ("dx-bd", 40.0)]
    assert by_tag(loaded.result(ioc, "Devices up by site"), "site", "up") == {
        "dong-xoai": 3,
        "bu-dang": 1,
        "dong-phu": 0,
    }
    assert by_tag(loaded.result(ioc, "Devices down by site"), "site", "down") == {"dong-phu": 1}
    assert by_tag(loaded.result(ioc, "Open alerts by level"), "level", "alerts") == {
        "critical": 1,
        "high": 1,
        "medium": 1,
        "low": 0,  # its one alert is closed
    }


def test_traffic_rate_uses_interval_ms_so_volume_adds_up(loaded: Loaded) -> None:
    r = loaded.result("nocsoc-ioc-overview", "Traffic by site")
    interval_ms = loaded.tr.interval_ms(MAX_POINTS)
    assert interval_ms == 20_000
    total_bytes = sum(v["bps"] for v in rows(r) if v["bps"]) * interval_ms / 8000
    assert total_bytes == pytest.approx(bb.TOTAL_BYTES * bb.STEPS)


def test_backbone_links_values(loaded: Loaded) -> None:
    bl = "nocsoc-backbone-links"
    p95 = {
        (v["link"], v["device"]): v for v in rows(loaded.result(bl, "95th percentile and peak utilization"))
    }
    assert p95[("dx-bd", "core-dx-01")]["in_p95"] == pytest.approx(0.40 * bb.SPEED_MBPS * 1e6)
    assert p95[("dx-dp", "core-dx-02")]["in_util_max"] == 85.0
    status = loaded.result(bl, "Link status")
    last = {(s["tags"]["link"], s["tags"]["device"]): s["values"][-1][1] for s in status.series}
    assert last[("dx-dp", "dist-dp-01")] == 2 and last[("dx-bd", "dist-bd-01")] == 1
    optics = rows(loaded.result(bl, "Optical power (rx/tx)"))
    assert min(v["rx"] for v in optics if v["rx"] is not None) == bb.WEAK_OPTIC[2]
    # one link picked: only its two ends come back
    one = loaded.result(bl, "Throughput (in/out)", variables={"link": Variable("link", ["dx-bd"])})
    assert {(s["tags"]["link"], s["tags"]["device"]) for s in one.series} == {
        ("dx-bd", "core-dx-01"),
        ("dx-bd", "dist-bd-01"),
    }


def test_device_detail_variables_single_multi_escaped_and_all(loaded: Loaded) -> None:
    dd = "nocsoc-device-detail"
    site = Variable("site", ["dong-xoai"])
    two = Variable("device", ["core-dx-01", "fw.dx-01"])  # `.` escaped, `-` kept
    r = loaded.result(dd, "Reachable", variables={"site": site, "device": two})
    assert r.influxql.count(r"/^(core-dx-01|fw\.dx-01)$/") == 1
    assert by_tag(r, "device", "up") == {"core-dx-01": 1, "fw.dx-01": 1}
    down = loaded.result(dd, "Reachable", variables={"device": Variable("device", [bb.DOWN_DEVICE])})
    assert by_tag(down, "device", "up") == {bb.DOWN_DEVICE: 0}
    reboots = loaded.result(dd, "Reboots", variables={"device": Variable("device", ALL)})
    assert by_tag(reboots, "device", "reboots") == {bb.REBOOTED: 1}
    ifaces = loaded.result(
        dd,
        "Interfaces",
        variables={
            "device": Variable("device", ["dist-dp-01"]),
            "interface": Variable("interface", ["xe-0/0/0"]),
        },
    )
    (row,) = rows(ifaces)
    assert (row["device"], row["ifname"], row["oper"], row["speed_mbps"]) == (
        "dist-dp-01",
        "xe-0/0/0",
        2,
        bb.SPEED_MBPS,
    )


def test_variable_queries_offer_the_right_values(loaded: Loaded) -> None:
    def values(dash: str, name: str, variables: dict[str, Variable]) -> list[str]:
        (q,) = [
            v["query"] for uid, v in variable_queries(loaded.dashboards) if uid == dash and v["name"] == name
        ]
        series, error = loaded.client.run(render_query(q, loaded.tr, variables))
        assert not error
        return sorted(v[1] for s in series for v in s["values"])

    dd = "nocsoc-device-detail"
    assert values(dd, "site", {}) == ["bu-dang", "dong-phu", "dong-xoai"]
    assert values(dd, "device", {"site": Variable("site", ["dong-xoai"])}) == [
        "core-dx-01",
        "core-dx-02",
        "fw.dx-01",
    ]
    assert values(dd, "interface", {"device": Variable("device", ["core-dx-01", "fw.dx-01"])}) == ["xe-0/0/1"]
    assert values("nocsoc-backbone-links", "link", {}) == ["dx-bd", "dx-dp"]
    assert values("nocsoc-flows", "exporter", {}) == [bb.EXPORTER]
    assert values("nocsoc-soc-alerts", "level", {}) == ["critical", "high", "low", "medium"]


def test_flows_top_n_leaves_out_other_and_sums_over_the_range(loaded: Loaded) -> None:
    fl = "nocsoc-flows"
    top_src = sorted((v["key"], v["bytes"]) for v in rows(loaded.result(fl, "Top sources")))
    assert top_src == [(k, b * bb.STEPS) for k, b in sorted(bb.TOP_SRC.items()) if k != "other"]
    top_svc = {v["key"]: v["bytes"] for v in rows(loaded.result(fl, "Top services"))}
    assert top_svc == {"tcp/443": 10000 * bb.STEPS, "udp/53": 3000 * bb.STEPS}
    ipv = by_tag(loaded.result(fl, "IPv4 / IPv6"), "ip_version", "bytes")
    assert ipv == {"4": 10800 * bb.STEPS, "6": 2700 * bb.STEPS}


def test_soc_alerts_values(loaded: Loaded) -> None:
    soc = "nocsoc-soc-alerts"
    top_rules = {v["rule_title"]: v["alerts"] for v in rows(loaded.result(soc, "Top rules"))}
    assert top_rules == {a[0]: a[5] * bb.ALERT_WRITES for a in bb.ALERTS}
    queue = rows(loaded.result(soc, "Open triage queue"))
    # each open alert once, with its latest state and its events so far
    assert sorted((q["rule_title"], q["state"], q["events"]) for q in queue) == sorted(
        (a[0], a[4], a[5] * bb.ALERT_WRITES) for a in bb.ALERTS if a[4] != "closed"
    )
    assert [q["time"] for q in queue] == sorted((q["time"] for q in queue), reverse=True)
    crit_only = loaded.result(soc, "Open triage queue", variables={"level": Variable("level", ["critical"])})
    assert {q["rule_title"] for q in rows(crit_only)} == {"SSH brute force"}
    assert by_tag(loaded.result(soc, "Open alerts by level"), "level", "alerts") == {
        "critical": 1,
        "high": 1,
        "medium": 1,
        "low": 0,  # its one alert is closed: counted as no open alert, not as its events
    }
    tactics = by_tag(loaded.result(soc, "ATT&CK tactics"), "tactic", "alerts")
    assert tactics == {"credential-access": 15, "persistence": 6, "discovery": 24}


def test_collector_health_counter_increments_add_up(loaded: Loaded) -> None:
    ch = "nocsoc-collector-health"
    rec = rows(loaded.result(ch, "Datagrams and records received", "B"))
    assert sum(v["records"] or 0 for v in rec) == 300 * (bb.STEPS - 1)
    errs = rows(loaded.result(ch, "Decode errors and drops"))
    assert sum(v["decode_errors"] or 0 for v in errs) == (bb.STEPS - 1) // 10
    status = {
        v["device"]: (v["reachable"], v["timeouts"])
        for v in rows(loaded.result(ch, "Poll status per device"))
    }
    assert status[bb.DOWN_DEVICE] == (0, 3 * bb.DOWN_STEPS) and status["core-dx-01"] == (1, 0)
    timeouts = rows(loaded.result(ch, "Poll timeouts and errors"))
    per_dev: dict[str, int] = {}
    for v in timeouts:
        per_dev[v["device"]] = per_dev.get(v["device"], 0) + (v["timeouts"] or 0)
    assert per_dev[bb.DOWN_DEVICE] == 3 * bb.DOWN_STEPS and per_dev["core-dx-01"] == 0
    spool = rows(loaded.result(ch, "Spool size"))
    assert max(v["spool_bytes"] or 0 for v in spool) == 4096


def test_alert_queries_find_exactly_the_faults(loaded: Loaded) -> None:
    cfg = DashboardsConfig()
    res = {
        (r.ref.owner, r.ref.ref_id): r
        for r in prove(loaded.client, list(alert_queries(cfg, "en")), loaded.tr, {}, MAX_POINTS)
    }
    down = {(v["link"], v["device"]): v["status"] for v in rows(res[("alert:nocsoc-link-down", "A")])}
    assert [k for k, s in down.items() if s > 1] == [("dx-dp", "dist-dp-01")]
    util = {v["device"]: v["util"] for v in rows(res[("alert:nocsoc-link-utilization", "A")])}
    assert [d for d, u in util.items() if u > cfg.link_utilization_pct] == ["core-dx-02"]
    optics = {v["device"]: v["rx_dbm"] for v in rows(res[("alert:nocsoc-optics-low", "A")])}
    assert [d for d, x in optics.items() if x < cfg.optics_rx_min_dbm] == [bb.WEAK_OPTIC[0]]
    reach = {v["device"]: v["reachable"] for v in rows(res[("alert:nocsoc-device-unreachable", "A")])}
    assert [d for d, x in reach.items() if x < 1] == [bb.DOWN_DEVICE]
    crit = rows(res[("alert:nocsoc-soc-critical", "A")])
    assert [(v["rule_title"], v["host"], v["alerts"]) for v in crit] == [("SSH brute force", "web-01", 15)]
    # the rules' own thresholds agree with what the test just checked
    rules = {r["uid"]: r for r in alerting.rules(cfg, "en")}
    assert rules["nocsoc-optics-low"]["data"][2]["model"]["conditions"][0]["evaluator"]["params"] == [-20.0]


def test_every_panel_target_is_among_the_proven_queries(loaded: Loaded) -> None:
    refs: list[QueryRef] = loaded.queries
    expected = {
        (d["uid"], p["title"], t["refId"])
        for d in loaded.dashboards
        for p in panels_of(d)
        for t in p.get("targets", [])
    }
    assert {(q.owner, q.panel, q.ref_id) for q in refs if not q.owner.startswith("alert:")} == expected
    assert len(expected) == 81
    assert sum(1 for q in refs if q.owner.startswith("alert:")) == 6


def test_weathermap_marks_the_weak_optic_and_colours_by_direction(loaded: Loaded) -> None:
    wm, title = "nocsoc-weathermap", "Backbone links by utilization"
    optics = {v["device"]: v["optics_ok"] for v in rows(loaded.result(wm, title, "C"))}
    assert optics[bb.WEAK_OPTIC[0]] == 0  # -27.5 dBm is below the -20 dBm alarm
    assert set(optics.values()) == {0, 1} and list(optics.values()).count(0) == 1
    up = {v["device"]: v["up"] for v in rows(loaded.result(wm, title, "B"))}
    assert up[bb.DOWN_DEVICE] == 0 and all(v == 1 for d, v in up.items() if d != bb.DOWN_DEVICE)
    traffic = loaded.result(wm, title, "A")
    assert {(s["tags"]["link"], s["tags"]["device"]) for s in traffic.series} == {
        ("dx-bd", "core-dx-01"),
        ("dx-bd", "dist-bd-01"),
        ("dx-dp", "core-dx-02"),
        ("dx-dp", "dist-dp-01"),
    }
