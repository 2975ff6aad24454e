"""Panel helpers: one call per panel with the conventions every nocsoc dashboard shares.

Titles come from the translator by key (`<key>` and optional `<key>.desc`), units from the
schema field, ids from a per-dashboard counter; layout is left to the SDK, which flows panels
left to right by `span` and wraps rows (validate.py checks nothing overlaps).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

from grafana_foundation_sdk.builders import bargauge, piechart, stat, statetimeline, table, timeseries
from grafana_foundation_sdk.builders import common as common_b
from grafana_foundation_sdk.builders import dashboard as dash_b
from grafana_foundation_sdk.models import common as common_m
from grafana_foundation_sdk.models import dashboard as dash_m

from nocsoc.dashboards.i18n import Translator
from nocsoc.dashboards.influxql import Select
from nocsoc.dashboards.targets import DATASOURCE_TYPE, InfluxQL

Query = Select | str
REF_IDS = "ABCDEFGHIJ"


def thresholds(*steps: tuple[float | None, str]) -> dash_b.ThresholdsConfig:
    return (
        dash_b.ThresholdsConfig()
        .mode(dash_m.ThresholdsMode.ABSOLUTE)
        .steps([dash_m.Threshold(value=v, color=c) for v, c in steps])
    )


UP_DOWN = thresholds((None, "red"), (1, "green"))
# ifOperStatus / ifAdminStatus (IF-MIB): the states a person reads instead of 1..7
IF_STATUS = {
    "1": ("status.up", "green"),
    "2": ("status.down", "red"),
    "3": ("status.testing", "orange"),
    "5": ("status.dormant", "blue"),
    "7": ("status.lower_down", "red"),
}
REACHABLE = {"1": ("status.reachable", "green"), "0": ("status.unreachable", "red")}


@dataclass(frozen=True)
class Col:
    """One table column: its name in the query result (an alias or a tag), the catalogue key of
    its header, its Grafana unit, and value mappings (catalogue key, colour) for coded values."""

    name: str
    key: str
    unit: str = ""
    mappings: dict[str, tuple[str, str]] | None = None


class Look(TypedDict, total=False):
    """What every panel may be given besides its key and queries: its size on the 24-column
    grid (each kind has its default), the unit, the legend of each query, thresholds, value
    mappings for coded values, and table-format queries."""

    w: int
    h: int
    unit: str
    aliases: Sequence[str]
    thresholds_cfg: dash_b.ThresholdsConfig | None
    mappings: list[dash_m.ValueMapping] | None
    table_fmt: bool


def prop(id_val: str, value: Any) -> dash_m.DynamicConfigValue:
    return dash_m.DynamicConfigValue(id_val=id_val, value=value)


@dataclass
class Panels:
    """Makes panels for one dashboard: knows the datasource, the translator and the next id."""

    datasource_uid: str
    tr: Translator
    site_names: dict[str, str] = field(default_factory=dict)  # site id -> display name
    exporter_names: dict[str, str] = field(default_factory=dict)  # exporter address -> device
    next_id: int = 1
    titles: list[str] = field(default_factory=list)

    def legend(self, key: str) -> str:
        """A legend word (in, out, rx, ...) in the dashboard's language."""
        return self.tr(f"legend.{key}")

    def rename(self, p: Any, names: dict[str, str]) -> None:
        """Series named by a tag value (a site id, an exporter address) shown by display name."""
        for raw, shown in sorted(names.items()):
            p.override_by_name(raw, [prop("displayName", shown)])

    def units_by_query(self, p: Any, units: dict[str, str]) -> None:
        """A panel whose queries carry different units (seconds and counts): one unit per refId."""
        for ref, unit in units.items():
            p.override_by_query(ref, [prop("unit", unit)])

    def _targets(
        self, queries: Sequence[Query], table_fmt: bool = False, aliases: Sequence[str] = ()
    ) -> list[InfluxQL]:
        out = []
        for i, query in enumerate(queries):
            t = InfluxQL(self.datasource_uid, str(query)).ref_id(REF_IDS[i])
            if table_fmt:
                t.table()
            if i < len(aliases) and aliases[i]:
                t.alias(aliases[i])
            out.append(t)
        return out

    def _common(self, p: Any, key: str, queries: Sequence[Query], size: tuple[int, int],
                look: Look) -> Any:
        """Id, title, description, size (`size` unless `look` says), queries and the shared
        options on panel `p`."""
        # the panel names the datasource too: Grafana runs a panel's queries on the panel's datasource
        ds = common_m.DataSourceRef(type_val=DATASOURCE_TYPE, uid=self.datasource_uid)
        p.id(self.next_id).title(self.tr(key)).span(look.get("w", size[0])).height(look.get("h", size[1]))
        targets = self._targets(queries, look.get("table_fmt", False), look.get("aliases", ()))
        p.datasource(ds).targets(targets)
        self.next_id += 1
        desc = self.tr.get(f"{key}.desc")
        if desc:
            p.description(desc)
        if look.get("unit"):
            p.unit(look["unit"])
        limits = look.get("thresholds_cfg")
        if limits is not None:
            p.thresholds(limits)
        mappings = look.get("mappings")
        if mappings:  # coded values a person reads as words (up/down, reachable)
            p.mappings(mappings)
        return p

    def row(self, key: str) -> dash_b.Row:
        r = dash_b.Row(self.tr(key)).id(self.next_id)
        self.next_id += 1
        return r

    def timeseries(self, key: str, queries: Sequence[Query], stacked: bool = False, bars: bool = False,
                   **look: Unpack[Look]) -> timeseries.Panel:
        p = (
            timeseries.Panel()
            .fill_opacity(10)
            .legend(
                common_b.VizLegendOptions()
                .show_legend(True)
                .display_mode(common_m.LegendDisplayMode.TABLE)
                .placement(common_m.LegendPlacement.BOTTOM)
                .calcs(["mean", "max", "lastNotNull"])
            )
        )
        if stacked:
            p.stacking(common_b.StackingConfig().mode(common_m.StackingMode.NORMAL))
        if bars:
            p.draw_style(common_m.GraphDrawStyle.BARS)
        limits = look.pop("thresholds_cfg", None)  # drawn as lines, set here
        if limits is not None:
            p.thresholds(limits).thresholds_style(
                common_b.GraphThresholdsStyleConfig().mode(common_m.GraphThresholdsStyleMode.LINE)
            )
        return self._common(p, key, queries, (12, 8), look)

    def stat(self, key: str, queries: Sequence[Query], calc: str = "lastNotNull", no_value: str | None = None,
             **look: Unpack[Look]) -> stat.Panel:
        """`no_value`: what to show when the query returns no series (e.g. "0" for a count of
        devices down: InfluxQL's count() over nothing returns nothing, not 0)."""
        p = (
            stat.Panel()
            .reduce_options(common_b.ReduceDataOptions().calcs([calc]).values(False))
            .graph_mode(common_m.BigValueGraphMode.AREA)
            .color_mode(common_m.BigValueColorMode.BACKGROUND)
        )
        if no_value is not None:
            p.no_value(no_value)
        return self._common(p, key, queries, (4, 4), look)

    def bargauge(self, key: str, queries: Sequence[Query], **look: Unpack[Look]) -> bargauge.Panel:
        p = (
            bargauge.Panel()
            .display_mode(common_m.BarGaugeDisplayMode.GRADIENT)
            .orientation(common_m.VizOrientation.HORIZONTAL)
            .reduce_options(
                common_b.ReduceDataOptions().calcs(["lastNotNull"]).values(look.get("table_fmt", False))
            )
        )
        return self._common(p, key, queries, (12, 8), look)

    def piechart(self, key: str, queries: Sequence[Query], **look: Unpack[Look]) -> piechart.Panel:
        p = (
            piechart.Panel()
            .pie_type(piechart.piechart.PieChartType.DONUT)
            .reduce_options(common_b.ReduceDataOptions().calcs(["sum"]).values(False))
        )
        return self._common(p, key, queries, (8, 8), look)

    def table(
        self,
        key: str,
        queries: Sequence[Query],
        columns: Sequence[Col],
        w: int = 12,
        h: int = 8,
        show_time: bool = False,
    ) -> table.Panel:
        """A table whose every column has a header in the dashboard's language and its unit;
        InfluxQL's `Time` column (epoch 0 for an aggregate over the range) is hidden unless
        `show_time`. Site ids and exporter addresses read as their inventory names."""
        p = table.Panel().show_header(True).filterable(True)
        if show_time:
            p.override_by_name("Time", [prop("displayName", self.tr("col.time"))])
        else:
            p.override_by_name("Time", [prop("custom.hidden", True)])
        for c in columns:
            props = [prop("displayName", self.tr(c.key))]
            if c.unit:
                props.append(prop("unit", c.unit))
            mappings = value_map(self.tr, c.mappings) if c.mappings else None
            names = {"site": self.site_names, "exporter": self.exporter_names}.get(c.name)
            if names:
                options = {raw: dash_m.ValueMappingResult(text=shown) for raw, shown in names.items()}
                mappings = [dash_m.ValueMap(options=options)]
            if mappings:
                props.append(prop("mappings", mappings))
            p.override_by_name(c.name, props)
        return self._common(p, key, queries, (w, h), {"table_fmt": True})

    def timeline(self, key: str, queries: Sequence[Query], **look: Unpack[Look]) -> statetimeline.Panel:
        p = statetimeline.Panel().show_value(common_m.VisibilityMode.NEVER).merge_values(True)
        return self._common(p, key, queries, (24, 8), look)

    def plugin(self, panel_type: str, key: str, queries: Sequence[Query], options: dict[str, Any],
               **look: Unpack[Look]) -> dash_b.Panel:
        """A panel of an installed plugin (no SDK builder): its options as the plugin's model."""
        p = dash_b.Panel().type(panel_type).options(options)
        return self._common(p, key, queries, (24, 20), look)


def value_map(tr: Translator, pairs: dict[str, tuple[str, str]]) -> list[dash_m.ValueMapping]:
    """Value -> (text key, colour) mapping, e.g. ifOperStatus 1 -> up/green."""
    options = {v: dash_m.ValueMappingResult(text=tr(k), color=c) for v, (k, c) in pairs.items()}
    return [dash_m.ValueMap(options=options)]
