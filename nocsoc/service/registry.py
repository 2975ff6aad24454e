"""The services `nocsoc run` can start: each built one way, from its config section and the
runtime context, and registered by name.

A service entry says what it is (`summary`), which section of nocsoc.yaml configures it, how to
build its component (a factory that imports the component lazily, so a worker pays only for
what it runs) and which addresses it listens on (`nocsoc check` tries them before a start).
Components do no I/O before `start()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from nocsoc.component import Component
from nocsoc.config import Config
from nocsoc.context import Context
from nocsoc.inventory.model import Inventory
from nocsoc.sinks.base import Sink


@dataclass(frozen=True)
class Bind:
    """A listen address a service needs: `where` names it in nocsoc.yaml (`flows.bind`)."""

    proto: Literal["udp", "tcp"]
    address: str
    where: str


@dataclass
class ServiceContext:
    """What a service is built from: the runtime context, the worker's sink, the inventory."""

    ctx: Context
    sink: Sink
    inventory: Inventory

    @property
    def config(self) -> Config:
        return self.ctx.config

    @property
    def base_dir(self) -> Path:
        return self.ctx.base_dir

    @property
    def state_dir(self) -> Path:
        return self.ctx.state_dir


@dataclass(frozen=True)
class Service:
    name: str
    summary: str
    section: str  # attribute of Config holding the service's config (with `enabled`)
    build: Callable[[ServiceContext], Component]
    binds: Callable[[Any], list[Bind]] = field(default=lambda _cfg: [])
    default: bool = True  # started by `--role all` when enabled; False: only by a role (the bus's)

    def config_of(self, config: Config) -> Any:
        return getattr(config, self.section)

    def enabled(self, config: Config) -> bool:
        return bool(getattr(self.config_of(config), "enabled", True))


def _snmp(sc: ServiceContext) -> Component:
    from nocsoc.bus.security import connect_options
    from nocsoc.collectors.ifnames import EntityNames, InterfaceNames
    from nocsoc.collectors.snmp.poller import SnmpPoller
    from nocsoc.shard.member import ShardMember

    # pollers share the inventory when a bus is configured (nocsoc.shard); else this one polls all
    bus_url = sc.config.bus.url
    servers = sc.config.snmp.shard.servers(bus_url)
    return SnmpPoller(sc.config.snmp, sc.inventory, sc.sink, secrets_dir=sc.base_dir,
                      ifnames=InterfaceNames.in_state_dir(sc.state_dir),
                      entnames=EntityNames.in_state_dir(sc.state_dir),
                      shard=ShardMember(sc.config.snmp.shard, servers, connect_options=connect_options(
                          sc.config.bus.for_dir(sc.base_dir))) if servers else None)


def _flows(sc: ServiceContext) -> Component:
    from nocsoc.collectors.flows.collector import FlowCollector
    from nocsoc.history.service import flow_writer

    return FlowCollector(sc.config.flows, sc.inventory, sc.sink,
                         state_dir=sc.ctx.path(sc.config.flows.state_dir), base_dir=sc.base_dir,
                         ifnames_dir=sc.state_dir, history=flow_writer(sc.config.history, sc.ctx))


def _flow_binds(cfg: Any) -> list[Bind]:
    out = [Bind("udp", cfg.bind, "flows.bind")]
    if cfg.sflow_bind:
        out.append(Bind("udp", cfg.sflow_bind, "flows.sflow_bind"))
    return out


def _logs(sc: ServiceContext) -> Component:
    from nocsoc.collectors.logs.pipeline import LogPipeline
    from nocsoc.detections.placeholders import from_inventory
    from nocsoc.history.service import log_writer

    return LogPipeline(sc.config.logs, sc.config.detections, sc.sink, base_dir=sc.base_dir,
                       archive=log_writer(sc.config.history, sc.ctx),
                       placeholders=from_inventory(sc.inventory))


def _log_binds(cfg: Any) -> list[Bind]:
    out = []
    if cfg.syslog_udp:
        out.append(Bind("udp", cfg.syslog_udp, "logs.syslog_udp"))
    if cfg.syslog_tcp:
        out.append(Bind("tcp", cfg.syslog_tcp, "logs.syslog_tcp"))
    return out


def _traps(sc: ServiceContext) -> Component:
    from nocsoc.collectors.ifnames import EntityNames, InterfaceNames
    from nocsoc.collectors.snmp.profiles import user_dir
    from nocsoc.collectors.traps.receiver import TrapReceiver
    from nocsoc.detections.alerts.factory import open_alert_store

    detections = sc.config.detections
    opener = (lambda: open_alert_store(detections, sc.ctx)) if sc.config.traps.alerts else None
    return TrapReceiver(sc.config.traps, sc.inventory, sc.sink, base_dir=sc.base_dir, open_store=opener,
                        dedup_window_s=detections.dedup_window_s,
                        ifnames=InterfaceNames.in_state_dir(sc.state_dir),
                        entnames=EntityNames.in_state_dir(sc.state_dir),
                        profiles_dir=user_dir(sc.config.snmp.profiles_dir, sc.base_dir))


def _trap_binds(cfg: Any) -> list[Bind]:
    return [Bind("udp", cfg.bind, "traps.bind")]


def _icmp(sc: ServiceContext) -> Component:
    from nocsoc.collectors.icmp.prober import IcmpProber

    return IcmpProber(sc.config.icmp, sc.inventory, sc.sink)


def _web(sc: ServiceContext) -> Component:
    from nocsoc.service.summary import read_summary
    from nocsoc.web.service import WebService, console_deps

    return WebService(console_deps(sc.ctx, sc.inventory, read_summary, sink=sc.sink), sc.config.web.bind)


def _web_binds(cfg: Any) -> list[Bind]:
    return [Bind("tcp", cfg.bind, "web.bind")]


def _notify(sc: ServiceContext) -> Component:
    from nocsoc.notify.service import NotifyService, network_reader, unreachable_reader
    from nocsoc.service.summary import read_summary

    down = unreachable_reader(sc.ctx, read_summary)
    return NotifyService(sc.ctx, sc.inventory, down, network_reader(sc.ctx))


SERVICES: dict[str, Service] = {}


def register_service(service: Service) -> Service:
    SERVICES[service.name] = service
    return service


register_service(Service("snmp", "SNMP poller: interfaces, health, optics, UPS", "snmp", _snmp))
register_service(Service("flows", "flow collector: NetFlow v5/v9, IPFIX, sFlow rollups", "flows", _flows,
                         _flow_binds))
register_service(Service("logs", "syslog and file ingestion with Sigma detections", "logs", _logs,
                         _log_binds))
register_service(Service("traps", "SNMP trap receiver: v1/v2c/v3 traps to events and alerts", "traps",
                         _traps, _trap_binds))
register_service(Service("icmp", "ICMP reachability: rtt and loss of every device", "icmp", _icmp))
register_service(Service("notify", "notifications: alerts, devices/links down, optics, traps to apprise",
                         "notify", _notify))
register_service(Service("web", "SOC console and /api/v1 (pages, triage, IOC KPIs)", "web", _web, _web_binds))


def _member(sc: ServiceContext, role: str) -> str:
    """This process's name among its role's peers on the bus: host and pid, unique and stable
    for the process's life."""
    import os
    import socket

    return f"{role}-{socket.gethostname().split('.')[0]}-{os.getpid()}".replace(".", "_")


def _bus_receiver(sc: ServiceContext) -> Component:
    from nocsoc.bus.receiver import BusReceiver

    cfg = sc.config
    return BusReceiver(cfg.bus.for_dir(sc.base_dir), cfg.flows if cfg.flows.enabled else None,
                       cfg.logs if cfg.logs.enabled else None,
                       sc.ctx.path(cfg.bus.buffer_dir), _member(sc, "receiver"),
                       traps=cfg.traps if cfg.traps.enabled else None, base_dir=sc.base_dir)


def _bus_receiver_binds(cfg: Any) -> list[Bind]:
    return []  # the flows and logs sections' binds, checked under their own names


def _bus_flows(sc: ServiceContext) -> Component:
    from nocsoc.bus.flows import BusFlowDecoder

    return BusFlowDecoder(sc.config.flows, sc.config.bus.for_dir(sc.base_dir), sc.inventory, sc.sink,
                          sc.state_dir / "bus-flows", _member(sc, "decoder"))


def _bus_traps(sc: ServiceContext) -> Component:
    from nocsoc.bus.traps import BusTrapDecoder
    from nocsoc.collectors.ifnames import EntityNames, InterfaceNames
    from nocsoc.collectors.snmp.profiles import user_dir
    from nocsoc.detections.alerts.factory import open_alert_store

    cfg = sc.config
    return BusTrapDecoder(cfg.traps, cfg.bus, sc.inventory, sc.sink, _member(sc, "decoder"),
                          base_dir=sc.base_dir, open_store=lambda: open_alert_store(cfg.detections, sc.ctx),
                          ifnames=InterfaceNames.in_state_dir(sc.state_dir),
                          entnames=EntityNames.in_state_dir(sc.state_dir),
                          profiles_dir=user_dir(cfg.snmp.profiles_dir, sc.base_dir))


def _bus_logs(sc: ServiceContext) -> Component:
    from nocsoc.bus.logs import BusLogDetector, detector_logs_config, detector_windows
    from nocsoc.collectors.logs.pipeline import LogPipeline
    from nocsoc.detections.placeholders import from_inventory
    from nocsoc.history.service import log_writer

    bus = sc.config.bus.for_dir(sc.base_dir)
    # the pipeline `logs` builds, without listeners or files of its own (the receivers have them),
    # its correlation windows per partition (bus.move_windows)
    pipeline = LogPipeline(detector_logs_config(sc.config.logs), sc.config.detections, sc.sink,
                           base_dir=sc.base_dir, archive=log_writer(sc.config.history, sc.ctx),
                           placeholders=from_inventory(sc.inventory), window_scope=detector_windows(bus))
    return BusLogDetector(sc.config.logs, sc.config.detections, bus, sc.sink,
                          sc.base_dir, _member(sc, "detector"), pipeline=pipeline)


register_service(Service("bus_receiver", "receiver: flow, syslog, trap and Windows event listeners "
                         "publishing raw to the bus",
                         "bus",
                         _bus_receiver, _bus_receiver_binds, default=False))
register_service(Service("bus_flows", "decoder: flow partitions from the bus to rollups", "bus", _bus_flows,
                         default=False))
register_service(Service("bus_traps", "decoder: SNMP trap partitions from the bus to events and alerts",
                         "bus", _bus_traps, default=False))
register_service(Service("bus_logs", "detector: log and Windows event partitions from the bus to detections",
                         "bus", _bus_logs, default=False))

# `nocsoc run --role`: which services each role runs (`all`: every enabled default service)
ROLES: dict[str, tuple[str, ...]] = {
    "receiver": ("bus_receiver",),
    "decoder": ("bus_flows", "bus_traps"),
    "detector": ("bus_logs",),
    "poller": ("snmp", "icmp", "traps"),  # traps: only without a bus (else receiver + decoder)
}


def enabled_services(config: Config) -> list[str]:
    """The services the config enables, in start order (the bus roles' only by `--role`)."""
    return [name for name, s in SERVICES.items() if s.default and s.enabled(config)]


def role_services(config: Config, role: str) -> list[str]:
    """The services of `--role` (ValueError naming what is wrong)."""
    if role == "all":
        return enabled_services(config)
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (known: all, {', '.join(ROLES)})")
    if role != "poller" and not config.bus.enabled:
        raise ValueError(f"role {role} needs the bus: set bus.url in nocsoc.yaml (nats://host:4222)")
    if role == "poller":
        return [n for n in ROLES[role] if SERVICES[n].enabled(config)
                and not (n == "traps" and config.bus.enabled)]
    if role in ("decoder", "detector") and config.bus.url and config.bus.url.startswith("kafka"):
        from nocsoc.bus.kafka_driver import NO_COORDINATION

        raise ValueError(f"role {role}: {NO_COORDINATION}")
    if role == "decoder" and config.traps.enabled:
        return ["bus_flows", "bus_traps"] if config.flows.enabled else ["bus_traps"]
    if role == "decoder":
        return ["bus_flows"]
    return list(ROLES[role])
