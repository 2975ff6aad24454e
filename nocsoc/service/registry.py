"""The services `nocsoc run` can start, each built from the config, inventory and sink.

Factories import their component lazily, so a worker pays only for the services it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nocsoc.component import Component
from nocsoc.config import Config
from nocsoc.inventory.model import Inventory
from nocsoc.sinks.base import Sink


@dataclass
class ServiceContext:
    config: Config
    base_dir: Path  # the directory of nocsoc.yaml: relative paths in the config are relative to it
    state_dir: Path
    inventory: Inventory
    sink: Sink


ServiceFactory = Callable[[ServiceContext], Component]


def _snmp(ctx: ServiceContext) -> Component:
    from nocsoc.collectors.snmp.poller import SnmpPoller

    return SnmpPoller(ctx.config.snmp, ctx.inventory, ctx.sink, secrets_dir=ctx.base_dir)


def _flows(ctx: ServiceContext) -> Component:
    from nocsoc.collectors.flows.collector import FlowCollector

    # flows.state_dir is relative to nocsoc.yaml's directory like every path in the config
    return FlowCollector(ctx.config.flows, ctx.inventory, ctx.sink,
                         state_dir=ctx.base_dir / ctx.config.flows.state_dir, base_dir=ctx.base_dir)


def _logs(ctx: ServiceContext) -> Component:
    from nocsoc.collectors.logs.pipeline import LogPipeline

    return LogPipeline(ctx.config.logs, ctx.config.detections, ctx.sink, base_dir=ctx.base_dir)


def _traps(ctx: ServiceContext) -> Component:
    from nocsoc.collectors.traps.receiver import TrapReceiver
    from nocsoc.detections.alerts import AlertStore

    store = None
    if ctx.config.traps.alerts:
        db = Path(ctx.config.detections.alerts_db)
        store = AlertStore(db if db.is_absolute() else ctx.base_dir / db,
                           ctx.config.detections.dedup_window_s)
    return TrapReceiver(ctx.config.traps, ctx.inventory, ctx.sink, base_dir=ctx.base_dir, store=store)


def _icmp(ctx: ServiceContext) -> Component:
    from nocsoc.collectors.icmp.prober import IcmpProber

    return IcmpProber(ctx.config.icmp, ctx.inventory, ctx.sink)


SERVICES: dict[str, ServiceFactory] = {"snmp": _snmp, "flows": _flows, "logs": _logs, "traps": _traps,
                                       "icmp": _icmp}


def enabled_services(config: Config) -> list[str]:
    """The services the config enables, in start order."""
    return [name for name in SERVICES if getattr(config, name).enabled]
