"""Backbone links: per-link traffic, utilization, 95th percentile, errors, optics and status."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash_b

from nocsoc import schema
from nocsoc.dashboards.base import BuildContext, DashboardSpec
from nocsoc.dashboards.influxql import Select, select, tag_values
from nocsoc.dashboards.panels import GREEN_RED_80, thresholds, value_map

IFACE, OPT = schema.INTERFACE, schema.OPTICS
BACKBONE_ROLES = "^(core|distribution)$"
PER_LINK = "$tag_link $tag_device $col"


def make(ctx: BuildContext) -> dash_b.Dashboard:
    p = ctx.panels()
    d = ctx.dashboard("nocsoc-backbone-links", "backbone_links", ["network", "backbone"])
    d.with_variable(ctx.variable("link", tag_values(IFACE, IFACE.t("link"))))
    link, dev = IFACE.t("link"), IFACE.t("device")

    def per_link() -> Select:
        return select(IFACE).match_var(link, "link")

    d.with_row(p.row("backbone_links.row.traffic"))
    d.with_panel(
        p.timeseries(
            "backbone_links.bps",
            [
                per_link()
                .agg("mean", IFACE.f("in_bps"), "in")
                .agg("mean", IFACE.f("out_bps"), "out")
                .by_time()
                .by(link, dev)
            ],
            unit=IFACE.field("in_bps").unit,
            aliases=[PER_LINK],
        )
    )
    d.with_panel(
        p.timeseries(
            "backbone_links.util",
            [
                per_link()
                .agg("mean", IFACE.f("in_util_pct"), "in")
                .agg("mean", IFACE.f("out_util_pct"), "out")
                .by_time()
                .by(link, dev)
            ],
            unit="percent",
            aliases=[PER_LINK],
            thresholds_cfg=GREEN_RED_80,
        )
    )
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
            unit=IFACE.field("in_bps").unit,
            w=24,
        )
    )

    d.with_row(p.row("backbone_links.row.health"))
    d.with_panel(
        p.timeseries(
            "backbone_links.errors",
            [
                per_link()
                .agg("mean", IFACE.f("in_errors_ps"), "in_errors")
                .agg("mean", IFACE.f("out_errors_ps"), "out_errors")
                .agg("mean", IFACE.f("in_discards_ps"), "in_discards")
                .agg("mean", IFACE.f("out_discards_ps"), "out_discards")
                .by_time()
                .by(link, dev)
            ],
            aliases=[PER_LINK],
        )
    )
    d.with_panel(
        p.timeseries(
            "backbone_links.optics",
            [
                select(OPT)
                .agg("mean", OPT.f("rx_dbm"), "rx")
                .agg("mean", OPT.f("tx_dbm"), "tx")
                .regex(OPT.t("role"), BACKBONE_ROLES)
                .by_time()
                .by(OPT.t("device"), OPT.t("ifname"))
            ],
            unit=OPT.field("rx_dbm").unit,
            aliases=["$tag_device $tag_ifname $col"],
            thresholds_cfg=thresholds((None, "red"), (-25, "green")),
        )
    )
    status = per_link().agg("last", IFACE.f("oper_status"), "status").by_time(fill="previous").by(link, dev)
    d.with_panel(
        p.timeline(
            "backbone_links.status",
            [status],
            aliases=["$tag_link $tag_device"],
            mappings=value_map(ctx.tr, {"1": ("status.up", "green"), "2": ("status.down", "red")}),
            thresholds_cfg=thresholds((None, "green"), (2, "red")),
        )
    )
    return d


SPEC = DashboardSpec(uid="nocsoc-backbone-links", folder="Network", slug="backbone-links", make=make)
