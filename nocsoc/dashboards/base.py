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

from nocsoc.dashboards.i18n import Translator
from nocsoc.dashboards.panels import Panels
from nocsoc.dashboards.targets import DATASOURCE_TYPE

FOLDERS: dict[str, str] = {"Network": "nocsoc-network", "SOC": "nocsoc-soc", "IOC": "nocsoc-ioc"}


@dataclass
class BuildContext:
    locale: str
    datasource_uid: str
    tr: Translator = field(init=False)

    def __post_init__(self) -> None:
        self.tr = Translator(self.locale)

    def panels(self) -> Panels:
        return Panels(self.datasource_uid, self.tr)

    def ds_ref(self) -> common_m.DataSourceRef:
        return common_m.DataSourceRef(type_val=DATASOURCE_TYPE, uid=self.datasource_uid)

    def dashboard(
        self, uid: str, key: str, tags: list[str], refresh: str = "1m", time_from: str = "now-6h"
    ) -> dash_b.Dashboard:
        desc = self.tr.get(f"{key}.desc")
        d = (
            dash_b.Dashboard(self.tr(f"{key}.title"))
            .uid(uid)
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

    def variable(self, name: str, query: str, multi: bool = True) -> dash_b.QueryVariable:
        """A tag-values variable; All matches everything (`.*`) so `/^$var$/` stays one regex."""
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
        return v


@dataclass(frozen=True)
class DashboardSpec:
    uid: str
    folder: str  # one of FOLDERS
    slug: str  # file name stem
    make: Callable[[BuildContext], dash_b.Dashboard]


def render(builder: dash_b.Dashboard) -> dict[str, Any]:
    """The dashboard as plain JSON data (what the file provider and /api/dashboards/db take)."""
    data: dict[str, Any] = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    # The SDK emits `annotations: {}`; Grafana expects a list (and adds the built-in one itself).
    data["annotations"] = {"list": []}
    return data
