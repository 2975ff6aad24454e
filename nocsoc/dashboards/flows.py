"""Flows: top talkers, services, conversations, per-interface and per-exporter volumes."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash_b

from nocsoc import schema
from nocsoc.dashboards.base import BuildContext, DashboardSpec
from nocsoc.dashboards.influxql import Select, q, select, subquery, tag_values
from nocsoc.dashboards.panels import Col

FT, FI, TOP = schema.FLOW_TOTAL, schema.FLOW_INTERFACE, schema.FLOW_TOP
OTHER = "other"  # the rollup's bucket beyond N (see schema.flows): not a talker, left out of top-N


def top(kind: str, n: int = 10) -> Select:
    """The `n` largest keys of one top-N kind over the range, summed across intervals and exporters."""
    inner = (
        select(TOP)
        .agg("sum", TOP.f("bytes"), "bytes")
        .agg("sum", TOP.f("packets"), "packets")
        .match_var(TOP.t("exporter"), "exporter")
        .eq(TOP.t("kind"), kind)
        .ne(TOP.t("key"), OTHER)
        .by(TOP.t("key"))
    )
    return subquery(inner).expr(f"top({q('bytes')}, {q(TOP.t('key'))}, {n})", "bytes")


def rate(m: schema.Measurement) -> str:
    """bits/s from the summed bytes of each $__interval (rollup intervals of any length add up)."""
    return f"sum({q(m.f('bytes'))}) * 8000 / $__interval_ms"


def make(ctx: BuildContext) -> dash_b.Dashboard:
    p = ctx.panels()
    d = ctx.dashboard("nocsoc-flows", "flows", ["network", "flows"])
    exporters = ctx.exporter_names()
    if exporters:  # picked by device name, matched by address
        d.with_variable(ctx.custom_variable("exporter", {n: a for a, n in sorted(exporters.items())}))
    else:
        d.with_variable(ctx.variable("exporter", tag_values(FT, FT.t("exporter"))))

    d.with_row(p.row("flows.row.top"))
    volume = TOP.field("bytes").unit
    for kind, w in (("src", 6), ("dst", 6), ("service", 6), ("conversation", 6)):
        columns = [Col(TOP.t("key"), f"col.key_{kind}"), Col("bytes", "col.bytes", volume)]
        d.with_panel(p.table(f"flows.top_{kind}", [top(kind)], columns, w=w, h=10))

    d.with_row(p.row("flows.row.volume"))
    by_exporter = p.timeseries(
        "flows.by_exporter",
        [
            select(FT)
            .expr(rate(FT), "bps")
            .match_var(FT.t("exporter"), "exporter")
            .by_time(fill="0")
            .by(FT.t("exporter"))
        ],
        unit="bps",
        aliases=["$tag_exporter"],
        stacked=True,
    )
    p.rename(by_exporter, exporters)
    d.with_panel(by_exporter)
    d.with_panel(
        p.timeseries(
            "flows.by_interface",
            [
                select(FI)
                .expr(rate(FI), "bps")
                .match_var(FI.t("exporter"), "exporter")
                .by_time(fill="0")
                .by(FI.t("exporter"), FI.t("ifname"), FI.t("direction"))
            ],
            unit="bps",
            aliases=["$tag_exporter $tag_ifname $tag_direction"],
        )
    )
    ip_version = p.piechart(
        "flows.ip_version",
        [
            select(FT)
            .agg("sum", FT.f("bytes"), "bytes")
            .match_var(FT.t("exporter"), "exporter")
            .by(FT.t("ip_version"))
        ],
        unit=FT.field("bytes").unit,
        aliases=["$tag_ip_version"],
    )
    p.rename(ip_version, {"4": p.legend("ipv4"), "6": p.legend("ipv6")})
    d.with_panel(ip_version)
    flow_rate = p.timeseries(
        "flows.flow_rate",
        [
            select(FT)
            .agg("sum", FT.f("flows"), "flows")
            .match_var(FT.t("exporter"), "exporter")
            .by_time(fill="0")
            .by(FT.t("exporter"))
        ],
        unit=FT.field("flows").unit,
        aliases=["$tag_exporter"],
        w=16,
        bars=True,
    )
    p.rename(flow_rate, exporters)
    d.with_panel(flow_rate)
    return d


SPEC = DashboardSpec(uid="nocsoc-flows", folder="Network", slug="flows", make=make)
