"""What every dashboard module shares: its spec (uid, folder), the build context, variables, JSON.

A dashboard module exposes `SPEC = DashboardSpec(...)` whose `make(ctx)` returns the SDK builder;
`render()` turns it into the bare dashboard JSON Grafana's file provider and API both take.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from grafana_foundation_sdk.builders import dashboard as dash_b
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as common_m
from grafana_foundation_sdk.models import dashboard as dash_m

from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.dashboards.i18n import Translator
from nocsoc.dashboards.panels import Panels, thresholds
from nocsoc.dashboards.targets import DATASOURCE_TYPE
from nocsoc.inventory.model import Inventory

FOLDERS: dict[str, str] = {"Network": "nocsoc-network", "SOC": "nocsoc-soc", "IOC": "nocsoc-ioc"}
BACKBONE_ROLES = frozenset({"core", "distribution"})


def localized_uid(uid: str, locale: str) -> str:
    """English keeps the historical uids; every other language gets its own (`-vi`), so both
    builds can be installed side by side in one Grafana without overwriting each other."""
    return uid if locale == "en" else f"{uid}-{locale}"


def folder_uid(folder: str, locale: str) -> str:
    return localized_uid(FOLDERS[folder], locale)


def folder_title(folder: str, locale: str) -> str:
    return Translator(locale)(f"folder.{folder}")


def backbone_links(inventory: Inventory | None) -> list[str]:
    """Names of the inventory links whose both ends are core or distribution routers: the ring,
    not the server NICs, UPS and access uplinks (those are device detail's business)."""
    if inventory is None:
        return []
    roles = {d.name: d.role.value for d in inventory.devices}
    return [
        link.name
        for link in inventory.links
        if roles.get(link.a.device) in BACKBONE_ROLES and roles.get(link.b.device) in BACKBONE_ROLES
    ]


@dataclass
class BuildContext:
    locale: str
    datasource_uid: str
    cfg: DashboardsConfig = field(default_factory=DashboardsConfig)
    inventory: Inventory | None = None
    tr: Translator = field(init=False)

    def __post_init__(self) -> None:
        self.tr = Translator(self.locale)

    def panels(self) -> Panels:
        return Panels(self.datasource_uid, self.tr, self.site_names(), self.exporter_names())

    def uid(self, uid: str) -> str:
        return localized_uid(uid, self.locale)

    def site_names(self) -> dict[str, str]:
        """Site id -> display name (the inventory's `name`), for legends and table cells."""
        return {s.id: s.name for s in self.inventory.sites} if self.inventory else {}

    def exporter_names(self) -> dict[str, str]:
        """Flow exporter address -> device name."""
        if self.inventory is None:
            return {}
        return {d.flow_exporter: d.name for d in self.inventory.devices if d.flow_exporter}

    def util_thresholds(self) -> dash_b.ThresholdsConfig:
        c = self.cfg
        return thresholds(
            (None, "green"), (c.link_utilization_warn_pct, "orange"), (c.link_utilization_pct, "red")
        )

    def usage_thresholds(self) -> dash_b.ThresholdsConfig:
        c = self.cfg
        return thresholds((None, "green"), (c.usage_warn_pct, "orange"), (c.usage_crit_pct, "red"))

    def optics_thresholds(self) -> dash_b.ThresholdsConfig:
        return thresholds((None, "red"), (self.cfg.optics_rx_min_dbm, "green"))

    def ds_ref(self) -> common_m.DataSourceRef:
        return common_m.DataSourceRef(type_val=DATASOURCE_TYPE, uid=self.datasource_uid)

    def dashboard(
        self, uid: str, key: str, tags: list[str], refresh: str = "1m", time_from: str = "now-6h"
    ) -> dash_b.Dashboard:
        desc = self.tr.get(f"{key}.desc")
        d = (
            dash_b.Dashboard(self.tr(f"{key}.title"))
            .uid(self.uid(uid))
            .tags(["nocsoc", *tags])
            .refresh(refresh)
            .time(time_from, "now")
            .timezone("browser")
            .editable()
            .tooltip(dash_m.DashboardCursorSync.CROSSHAIR)
        )
        if desc:
            d.description(desc)
        return d

    def custom_variable(self, name: str, options: dict[str, str]) -> dash_b.CustomVariable:
        """A variable offering inventory values (`text : value`): people pick a device or site
        by its display name while queries match the tag's value."""
        query = ", ".join(f"{text} : {value}" for text, value in options.items())
        return (
            dash_b.CustomVariable(name)
            .label(self.tr(f"var.{name}"))
            .values(query)
            .options([dash_m.VariableOption(text=t, value=v) for t, v in options.items()])
            .multi(True)
            .include_all(True)
            .all_value(".*")
            .current(dash_m.VariableOption(text=self.tr("var.all"), value="$__all"))
        )

    def variable(
        self, name: str, query: str, multi: bool = True, regex: str = "", hidden: bool = False
    ) -> dash_b.QueryVariable:
        """A tag-values variable; All matches everything (`.*`) so `/^$var$/` stays one regex.
        `regex` narrows what Grafana offers (e.g. the inventory's backbone links)."""
        v = (
            dash_b.QueryVariable(name)
            .label(self.tr(f"var.{name}"))
            .query(query)
            .datasource(self.ds_ref())
            .refresh(dash_m.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(dash_m.VariableSort.ALPHABETICAL_ASC)
            .definition(query)
        )
        if multi:
            v.multi(True).include_all(True).all_value(".*")
        if regex:
            v.regex(regex)
        if hidden:
            v.hide(dash_m.VariableHide.HIDE_VARIABLE).current(
                dash_m.VariableOption(text=self.tr("var.all"), value="$__all")
            )
        return v


@dataclass(frozen=True)
class DashboardSpec:
    uid: str  # the English uid; other locales add their suffix (localized_uid)
    folder: str  # one of FOLDERS
    slug: str  # file name stem
    make: Callable[[BuildContext], dash_b.Dashboard]


def render(builder: dash_b.Dashboard) -> dict[str, Any]:
    """The dashboard as plain JSON data (what the file provider and /api/dashboards/db take)."""
    data: dict[str, Any] = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    # The SDK emits `annotations: {}`; Grafana expects a list (and adds the built-in one itself).
    data["annotations"] = {"list": []}
    return data
