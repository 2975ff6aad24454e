"""Dashboards on data the collectors themselves wrote: the SNMP poller polling snmpsim devices
(and a dead one), the flow pipeline rolling up crafted NetFlow v5 datagrams, and the log
pipeline running the built-in Sigma rules over their own sample logs, all through the influxdb1
sink into a real influxd. The panels must show what the agents, packets and logs hold."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from nocsoc.collectors.flows.collector import FlowCollector
from nocsoc.collectors.flows.config import FlowsConfig
from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.logs.pipeline import LogPipeline
from nocsoc.collectors.snmp.config import SnmpConfig
from nocsoc.collectors.snmp.poller import SnmpPoller
from nocsoc.component import component_points
from nocsoc.dashboards import alerting
from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.dashboards.macros import TimeRange, Variable, render_query
from nocsoc.dashboards.proof import (
    InfluxQuery,
    QueryResult,
    alert_queries,
    all_selected,
    dashboard_queries,
    prove,
)
from nocsoc.dashboards.proof import variable_queries as var_queries
from nocsoc.dashboards.registry import build_all
from nocsoc.detections.config import DetectionsConfig
from nocsoc.schema import Point
from nocsoc.sinks.factory import build_sink
from nocsoc.sinks.fanout import FanoutSink
from nocsoc.sinks.memory import MemorySink
from nocsoc.sinks.plugins.influxdb1 import InfluxDB1SinkConfig
from tests.collectors.flows import craft
from tests.collectors.snmp.conftest import SECRET_ENV, inventory
from tests.collectors.snmp.snmprec import in_rate
from tests.servers.base import wait_until

pytestmark = pytest.mark.servers
DB = "dashboards_collectors"
EXPORTER = "127.0.0.31"
# one NetFlow v5 datagram per minute, three minutes: (src, dst, proto, dport, bytes)
FLOWS = [
    ("10.1.0.5", "10.2.0.1", 6, 443, 9000),
    ("10.1.0.9", "10.2.0.1", 17, 53, 4000),
    ("10.1.0.7", "10.2.0.3", 6, 22, 2000),
    ("10.1.0.8", "10.2.0.3", 6, 80, 1000),
    ("10.1.0.6", "10.2.0.4", 6, 443, 500),
]
MINUTES = 3
TOP_N = 3
RULE_SAMPLES = Path(__file__).resolve().parents[2] / "nocsoc" / "detections" / "rules" / "tests"


class Collected:
    def __init__(self, client: InfluxQuery, now_ms: int, alerts: list[Point], log_lines: int) -> None:
        self.client = client
        self.alerts = alerts  # the `alert` points the log pipeline wrote
        self.log_lines = log_lines
        self.tr = TimeRange(now_ms - 3_600_000, now_ms, "now-1h", "now")
        self.dashboards = [d for _, d in build_all("en", DashboardsConfig().datasource_uid)]
        self.queries = list(dashboard_queries(self.dashboards))

    def result(
        self, owner: str, title: str, variables: dict[str, Variable] | None = None, ref: str = "A"
    ) -> QueryResult:
        (q,) = [q for q in self.queries if (q.owner, q.panel, q.ref_id) == (owner, title, ref)]
        (r,) = prove(self.client, [q], self.tr, {**all_selected(self.dashboards), **(variables or {})}, 200)
        assert not r.error, r.error
        return r

    def values(self, owner: str, name: str, variables: dict[str, Variable] | None = None) -> list[str]:
        (q,) = [v["query"] for uid, v in var_queries(self.dashboards) if uid == owner and v["name"] == name]
        series, error = self.client.run(render_query(q, self.tr, variables or {}))
        assert not error
        return sorted(v[1] for s in series for v in s["values"])


class Shifted:
    """A sink that forwards to another, moving every point by `offset_ns` in time."""

    def __init__(self, sink: Any, offset_ns: int) -> None:
        self.sink, self.offset_ns, self.name = sink, offset_ns, "shifted"

    def write(self, points: Sequence[Point]) -> None:
        for p in points:
            p.time_ns += self.offset_ns
        self.sink.write(points)

    def flush(self, timeout: float | None = None) -> bool:
        return bool(self.sink.flush(timeout))

    def close(self) -> None:
        pass

    def counters(self) -> dict[str, int]:
        return dict(self.sink.counters())


def restamp(points: list[Point], time_ns: int) -> list[Point]:
    """Self-metrics as a tick earlier would have written them (counters are cumulative)."""
    for p in points:
        p.time_ns = time_ns
    return points


def rows(r: QueryResult) -> list[dict[str, Any]]:
    return [
        {**s.get("tags", {}), **dict(zip(s["columns"], v, strict=True))}
        for s in r.series
        for v in s["values"]
    ]


@pytest.fixture(scope="module")
def collected(influxd: Any, snmpsim: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collected]:
    if not influxd.running:
        influxd.start()
    influxd.drop_database(DB)
    influxd.create_database(DB)
    tmp: Path = tmp_path_factory.mktemp("collectors")
    sink = build_sink(InfluxDB1SinkConfig(url=influxd.url, database=DB, spool_dir=str(tmp / "spool")), tmp)
    old_env = {k: os.environ.get(k) for k in SECRET_ENV}
    os.environ.update(SECRET_ENV)  # the test agents' secrets, as env: references
    earlier = time.time_ns() - 120 * 1_000_000_000  # "the previous self-metrics tick"
    try:
        # two poll cycles; the first written as if two minutes earlier, so the cumulative poll
        # counters have an increment to show
        shifted = Shifted(sink, earlier - time.time_ns())
        poller = SnmpPoller(SnmpConfig(), inventory(snmpsim, dead=True), shifted)
        poller.run_once(samples=2, gap_s=2.0)  # as the SNMP tests: rates within 1%
        shifted.offset_ns = 0
        poller.run_once(samples=2, gap_s=2.0)
        sink.write(component_points(poller))
    finally:
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert sink.flush(30)
    sink.write(restamp(sink.self_points(), earlier))
    # flows: the collector's own pipeline and counters; its sockets are not started, the crafted
    # datagrams are handed over as its receiver would; self-metrics before the last minute and after
    flows = FlowCollector(
        FlowsConfig(interval_s=60, top_n=TOP_N, sflow_bind=None), None, sink, state_dir=tmp / "flows"
    )
    start = time.time() - 600
    datagrams = []
    for m in range(MINUTES):
        recs = [
            {
                "src": s,
                "dst": d,
                "proto": p,
                "dport": port,
                "sport": 40000,
                "bytes": b,
                "packets": b // 100,
                "in_if": 3,
                "out_if": 4,
            }
            for s, d, p, port, b in FLOWS
        ]
        datagrams.append((craft.v5(recs, seq=m * len(FLOWS)), EXPORTER, start + 60 * m))
    assert flows.pipeline.process(datagrams[:-1]) == len(FLOWS) * (MINUTES - 1)
    sink.write(restamp(component_points(flows), earlier))
    assert flows.pipeline.process(datagrams[-1:]) == len(FLOWS)
    sink.write(component_points(flows) + flows.pipeline.rollups.flush_all())
    # the log pipeline: every built-in rule's sample log through parsers, engine and alert store
    seen = MemorySink()
    logs = LogPipeline(
        LogsConfig(syslog_udp=None, syslog_tcp=None),
        DetectionsConfig(alerts_db=str(tmp / "alerts.db")),
        FanoutSink([sink, seen]),
        base_dir=tmp,
    )
    logs.start()
    lines = [
        line for f in sorted(RULE_SAMPLES.glob("*.match.log")) for line in f.read_text().splitlines() if line
    ]
    half = len(lines) // 2
    for n, line in enumerate(lines):
        if (
            n == half
        ):  # a self-metrics tick half way (log_event counts are per tick, engine totals cumulative)
            wait_until(logs.idle, timeout=20, what="the log pipeline to commit the first half")
            sink.write(restamp(component_points(logs), earlier))
        assert logs.submit(line, "127.0.0.5", "syslog_udp")
    wait_until(logs.idle, timeout=20, what="the log pipeline to commit every line")
    logs.stop()
    sink.write(component_points(logs))
    assert sink.flush(30)
    sink.write(sink.self_points())
    assert sink.flush(30)
    sink.close()
    assert sink.counters()["rejected"] == 0
    yield Collected(
        InfluxQuery(influxd.url, DB), int(time.time() * 1000) + 1000, seen.of("alert"), len(lines)
    )
    influxd.drop_database(DB)


def test_flows_dashboard_shows_the_crafted_traffic(collected: Collected) -> None:
    fl = "nocsoc-flows"
    assert collected.values(fl, "exporter") == [EXPORTER]
    by_src: dict[str, int] = {}
    for s, _, _, _, b in FLOWS:
        by_src[s] = by_src.get(s, 0) + b * MINUTES
    want = sorted(by_src.items(), key=lambda kv: -kv[1])[:TOP_N]  # the collector's top-N, `other` left out
    got = sorted(
        ((v["key"], v["bytes"]) for v in rows(collected.result(fl, "Top sources"))), key=lambda kv: -kv[1]
    )
    assert got == want
    services = sorted((v["bytes"] for v in rows(collected.result(fl, "Top services"))), reverse=True)
    assert services == [9500 * MINUTES, 4000 * MINUTES, 2000 * MINUTES]  # tcp/443 = 9000 + 500
    total = sum(b for *_, b in FLOWS) * MINUTES
    assert rows(collected.result("nocsoc-ioc-overview", "Traffic volume"))[0]["bytes"] == total
    ipv = {v["ip_version"]: v["bytes"] for v in rows(collected.result(fl, "IPv4 / IPv6"))}
    assert ipv == {"4": total}
    rate = collected.result(fl, "Traffic per exporter")
    interval_ms = collected.tr.interval_ms(200)
    assert sum(v["bps"] for v in rows(rate)) * interval_ms / 8000 == pytest.approx(total)
    directions = {v["direction"] for v in rows(collected.result(fl, "Traffic per interface"))}
    assert directions == {"in", "out"}  # v5 input/output ifIndex 3 and 4


def test_backbone_and_device_dashboards_show_the_polled_agents(collected: Collected) -> None:
    assert "core-ring-1" in collected.values("nocsoc-backbone-links", "link")
    link = {"link": Variable("link", ["core-ring-1"])}
    bps = collected.result("nocsoc-backbone-links", "Throughput (in/out)", link)
    ends = {(s["tags"]["device"]) for s in bps.series}
    assert ends == {"core1", "core2"}
    core1_in = [v["in"] for v in rows(bps) if v["device"] == "core1" and v["in"] is not None]
    assert core1_in and core1_in[-1] == pytest.approx(in_rate(1) * 8, rel=0.02)
    optics = rows(collected.result("nocsoc-backbone-links", "Optical power (rx/tx)"))
    assert -5.33 in {v["rx"] for v in optics if v["device"] == "core1" and v["ifname"] == "Te0/0/1"}

    dd = "nocsoc-device-detail"
    sites = collected.values(dd, "site")
    assert sites == ["binhlong", "dongxoai"]
    devices = collected.values(dd, "device", {"site": Variable("site", ["dongxoai"])})
    assert {"core1", "core2", "dist1"} <= set(devices) and "dead" not in devices
    ifnames = collected.values(dd, "interface", {"device": Variable("device", ["core1"])})
    assert len(ifnames) == 48 and "Te0/0/48" in ifnames
    one = {
        "device": Variable("device", ["core1"]),
        "interface": Variable("interface", ["Te0/0/48", "Te0/0/1"]),
    }
    table = {v["ifname"]: v for v in rows(collected.result(dd, "Interfaces", one))}
    assert table.keys() == {"Te0/0/1", "Te0/0/48"}
    assert table["Te0/0/48"]["oper"] == 2 and table["Te0/0/1"]["oper"] == 1
    assert table["Te0/0/1"]["speed_mbps"] == 10000
    reach = {v["device"]: v["up"] for v in rows(collected.result(dd, "Reachable"))}
    assert reach["dead"] == 0 and reach["core1"] == 1


def test_ioc_and_collector_health_see_the_dead_device(collected: Collected) -> None:
    ioc = "nocsoc-ioc-overview"
    assert rows(collected.result(ioc, "Devices down"))[0]["down"] == 1
    down = {v["site"]: v["down"] for v in rows(collected.result(ioc, "Devices down by site"))}
    assert down == {"binhlong": 1}
    status = {
        v["device"]: v for v in rows(collected.result("nocsoc-collector-health", "Poll status per device"))
    }
    assert status["dead"]["reachable"] == 0 and status["dead"]["timeouts"] > 0
    assert status["core1"]["reachable"] == 1 and status["core1"]["timeouts"] == 0
    increments: dict[str, int] = {}
    for v in rows(collected.result("nocsoc-collector-health", "Poll timeouts and errors")):
        increments[v["device"]] = increments.get(v["device"], 0) + (v["timeouts"] or 0)
    assert increments["dead"] == status["dead"]["timeouts"] > 0 and increments["core1"] == 0
    durations = rows(collected.result("nocsoc-collector-health", "Poll duration per device"))
    assert {v["device"] for v in durations if v["duration"] is not None} >= {"core1", "core2", "dead"}


def _sums(alerts: list[Point], tag: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for a in alerts:
        out[a.tags[tag]] = out.get(a.tags[tag], 0) + int(a.fields["count"])
    return out


def test_soc_dashboard_and_critical_rule_show_the_engine_alerts(collected: Collected) -> None:
    assert len(collected.alerts) >= 10
    soc = "nocsoc-soc-alerts"
    queue = rows(collected.result(soc, "Open triage queue"))
    assert {(q["rule_title"], q["host"]) for q in queue} == {
        (a.tags["rule_title"], a.tags["host"]) for a in collected.alerts
    }
    assert {v["rule_title"] for v in rows(collected.result(soc, "Top rules"))} <= set(
        _sums(collected.alerts, "rule_title")
    )
    critical = [a for a in collected.alerts if a.tags["level"] == "critical"]
    assert critical, "the sample logs include a critical detection"
    # each open critical alert once (nothing is triaged here), not its events
    want = len({a.tags["alert"] for a in critical if a.fields.get("open", 1)})
    assert rows(collected.result("nocsoc-ioc-overview", "Critical alerts"))[0]["alerts"] == want
    events = rows(collected.result(soc, "Log events ingested"))
    assert sum(v["events"] for v in events) == collected.log_lines
    cfg = DashboardsConfig()
    (crit_q,) = [q for q in alert_queries(cfg, "en") if q.owner == "alert:nocsoc-soc-critical"]
    (res,) = prove(collected.client, [crit_q], collected.tr, {}, 200)
    got = {(v["rule_title"], v["host"]): v["alerts"] for v in rows(res)}
    assert got == {(a.tags["rule_title"], a.tags["host"]): int(a.fields["count"]) for a in critical}
    rule = {r["uid"]: r for r in alerting.rules(cfg, "en")}["nocsoc-soc-critical"]
    assert rule["data"][2]["model"]["conditions"][0]["evaluator"] == {"type": "gt", "params": [0]}


def test_soc_dashboard_counts_every_engine_alert(collected: Collected) -> None:
    soc = "nocsoc-soc-alerts"
    per_rule = _sums(collected.alerts, "rule_title")
    top = {v["rule_title"]: v["alerts"] for v in rows(collected.result(soc, "Top rules"))}
    assert top == dict(sorted(per_rule.items(), key=lambda kv: -kv[1])[:10])
    tactics = {s["tags"]["tactic"]: s["values"][0][1] for s in collected.result(soc, "ATT&CK tactics").series}
    assert tactics == _sums(collected.alerts, "tactic")
    queue = rows(collected.result(soc, "Open triage queue"))
    # each alert once, however many points it was written in (a correlation event held for
    # reordering may extend its alert in a later commit)
    assert sorted(q["alert_id"] for q in queue) == sorted({str(a.fields["alert_id"])
                                                           for a in collected.alerts})


def test_collector_health_shows_the_collectors_own_counters(collected: Collected) -> None:
    ch = "nocsoc-collector-health"
    received = "Datagrams and records received"
    datagrams = [v for v in rows(collected.result(ch, received)) if v["exporter"] == EXPORTER]
    records = [v for v in rows(collected.result(ch, received, ref="B")) if v["exporter"] == EXPORTER]
    assert sum(v["records"] or 0 for v in records) == len(FLOWS)  # the last minute's datagram
    assert sum(v["datagrams"] or 0 for v in datagrams) == 1
    errors = rows(collected.result(ch, "Decode errors and drops"))
    assert errors and all((v["decode_errors"] or 0) == 0 for v in errors)
    logs = {
        v["component"]: v
        for v in rows(collected.result(ch, "Unparsed, dropped and alerts", ref="C"))
        if v["alerts"]
    }
    assert logs["engine"]["alerts"] > 0  # alerts the second half of the sample logs raised
    written = [
        v["written"] for v in rows(collected.result(ch, "Points written, retried, rejected")) if v["written"]
    ]
    assert written and written[0] > 0
    assert {v["spool_bytes"] for v in rows(collected.result(ch, "Spool size"))} - {None} == {
        0
    }  # nothing spooled


def test_only_the_reboot_panel_lacks_collector_data(collected: Collected) -> None:
    """With nothing but the collectors' output every query has data, except reboots (none happened)."""
    res = prove(
        collected.client,
        [*collected.queries, *alert_queries(DashboardsConfig(), "en")],
        collected.tr,
        all_selected(collected.dashboards),
        200,
    )
    assert [str(r.ref) for r in res if not r.ok] == ["nocsoc-device-detail / Reboots / A"]
    assert all(not r.error for r in res)
