"""Backbone links: per-link traffic, utilization, 95th percentile, errors, optics and status.

`$link` offers only the backbone (links whose both ends are core or distribution routers): the
query keeps links seen on those routers, and with the inventory the variable's regex keeps just
the ring's link names. The optics panel follows `$link` through two hidden variables, the
devices and interfaces the selected links end on (the optics measurement has no link tag).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash_b

from nocsoc import schema
from nocsoc.dashboards.base import BuildContext, DashboardSpec, backbone_links
from nocsoc.dashboards.influxql import Select, q, select, var_regex
from nocsoc.dashboards.macros import regex_escape
from nocsoc.dashboards.panels import IF_STATUS, Col, value_map

IFACE, OPT = schema.INTERFACE, schema.OPTICS
BACKBONE_ROLES = "^(core|distribution)$"
PER_LINK = "$tag_link $tag_device"


def link_variable_query() -> str:
    return (
        f"SHOW TAG VALUES FROM {q(IFACE.name)} WITH KEY = {q(IFACE.t('link'))} "
        f"WHERE {q(IFACE.t('role'))} =~ /{BACKBONE_ROLES}/"
    )


def ends_query(tag: str) -> str:
    """The devices / interfaces the selected `$link`s end on."""
    return (
        f"SHOW TAG VALUES FROM {q(IFACE.name)} WITH KEY = {q(IFACE.t(tag))} "
        f"WHERE {q(IFACE.t('link'))} =~ {var_regex('link')}"
    )


def make(ctx: BuildContext) -> dash_b.Dashboard:
    p = ctx.panels()
    d = ctx.dashboard("nocsoc-backbone-links", "backbone_links", ["network", "backbone"])
    names = backbone_links(ctx.inventory)
    regex = "/^(" + "|".join(regex_escape(n) for n in names) + ")$/" if names else ""
    d.with_variable(ctx.variable("link", link_variable_query(), regex=regex))
    d.with_variable(ctx.variable("link_device", ends_query("device"), hidden=True))
    d.with_variable(ctx.variable("link_ifname", ends_query("ifname"), hidden=True))
    link, dev = IFACE.t("link"), IFACE.t("device")

    def per_link() -> Select:
        return select(IFACE).match_var(link, "link")

    def both(field: str) -> list[Select]:
        return [
            per_link().agg("mean", IFACE.f(f"{direction}_{field}"), direction).by_time().by(link, dev)
            for direction in ("in", "out")
        ]

    in_out = [f"{PER_LINK} {p.legend('in')}", f"{PER_LINK} {p.legend('out')}"]
    d.with_row(p.row("backbone_links.row.traffic"))
    d.with_panel(
        p.timeseries("backbone_links.bps", both("bps"), unit=IFACE.field("in_bps").unit, aliases=in_out)
    )
    d.with_panel(
        p.timeseries(
            "backbone_links.util",
            both("util_pct"),
            unit=IFACE.field("in_util_pct").unit,
            aliases=in_out,
            thresholds_cfg=ctx.util_thresholds(),
        )
    )
    bps, pct = IFACE.field("in_bps").unit, IFACE.field("in_util_pct").unit
    d.with_panel(
        p.table(
            "backbone_links.p95",
            [
                per_link()
                .agg("percentile", IFACE.f("in_bps"), "in_p95", 95)
                .agg("percentile", IFACE.f("out_bps"), "out_p95", 95)
                .agg("max", IFACE.f("in_util_pct"), "in_util_max")
                .agg("max", IFACE.f("out_util_pct"), "out_util_max")
                .by(link, dev)
            ],
            [
                Col("link", "col.link"),
                Col("device", "col.device"),
                Col("in_p95", "col.in_p95", bps),
                Col("out_p95", "col.out_p95", bps),
                Col("in_util_max", "col.in_util_max", pct),
                Col("out_util_max", "col.out_util_max", pct),
            ],
            w=24,
        )
    )

    d.with_row(p.row("backbone_links.row.health"))
    health = ("in_errors", "out_errors", "in_discards", "out_discards")
    d.with_panel(
        p.timeseries(
            "backbone_links.errors",
            [per_link().agg("mean", IFACE.f(f"{k}_ps"), k).by_time().by(link, dev) for k in health],
            unit=IFACE.field("in_errors_ps").unit,
            aliases=[f"{PER_LINK} {p.legend(k)}" for k in health],
        )
    )

    def optics(fld: str, alias: str) -> Select:
        return (
            select(OPT)
            .agg("mean", OPT.f(fld), alias)
            .regex(OPT.t("role"), BACKBONE_ROLES)
            .match_var(OPT.t("device"), "link_device")
            .match_var(OPT.t("ifname"), "link_ifname")
            .by_time()
            .by(OPT.t("device"), OPT.t("ifname"))
        )

    d.with_panel(
        p.timeseries(
            "backbone_links.optics",
            [optics("rx_dbm", "rx"), optics("tx_dbm", "tx")],
            unit=OPT.field("rx_dbm").unit,
            aliases=[
                f"$tag_device $tag_ifname {p.legend('rx')}",
                f"$tag_device $tag_ifname {p.legend('tx')}",
            ],
            thresholds_cfg=ctx.optics_thresholds(),
        )
    )
    status = per_link().agg("last", IFACE.f("oper_status"), "status").by_time(fill="previous").by(link, dev)
    d.with_panel(
        p.timeline(
            "backbone_links.status",
            [status],
            aliases=[PER_LINK],
            mappings=value_map(ctx.tr, IF_STATUS),
            unit=IFACE.field("oper_status").unit,
        )
    )
    return d


SPEC = DashboardSpec(uid="nocsoc-backbone-links", folder="Network", slug="backbone-links", make=make)
