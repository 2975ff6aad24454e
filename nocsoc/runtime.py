"""Everything a running nocsoc derives from its config file: paths, inventory, sinks.

Relative paths in nocsoc.yaml are relative to the file's directory, so `nocsoc -c /etc/nocsoc/nocsoc.yaml`
behaves the same from any working directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nocsoc.config import Config, load_config, resolve_path
from nocsoc.inventory.model import Inventory
from nocsoc.inventory.store import load_inventory
from nocsoc.service.worker import WorkerSpec
from nocsoc.sinks.base import Sink
from nocsoc.sinks.factory import build_sinks
from nocsoc.sinks.fanout import FanoutSink


@dataclass
class Runtime:
    config: Config
    config_path: Path

    @property
    def base_dir(self) -> Path:
        return self.config_path.resolve().parent

    def path(self, value: str) -> Path:
        return resolve_path(self.config_path.resolve(), value)

    @property
    def state_dir(self) -> Path:
        return self.path(self.config.run.state_dir)

    @property
    def inventory_path(self) -> Path:
        return self.path(self.config.inventory)

    def load_inventory(self) -> Inventory:
        return load_inventory(self.inventory_path)

    def build_sink(self) -> Sink:
        sinks = build_sinks(self.config, self.base_dir)
        return sinks[0] if len(sinks) == 1 else FanoutSink(sinks)

    def worker_spec(self, name: str, services: list[str], duration_s: float | None = None,
                    watch_parent: bool = False) -> WorkerSpec:
        return WorkerSpec(
            name=name, services=services, config=self.config, base_dir=self.base_dir,
            state_dir=self.state_dir, load_inventory=self.load_inventory, build_sink=self.build_sink,
            duration_s=duration_s, watch_parent=watch_parent,
        )


def load_runtime(config_path: Path) -> Runtime:
    """Load and validate nocsoc.yaml (ConfigError names file, line and key)."""
    return Runtime(load_config(config_path), config_path)
