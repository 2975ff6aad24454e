"""IOC overview: the operations-center wallboard (KPIs, devices by site, hottest links, alerts, traffic)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash_b

from nocsoc import schema
from nocsoc.dashboards.base import BuildContext, DashboardSpec
from nocsoc.dashboards.influxql import Select, q, select, subquery
from nocsoc.dashboards.panels import thresholds

D, A, FT, IFACE = schema.DEVICE, schema.ALERT, schema.FLOW_TOTAL, schema.INTERFACE
LEVELS = ("critical", "high", "medium", "low", "informational")
COUNT = "short"  # a number of devices: sum()/count() of the 0/1 `reachable`


def last_reachable(*by: str) -> Select:
    """Per device (and `by` tags): its last `reachable` value in the range."""
    return select(D).agg("last", D.f("reachable"), "up").by(D.t("device"), *by)


def open_per_alert(*by: str) -> Select:
    """Each alert once, 1 while it is open (new or acknowledged) after its last write: the alert
    tag makes one series per alert and a triage change is a write, so last() is its state now.
    Summing `open` counts alerts, where summing `count` counted their events."""
    return select(A).agg("last", A.f("open"), "open").by(A.t("alert"), *by)


def hottest_links() -> Select:
    inner = select(IFACE).agg("max", IFACE.f("in_util_pct"), "util").has(IFACE.t("link")).by(IFACE.t("link"))
    return subquery(inner).expr(f"top({q('util')}, {q(IFACE.t('link'))}, 10)", "util")


def make(ctx: BuildContext) -> dash_b.Dashboard:
    p = ctx.panels()
    d = ctx.dashboard(
        "nocsoc-ioc-overview", "ioc_overview", ["ioc", "wallboard"], refresh="30s", time_from="now-1h"
    )
    d.with_row(p.row("ioc_overview.row.kpi"))
    d.with_panel(
        p.stat(
            "ioc_overview.devices_up",
            [subquery(last_reachable()).agg("sum", "up", "up")],
            unit=COUNT,
            thresholds_cfg=thresholds((None, "green")),
        )
    )
    d.with_panel(
        p.stat(
            "ioc_overview.devices_down",
            [subquery(last_reachable()).agg("count", "up", "down").field_cmp("up", "=", 0)],
            thresholds_cfg=thresholds((None, "green"), (1, "red")),
            unit=COUNT,
            no_value="0",
        )
    )
    # Open alerts, then the critical ones among them: one panel, a level filter and a colour apart.
    for key, alerts, colour in (
        ("ioc_overview.open_alerts", open_per_alert(), "orange"),
        ("ioc_overview.critical_alerts", open_per_alert().eq(A.t("level"), "critical"), "red"),
    ):
        d.with_panel(
            p.stat(
                key,
                [subquery(alerts).agg("sum", "open", "alerts")],
                unit=A.field("count").unit,
                thresholds_cfg=thresholds((None, "green"), (1, colour)),
            )
        )
    d.with_panel(
        p.stat(
            "ioc_overview.traffic_volume",
            [select(FT).agg("sum", FT.f("bytes"), "bytes")],
            unit=FT.field("bytes").unit,
            thresholds_cfg=thresholds((None, "blue")),
        )
    )
    d.with_panel(
        p.stat(
            "ioc_overview.hottest_link",
            [hottest_links()],
            unit=IFACE.field("in_util_pct").unit,
            calc="max",
            table_fmt=True,
            thresholds_cfg=ctx.util_thresholds(),
        )
    )

    d.with_row(p.row("ioc_overview.row.network"))
    site = D.t("site")
    up_by_site = p.bargauge(
        "ioc_overview.up_by_site",
        [subquery(last_reachable(site)).agg("sum", "up", "up").by(site)],
        unit=COUNT,
        aliases=["$tag_site"],
        thresholds_cfg=thresholds((None, "green")),
    )
    p.rename(up_by_site, ctx.site_names())
    d.with_panel(up_by_site)
    down_by_site = p.bargauge(
        "ioc_overview.down_by_site",
        [subquery(last_reachable(site)).agg("count", "up", "down").field_cmp("up", "=", 0).by(site)],
        unit=COUNT,
        aliases=["$tag_site"],
        thresholds_cfg=thresholds((None, "red")),
    )
    p.rename(down_by_site, ctx.site_names())
    d.with_panel(down_by_site)
    d.with_panel(
        p.bargauge(
            "ioc_overview.top_links",
            [hottest_links()],
            unit=IFACE.field("in_util_pct").unit,
            w=12,
            table_fmt=True,
            thresholds_cfg=ctx.util_thresholds(),
        )
    )
    bps = f"sum({q(FT.f('bytes'))}) * 8000 / $__interval_ms"
    traffic = p.timeseries(
        "ioc_overview.traffic",
        [select(FT).expr(bps, "bps").by_time(fill="0").by(FT.t("site"))],
        unit="bps",
        aliases=["$tag_site"],
        stacked=True,
    )
    p.rename(traffic, ctx.site_names())
    d.with_panel(traffic)

    d.with_row(p.row("ioc_overview.row.soc"))
    levels = level_names(ctx)
    by_level = p.piechart(
        "ioc_overview.alerts_by_level",
        [subquery(open_per_alert(A.t("level"))).agg("sum", "open", "alerts").by(A.t("level"))],
        unit=A.field("count").unit,
        aliases=["$tag_level"],
        w=8,
    )
    p.rename(by_level, levels)
    d.with_panel(by_level)
    over_time = p.timeseries(
        "ioc_overview.alerts_over_time",
        [select(A).agg("sum", A.f("count"), "alerts").by_time(fill="0").by(A.t("level"))],
        unit=A.field("count").unit,
        aliases=["$tag_level"],
        bars=True,
        stacked=True,
        w=16,
    )
    p.rename(over_time, levels)
    d.with_panel(over_time)
    return d


def level_names(ctx: BuildContext) -> dict[str, str]:
    """Sigma levels as a person reads them in the dashboard's language."""
    return {lv: ctx.tr(f"level.{lv}") for lv in LEVELS}


SPEC = DashboardSpec(uid="nocsoc-ioc-overview", folder="IOC", slug="ioc-overview", make=make)
