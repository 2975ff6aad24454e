"""The nocsoc.yaml model: one section per component, each with its own config and defaults.

`load_config` reads the file with line positions kept, so an unknown key, a wrong type or a
missing file becomes one `ConfigError` naming file, line and key (the CLI exits 2 on it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nocsoc.bus.config import BusConfig
from nocsoc.collectors.flows.config import FlowsConfig
from nocsoc.collectors.icmp.config import IcmpConfig
from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.snmp.config import SnmpConfig
from nocsoc.collectors.traps.config import TrapsConfig
from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.detections.config import DetectionsConfig
from nocsoc.errors import ConfigError
from nocsoc.history.config import HistoryConfig
from nocsoc.notify.config import NotifyConfig
from nocsoc.paths import resolve_path
from nocsoc.sinks.config import SinkConfig
from nocsoc.sinks.plugins.sqlite import SqliteSinkConfig
from nocsoc.web.config import WebConfig
from nocsoc.yamlio import load_yaml, validation_problems


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state_dir: str = Field(default="./var", description="status files, spool, templates, offsets")
    mode: Literal["processes", "single"] = Field(
        default="processes",
        description="processes: one worker process per service (uses every core); single: one process",
    )
    status_interval_s: float = Field(default=5.0, gt=0, description="how often workers report status")
    self_metrics_interval_s: float = Field(default=10.0, gt=0, description="self-metrics to the sinks")
    stop_timeout_s: float = Field(default=15.0, gt=0, description="graceful stop budget per worker")
    restart_backoff_s: float = Field(default=2.0, gt=0, description="first delay before restarting a worker")


def _default_sinks() -> list[SinkConfig]:
    return [SqliteSinkConfig()]


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inventory: str = Field(default="inventory.yaml", description="inventory file, relative to nocsoc.yaml")
    sinks: list[SinkConfig] = Field(default_factory=_default_sinks)
    snmp: SnmpConfig = Field(default_factory=SnmpConfig)
    flows: FlowsConfig = Field(default_factory=FlowsConfig)
    logs: LogsConfig = Field(default_factory=LogsConfig)
    traps: TrapsConfig = Field(default_factory=TrapsConfig)
    icmp: IcmpConfig = Field(default_factory=IcmpConfig)
    detections: DetectionsConfig = Field(default_factory=DetectionsConfig)
    dashboards: DashboardsConfig = Field(default_factory=DashboardsConfig)
    history: HistoryConfig = Field(default_factory=HistoryConfig)
    run: RunConfig = Field(default_factory=RunConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    bus: BusConfig = Field(default_factory=BusConfig)


def load_config(path: Path) -> Config:
    """Read and validate nocsoc.yaml. An empty file means all defaults.

    Raises `ConfigError` listing every problem as `file:line: key: message`.
    """
    if not path.exists():
        raise ConfigError(
            "config file not found; write a starter with `nocsoc init`, or point --config or "
            "NOCSOC_CONFIG at an existing one",
            file=path,
        )
    doc = load_yaml(path, ConfigError, what="config file")
    data = {} if doc.data is None else doc.data
    if not isinstance(data, dict):
        raise ConfigError(
            f"expected a mapping of sections (inventory, sinks, snmp, ...), found {type(data).__name__}",
            file=path,
            line=doc.line_of(()),
        )
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems=validation_problems(exc, doc, Config)) from None


def config_relative(config_file: Path, value: str | Path) -> Path:
    """A path written in nocsoc.yaml is relative to the directory of nocsoc.yaml, not the cwd."""
    return resolve_path(config_file.parent, value)


def inventory_path(config: Config, config_file: Path) -> Path:
    """Where the inventory of this config lives."""
    return config_relative(config_file, config.inventory)
