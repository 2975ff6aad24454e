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
from nocsoc.dashboards.panels import REACHABLE, Col, Panels

P, FC, LC, SK = schema.SNMP_POLL, schema.FLOW_COLLECTOR, schema.LOG_COLLECTOR, schema.SINK
FLOW_ERRORS = ("decode_errors", "sequence_lost", "template_missing", "kernel_drops", "app_drops")
# Socket drops are the flow pipeline's (one per process, no exporter) where the schema has that
# measurement, else the flow collector's: the panel follows whichever the schema declares.
FP = getattr(schema, "FLOW_PIPELINE", None)


def flow_error_queries(p: Panels) -> tuple[list[Select], list[str]]:
    """One query per flow error counter, per exporter where the counter has one."""
    queries, aliases = [], []
    for f in FLOW_ERRORS:
        if f in FC.field_names:
            queries.append(increments(FC, FC.f(f)).by_time().by(FC.t("exporter")))
            aliases.append(f"$tag_exporter {p.legend(f)}")
        elif FP is not None and f in FP.field_names:
            queries.append(increments(FP, FP.f(f)).by_time())
            aliases.append(p.legend(f))
    return queries, aliases
LOG_DROPS = ("unparsed", "dropped", "alerts")
SINK_COUNTS = ("written", "retries", "rejected", "spool_dropped")


def increments(m: schema.Measurement, *fields: str) -> Select:
    s = select(m)
    for f in fields:
        s.expr(f"non_negative_difference(max({q(m.f(f))}))", f)
    return s


def legends(p: Panels, prefix: str, *keys: str) -> list[str]:
    return [f"{prefix} {p.legend(k)}" for k in keys]


def make(ctx: BuildContext) -> dash_b.Dashboard:
    p = ctx.panels()
    d = ctx.dashboard("nocsoc-collector-health", "collector_health", ["ioc", "self"], time_from="now-3h")

    d.with_row(p.row("collector_health.row.snmp"))
    d.with_panel(
        p.timeseries(
            "collector_health.poll_duration",
            [select(P).agg("max", P.f("duration_s"), "duration").by_time().by(P.t("device"))],
            unit=P.field("duration_s").unit,
            aliases=["$tag_device"],
        )
    )
    d.with_panel(
        p.timeseries(
            "collector_health.poll_timeouts",
            [increments(P, P.f(f)).by_time().by(P.t("device")) for f in ("timeouts", "errors")],
            unit=P.field("timeouts").unit,
            aliases=legends(p, "$tag_device", "timeouts", "errors"),
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
            [
                Col("device", "col.device"),
                Col("site", "col.site"),
                Col("reachable", "col.reachable", P.field("reachable").unit, REACHABLE),
                Col("timeouts", "col.timeouts", P.field("timeouts").unit),
            ],
            w=24,
        )
    )

    d.with_row(p.row("collector_health.row.flows"))
    flow_errors, flow_error_aliases = flow_error_queries(p)
    d.with_panel(
        p.timeseries(
            "collector_health.flow_records",
            [increments(FC, FC.f(f)).by_time().by(FC.t("exporter")) for f in ("datagrams", "records")],
            unit=FC.field("records").unit,
            aliases=legends(p, "$tag_exporter", "datagrams", "records"),
        )
    )
    d.with_panel(
        p.timeseries(
            "collector_health.flow_errors",
            flow_errors,
            unit=FC.field("decode_errors").unit,
            aliases=flow_error_aliases,
            bars=True,
        )
    )

    d.with_row(p.row("collector_health.row.logs"))
    d.with_panel(
        p.timeseries(
            "collector_health.syslog_rate",
            [select(LC).agg("mean", LC.f("events_per_s"), "events_per_s").by_time().by(LC.t("component"))],
            unit=LC.field("events_per_s").unit,
            aliases=["$tag_component"],
        )
    )
    d.with_panel(
        p.timeseries(
            "collector_health.syslog_drops",
            [increments(LC, LC.f(f)).by_time().by(LC.t("component")) for f in LOG_DROPS],
            unit=LC.field("unparsed").unit,
            aliases=legends(p, "$tag_component", *LOG_DROPS),
            bars=True,
        )
    )

    d.with_row(p.row("collector_health.row.sinks"))
    d.with_panel(
        p.timeseries(
            "collector_health.sink_written",
            [increments(SK, SK.f(f)).by_time().by(SK.t("worker"), SK.t("sink")) for f in SINK_COUNTS],
            unit=SK.field("written").unit,
            aliases=legends(p, "$tag_worker $tag_sink", *SINK_COUNTS),
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
