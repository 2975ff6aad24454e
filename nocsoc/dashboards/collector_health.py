"""Collector health: poll durations and timeouts, flow decode errors and drops, syslog rates, spool.

Component counters (snmp_poll, flow_collector, log_collector, sink) are cumulative since start,
so panels show `non_negative_difference` per interval (a restart resets to 0 and is not a
negative spike) and tables `spread` over the range; snmp_poll's duration and reachability
describe one poll cycle.
"""

from __future__ import annotations

from collections.abc import Sequence

from grafana_foundation_sdk.builders import dashboard as dash_b
from grafana_foundation_sdk.builders import timeseries

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


def counters(p: Panels, key: str, m: schema.Measurement, fields: Sequence[str], by: Sequence[str],
             unit_field: str, bars: bool = False) -> timeseries.Panel:
    """A panel of counters' increase per interval: one series per value of the `by` tags and
    counter, the legend naming both."""
    tags = [m.t(t) for t in by]
    return p.timeseries(
        key,
        [increments(m, m.f(f)).by_time().by(*tags) for f in fields],
        unit=m.field(unit_field).unit,
        aliases=legends(p, " ".join(f"$tag_{t}" for t in by), *fields),
        bars=bars,
    )


def per_tag(p: Panels, key: str, m: schema.Measurement, agg: str, field: str, alias: str,
            by: str) -> timeseries.Panel:
    """One aggregated field over time, a series per value of the tag `by`."""
    query = select(m).agg(agg, m.f(field), alias).by_time().by(m.t(by))
    return p.timeseries(key, [query], unit=m.field(field).unit, aliases=[f"$tag_{by}"])


def make(ctx: BuildContext) -> dash_b.Dashboard:
    p = ctx.panels()
    d = ctx.dashboard("nocsoc-collector-health", "collector_health", ["ioc", "self"], time_from="now-3h")

    d.with_row(p.row("collector_health.row.snmp"))
    d.with_panel(per_tag(p, "collector_health.poll_duration", P, "max", "duration_s", "duration", "device"))
    d.with_panel(counters(p, "collector_health.poll_timeouts", P, ("timeouts", "errors"), ("device",),
                          "timeouts", bars=True))
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
    d.with_panel(counters(p, "collector_health.flow_records", FC, ("datagrams", "records"), ("exporter",),
                          "records"))
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
    d.with_panel(per_tag(p, "collector_health.syslog_rate", LC, "mean", "events_per_s", "events_per_s",
                         "component"))
    d.with_panel(counters(p, "collector_health.syslog_drops", LC, LOG_DROPS, ("component",), "unparsed",
                          bars=True))

    d.with_row(p.row("collector_health.row.sinks"))
    d.with_panel(counters(p, "collector_health.sink_written", SK, SINK_COUNTS, ("worker", "sink"), "written"))
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
