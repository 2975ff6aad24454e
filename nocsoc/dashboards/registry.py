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
)
from nocsoc.dashboards.base import BuildContext, DashboardSpec, render

DASHBOARDS: tuple[DashboardSpec, ...] = (
    ioc_overview.SPEC,
    backbone_links.SPEC,
    device_detail.SPEC,
    flows.SPEC,
    soc_alerts.SPEC,
    collector_health.SPEC,
)


def build_all(locale: str, datasource_uid: str) -> list[tuple[DashboardSpec, dict[str, Any]]]:
    """Every dashboard rendered to JSON for `locale`."""
    ctx = BuildContext(locale, datasource_uid)
    return [(spec, render(spec.make(ctx))) for spec in DASHBOARDS]
