"""Collector health: poll durations and timeouts, flow decode errors and drops, syslog rates, spool.

Component counters (snmp_poll, flow_collector, log_collector, sink) are cumulative since start,
so panels show `non_negative_difference` per interval (a restart resets to 0 and is not a
negative spike) and tables `spread` over the range; snmp_poll's duration and reachability
describe one poll cycle.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash_b

from nocsoc import schema
from nocsoc.dashboards.base import BuildContext, DashboardSpec
from nocsoc.dashboards.influxql import Select, q, select

P, FC, LC, SK = schema.SNMP_POLL, schema.FLOW_COLLECTOR, schema.LOG_COLLECTOR, schema.SINK
FP = schema.FLOW_PIPELINE


def increments(m: schema.Measurement, *fields: str) -> Select:
    s = select(m)
    for f in fields:
        s.expr(f"non_negative_difference(max({q(m.f(f))}))", f)
    return s


def make(ctx: BuildContext) -> dash_b.Dashboard:
    p = ctx.panels()
    d = ctx.dashboard("nocsoc-collector-health", "collector_health", ["ioc", "self"], time_from="now-3h")

    d.with_row(p.row("collector_health.row.snmp"))
    d.with_panel(
        p.timeseries(
            "collector_health.poll_duration",
            [select(P).agg("max", P.f("duration_s"), "duration").by_time().by(P.t("device"))],
            unit="s",
            aliases=["$tag_device"],
        )
    )
    d.with_panel(
        p.timeseries(
            "collector_health.poll_timeouts",
            [increments(P, P.f("timeouts"), P.f("errors")).by_time().by(P.t("device"))],
            aliases=["$tag_device $col"],
            bars=True,
        )
    )
    d.with_panel(
        p.table(
            "collector_health.unreachable",
            [
                select(P)
                .agg("last", P.f("reachable"), "reachable")
                .agg("spread", P.f("timeouts"), "timeouts")
                .by(P.t("device"), P.t("site"))
            ],
            w=24,
        )
    )

    d.with_row(p.row("collector_health.row.flows"))
    d.with_panel(
        p.timeseries(
            "collector_health.flow_records",
            [increments(FC, FC.f("datagrams"), FC.f("records")).by_time().by(FC.t("exporter"))],
            aliases=["$tag_exporter $col"],
        )
    )
    d.with_panel(
        p.timeseries(
            "collector_health.flow_errors",
            [
                increments(
                    FC,
                    FC.f("decode_errors"),
                    FC.f("sequence_lost"),
                    FC.f("template_missing"),
                )
                .by_time()
                .by(FC.t("exporter")),
                increments(FP, FP.f("kernel_drops"), FP.f("app_drops")).by_time(),
            ],
            aliases=["$tag_exporter $col", "$col"],
            bars=True,
        )
    )

    d.with_row(p.row("collector_health.row.logs"))
    d.with_panel(
        p.timeseries(
            "collector_health.syslog_rate",
            [select(LC).agg("mean", LC.f("events_per_s"), "events_per_s").by_time().by(LC.t("component"))],
            aliases=["$tag_component"],
        )
    )
    d.with_panel(
        p.timeseries(
            "collector_health.syslog_drops",
            [
                increments(LC, LC.f("unparsed"), LC.f("dropped"), LC.f("alerts"))
                .by_time()
                .by(LC.t("component"))
            ],
            aliases=["$tag_component $col"],
            bars=True,
        )
    )

    d.with_row(p.row("collector_health.row.sinks"))
    d.with_panel(
        p.timeseries(
            "collector_health.sink_written",
            [
                increments(SK, SK.f("written"), SK.f("retries"), SK.f("rejected"), SK.f("spool_dropped"))
                .by_time()
                .by(SK.t("worker"), SK.t("sink"))
            ],
            aliases=["$tag_worker $tag_sink $col"],
        )
    )
    d.with_panel(
        p.timeseries(
            "collector_health.spool",
            [
                select(SK)
                .agg("last", SK.f("spool_bytes"), "spool_bytes")
                .by_time(fill="previous")
                .by(SK.t("worker"), SK.t("sink"))
            ],
            unit=SK.field("spool_bytes").unit,
            aliases=["$tag_worker $tag_sink"],
        )
    )
    return d


SPEC = DashboardSpec(uid="nocsoc-collector-health", folder="IOC", slug="collector-health", make=make)
