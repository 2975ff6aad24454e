"""Device detail (variables site / device / interface): health, interfaces, storage, poll health."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash_b

from nocsoc import schema
from nocsoc.dashboards.base import BuildContext, DashboardSpec
from nocsoc.dashboards.influxql import Select, q, select, tag_values
from nocsoc.dashboards.panels import IF_STATUS, REACHABLE, UP_DOWN, Col, thresholds, value_map

D, DE, IFACE, ST, P = schema.DEVICE, schema.DEVICE_EVENT, schema.INTERFACE, schema.STORAGE, schema.SNMP_POLL
DEV = D.t("device")  # the same tag on every measurement here; the builder re-checks it per measurement


def make(ctx: BuildContext) -> dash_b.Dashboard:
    p = ctx.panels()
    d = ctx.dashboard("nocsoc-device-detail", "device_detail", ["network", "device"])
    sites = ctx.site_names()
    if sites:  # picked by display name, matched by id
        d.with_variable(ctx.custom_variable("site", {name: sid for sid, name in sites.items()}))
    else:
        d.with_variable(ctx.variable("site", tag_values(D, D.t("site"))))
    d.with_variable(ctx.variable("device", tag_values(D, DEV, {D.t("site"): "site"})))
    d.with_variable(ctx.variable("interface", tag_values(IFACE, IFACE.t("ifname"), {DEV: "device"})))

    def dev(m: schema.Measurement) -> Select:
        return select(m).match_var(m.t("site"), "site").match_var(m.t("device"), "device")

    per_dev = ["$tag_device"]
    d.with_row(p.row("device_detail.row.health"))
    d.with_panel(
        p.stat(
            "device_detail.reachable",
            [dev(D).agg("last", D.f("reachable"), "up").by(DEV)],
            unit=D.field("reachable").unit,
            aliases=per_dev,
            thresholds_cfg=UP_DOWN,
            mappings=value_map(ctx.tr, REACHABLE),
        )
    )
    # the device's gauges now: (panel key, measurement, field, alias, unit, thresholds)
    now = (
        ("device_detail.uptime", D, "uptime_s", "uptime", D.field("uptime_s").unit, None),
        ("device_detail.cpu_now", D, "cpu_pct", "cpu", "percent", ctx.usage_thresholds()),
        ("device_detail.mem_now", D, "mem_used_pct", "mem", "percent", ctx.usage_thresholds()),
    )
    for key, m, name, alias, unit, limits in now:
        d.with_panel(p.stat(key, [dev(m).agg("last", m.f(name), alias).by(DEV)], unit=unit,
                            aliases=per_dev, thresholds_cfg=limits))
    d.with_panel(
        p.stat(
            "device_detail.reboots",
            [dev(DE).agg("count", DE.f("uptime_s"), "reboots").eq(DE.t("event"), "device_reboot").by(DEV)],
            unit="short",
            aliases=per_dev,
            calc="sum",
            thresholds_cfg=thresholds((None, "green"), (1, "orange")),
        )
    )
    poll_now = dev(P).agg("mean", P.f("duration_s"), "duration").by(DEV)
    d.with_panel(p.stat("device_detail.poll_duration", [poll_now], unit=P.field("duration_s").unit,
                        aliases=per_dev))
    # and over time
    for key, name, alias in (("device_detail.cpu", "cpu_pct", "cpu"),
                             ("device_detail.memory", "mem_used_pct", "mem")):
        d.with_panel(p.timeseries(key, [dev(D).agg("mean", D.f(name), alias).by_time().by(DEV)],
                                  unit="percent", aliases=per_dev))

    d.with_row(p.row("device_detail.row.interfaces"))

    def iface() -> Select:
        return dev(IFACE).match_var(IFACE.t("ifname"), "interface")

    per_if = "$tag_device $tag_ifname"
    d.with_panel(
        p.timeseries(
            "device_detail.if_bps",
            [
                iface().agg("mean", IFACE.f(f"{k}_bps"), k).by_time().by(DEV, IFACE.t("ifname"))
                for k in ("in", "out")
            ],
            unit=IFACE.field("in_bps").unit,
            aliases=[f"{per_if} {p.legend(k)}" for k in ("in", "out")],
        )
    )
    health = ("in_errors", "out_errors", "in_discards", "out_discards")
    d.with_panel(
        p.timeseries(
            "device_detail.if_errors",
            [iface().agg("mean", IFACE.f(f"{k}_ps"), k).by_time().by(DEV, IFACE.t("ifname")) for k in health],
            unit=IFACE.field("in_errors_ps").unit,
            aliases=[f"{per_if} {p.legend(k)}" for k in health],
        )
    )
    pct = IFACE.field("in_util_pct").unit
    d.with_panel(
        p.table(
            "device_detail.if_table",
            [
                iface()
                .agg("last", IFACE.f("oper_status"), "oper")
                .agg("last", IFACE.f("admin_status"), "admin")
                .agg("last", IFACE.f("speed_mbps"), "speed_mbps")
                .agg("last", IFACE.f("in_util_pct"), "in_util")
                .agg("last", IFACE.f("out_util_pct"), "out_util")
                .by(DEV, IFACE.t("ifname"), IFACE.t("ifalias"))
            ],
            [
                Col("device", "col.device"),
                Col("ifname", "col.ifname"),
                Col("ifalias", "col.ifalias"),
                Col("oper", "col.oper", IFACE.field("oper_status").unit, IF_STATUS),
                Col("admin", "col.admin", IFACE.field("admin_status").unit, IF_STATUS),
                Col("speed_mbps", "col.speed", IFACE.field("speed_mbps").unit),
                Col("in_util", "col.in_util", pct),
                Col("out_util", "col.out_util", pct),
            ],
            w=24,
        )
    )

    d.with_row(p.row("device_detail.row.system"))
    d.with_panel(
        p.bargauge(
            "device_detail.storage",
            [dev(ST).agg("last", ST.f("used_pct"), "used").by(DEV, ST.t("storage"))],
            unit=ST.field("used_pct").unit,
            aliases=["$tag_device $tag_storage"],
            thresholds_cfg=ctx.usage_thresholds(),
        )
    )
    poll = p.timeseries(
        "device_detail.poll",
        [
            dev(P).agg("max", P.f("duration_s"), "duration").by_time().by(DEV),
            dev(P)  # cumulative counter: increments per interval
            .expr(f"non_negative_difference(max({q(P.f('timeouts'))}))", "timeouts")
            .by_time()
            .by(DEV),
        ],
        aliases=[f"$tag_device {p.legend('duration')}", f"$tag_device {p.legend('timeouts')}"],
        unit=P.field("duration_s").unit,
    )
    p.units_by_query(poll, {"B": P.field("timeouts").unit})
    d.with_panel(poll)
    return d


SPEC = DashboardSpec(uid="nocsoc-device-detail", folder="Network", slug="device-detail", make=make)
