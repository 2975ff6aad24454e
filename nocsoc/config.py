"""The nocsoc.yaml model: one section per component, each with its own config and defaults."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from nocsoc.collectors.flows.config import FlowsConfig
from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.snmp.config import SnmpConfig
from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.detections.config import DetectionsConfig
from nocsoc.sinks.config import SinkConfig, SqliteSinkConfig


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inventory: str = Field(default="inventory.yaml", description="inventory file, relative to nocsoc.yaml")
    sinks: list[SinkConfig] = Field(default_factory=lambda: [SqliteSinkConfig()])
    snmp: SnmpConfig = Field(default_factory=SnmpConfig)
    flows: FlowsConfig = Field(default_factory=FlowsConfig)
    logs: LogsConfig = Field(default_factory=LogsConfig)
    detections: DetectionsConfig = Field(default_factory=DetectionsConfig)
    dashboards: DashboardsConfig = Field(default_factory=DashboardsConfig)
