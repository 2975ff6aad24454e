"""SOC alerts: alerts over time by level, top rules and hosts, ATT&CK tactics, the triage queue."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash_b

from nocsoc import schema
from nocsoc.dashboards.base import BuildContext, DashboardSpec
from nocsoc.dashboards.influxql import Select, q, select, subquery, tag_values
from nocsoc.dashboards.ioc_overview import level_names
from nocsoc.dashboards.panels import Col

A, LE = schema.ALERT, schema.LOG_EVENT
LEVEL_COLOURS = {
    "critical": "dark-red",
    "high": "red",
    "medium": "orange",
    "low": "yellow",
    "informational": "blue",
}
STATE_COLOURS = {"new": "red", "acknowledged": "orange", "closed": "green", "false_positive": "blue"}


def alerts() -> Select:
    return select(A).agg("sum", A.f("count"), "alerts").match_var(A.t("level"), "level")


def top_by(tag: str, n: int = 10) -> Select:
    return subquery(alerts().by(A.t(tag))).expr(f"top({q('alerts')}, {q(A.t(tag))}, {n})", "alerts")


def latest() -> Select:
    """Each alert once, as its last write left it (triage changes are writes too: the alert
    tag makes one series per alert, so last() is its latest state)."""
    return (
        select(A)
        .agg("last", A.f("open"), "open")
        .agg("last", A.f("status"), "state")
        .agg("last", A.f("events"), "events")
        .agg("last", A.f("alert_id"), "alert_id")
        .agg("last", A.f("src_ip"), "src_ip")
        .agg("last", A.f("user"), "user")
        .match_var(A.t("level"), "level")
        .by(A.t("alert"), A.t("level"), A.t("rule_title"), A.t("host"))
    )


def make(ctx: BuildContext) -> dash_b.Dashboard:
    p = ctx.panels()
    d = ctx.dashboard(
        "nocsoc-soc-alerts", "soc_alerts", ["soc", "alerts"], refresh="30s", time_from="now-24h"
    )
    d.with_variable(ctx.variable("level", tag_values(A, A.t("level"))))

    d.with_row(p.row("soc_alerts.row.overview"))
    count = A.field("count").unit
    over_time = p.timeseries(
        "soc_alerts.over_time",
        [alerts().by_time(fill="0").by(A.t("level"))],
        unit=count,
        aliases=["$tag_level"],
        bars=True,
        stacked=True,
        w=16,
    )
    p.rename(over_time, level_names(ctx))
    d.with_panel(over_time)
    d.with_panel(
        p.piechart(
            "soc_alerts.tactics",
            [alerts().has(A.t("tactic")).by(A.t("tactic"))],
            unit=count,
            aliases=["$tag_tactic"],
            w=8,
        )
    )
    alerts_col = Col("alerts", "col.alerts", count)
    d.with_panel(
        p.table(
            "soc_alerts.top_rules",
            [top_by(A.t("rule_title"))],
            [Col("rule_title", "col.rule"), alerts_col],
            w=12,
        )
    )
    d.with_panel(
        p.table("soc_alerts.top_hosts", [top_by(A.t("host"))], [Col("host", "col.host"), alerts_col], w=12)
    )

    d.with_row(p.row("soc_alerts.row.triage"))
    open_by_level = p.bargauge(
        "soc_alerts.open_by_level",
        [subquery(latest()).agg("sum", "open", "alerts").by(A.t("level"))],
        unit=count,
        aliases=["$tag_level"],
        w=24,
        h=5,
    )
    p.rename(open_by_level, level_names(ctx))
    d.with_panel(open_by_level)
    queue = (
        subquery(latest())
        .raw("alert_id", A.t("level"), A.t("rule_title"), A.t("host"), "src_ip", "user", "state", "events")
        .field_cmp("open", "=", 1)
        .newest_first(200)
    )
    level_map = {lv: (f"level.{lv}", colour) for lv, colour in LEVEL_COLOURS.items()}
    state_map = {st: (f"state.{st}", colour) for st, colour in STATE_COLOURS.items()}
    queue_cols = [
        Col("alert_id", "col.alert_id"),
        Col("level", "col.level", mappings=level_map),
        Col("rule_title", "col.rule"),
        Col("host", "col.host"),
        Col("src_ip", "col.src_ip"),
        Col("user", "col.user"),
        Col("state", "col.state", mappings=state_map),
        Col("events", "col.events", count),
    ]
    d.with_panel(p.table("soc_alerts.queue", [queue], queue_cols, w=24, h=12, show_time=True))
    d.with_panel(
        p.timeseries(
            "soc_alerts.log_events",
            [
                select(LE).agg("sum", LE.f(fld), fld).by_time(fill="0").by(LE.t("source"))
                for fld in ("events", "unparsed")
            ],
            unit=LE.field("events").unit,
            aliases=[f"$tag_source {p.legend('events')}", f"$tag_source {p.legend('unparsed')}"],
            w=24,
        )
    )
    return d


SPEC = DashboardSpec(uid="nocsoc-soc-alerts", folder="SOC", slug="soc-alerts", make=make)
