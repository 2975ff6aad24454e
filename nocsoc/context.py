"""The runtime context: everything a running nocsoc derives from nocsoc.yaml, resolved once.

Every component and command gets its paths (`~` expanded, relative to nocsoc.yaml's
directory), secrets (`env:`/`file:` references, `file:` relative to the same directory), the
inventory, the sinks (one builder; `only=` picks a type, as `--sink TYPE` does), the state
directory and the clock from here, so no two places resolve them differently.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nocsoc.config import Config, load_config
from nocsoc.inventory.model import Inventory
from nocsoc.inventory.store import load_inventory
from nocsoc.paths import resolve_path
from nocsoc.secrets import resolve_secret
from nocsoc.sinks.base import Sink
from nocsoc.sinks.factory import build_one


@dataclass
class Context:
    config: Config
    config_path: Path | None = None  # None: defaults, no file (paths relative to the cwd)
    clock: Callable[[], float] = time.time
    inventory_optional: bool = False  # a missing inventory file is an empty inventory
    _inventory: Inventory | None = field(default=None, repr=False)

    @property
    def base_dir(self) -> Path:
        return self.config_path.resolve().parent if self.config_path is not None else Path.cwd()

    def path(self, value: str | Path) -> Path:
        """A path written in nocsoc.yaml, resolved the one way."""
        return resolve_path(self.base_dir, value)

    def secret(self, ref: str, what: str) -> str:
        """The secret behind a reference (SecretError names `what`, never the value)."""
        return resolve_secret(ref, self.base_dir, what=what)

    @property
    def state_dir(self) -> Path:
        return self.path(self.config.run.state_dir)

    @property
    def inventory_path(self) -> Path:
        return self.path(self.config.inventory)

    def load_inventory(self) -> Inventory:
        """Read the inventory afresh (InventoryError names file:line) and keep it."""
        if self.inventory_optional and not self.inventory_path.exists():
            self._inventory = Inventory()
        else:
            self._inventory = load_inventory(self.inventory_path)
        return self._inventory

    @property
    def inventory(self) -> Inventory:
        return self._inventory if self._inventory is not None else self.load_inventory()

    def build_sink(self, only: str | None = None) -> Sink:
        """The configured sinks behind one (or those of type `only`)."""
        return build_one(self.config.sinks, self, only)


def load_context(config_path: Path) -> Context:
    """Load and validate nocsoc.yaml (ConfigError names file, line and key)."""
    return Context(load_config(config_path), config_path)
