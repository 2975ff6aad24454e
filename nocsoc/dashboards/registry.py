"""The dashboards nocsoc ships, in menu order."""

from __future__ import annotations

from typing import Any

from nocsoc.dashboards import (
    backbone_links,
    collector_health,
    device_detail,
    flows,
    ioc_overview,
    soc_alerts,
    weathermap,
)
from nocsoc.dashboards.base import BuildContext, DashboardSpec, render
from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.inventory.model import Inventory

DASHBOARDS: tuple[DashboardSpec, ...] = (
    ioc_overview.SPEC,
    backbone_links.SPEC,
    weathermap.SPEC,
    device_detail.SPEC,
    flows.SPEC,
    soc_alerts.SPEC,
    collector_health.SPEC,
)


def build_all(
    locale: str,
    datasource_uid: str,
    cfg: DashboardsConfig | None = None,
    inventory: Inventory | None = None,
) -> list[tuple[DashboardSpec, dict[str, Any]]]:
    """Every dashboard rendered to JSON for `locale`. Thresholds come from `cfg` (nocsoc.yaml's
    `dashboards:`); the inventory, when given, names sites, exporters and backbone links."""
    ctx = BuildContext(locale, datasource_uid, cfg or DashboardsConfig(), inventory)
    return [(spec, render(spec.make(ctx))) for spec in DASHBOARDS]
