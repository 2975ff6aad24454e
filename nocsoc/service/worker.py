"""A worker: runs some services in this process until told to stop.

It owns the sinks its services write to, reloads the inventory on SIGHUP, stops gracefully on
SIGTERM/SIGINT (components stopped, sinks flushed or spooled), writes its status file every few
seconds and its services' counters to the sinks as self-metrics. It also stops when its parent
supervisor disappears (a kill -9 of the supervisor leaves no orphan running).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nocsoc.component import Component
from nocsoc.config import Config
from nocsoc.inventory.model import Inventory
from nocsoc.schema import SINK
from nocsoc.service.registry import SERVICES, ServiceContext
from nocsoc.service.signals import SignalFlags
from nocsoc.service.status import WorkerStatus, write_status
from nocsoc.sinks.base import Sink

log = logging.getLogger("nocsoc.worker")


@dataclass
class WorkerSpec:
    name: str
    services: list[str]
    config: Config
    base_dir: Path
    state_dir: Path
    load_inventory: Callable[[], Inventory]
    build_sink: Callable[[], Sink]
    duration_s: float | None = None
    watch_parent: bool = False
    extra_components: list[Component] = field(default_factory=list)


def _numbers(status: dict[str, Any]) -> dict[str, Any]:
    """The numeric counters of a component's status, nested dicts flattened one level."""
    out: dict[str, Any] = {}
    for k, v in status.items():
        if isinstance(v, dict):
            out.update({ik: iv for ik, iv in v.items() if isinstance(iv, int | float)})
        elif isinstance(v, int | float) and not isinstance(v, bool):
            out[k] = v
    return out


class Worker(SignalFlags):
    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        super().__init__()
        self.components: list[Component] = []
        self.sink: Sink | None = None
        self.started = time.time()
        self.reloads = 0
        self._last_services: dict[str, dict[str, Any]] = {}

    def _status(self, state: str, error: str = "") -> WorkerStatus:
        services: dict[str, dict[str, Any]] = {}
        for c in self.components:
            snapshot = getattr(c, "status", None)
            try:
                services[c.name] = _numbers(snapshot()) if callable(snapshot) else {}
            except Exception as exc:
                # a stopped component may no longer answer (closed sockets): its last answer is
                # still the truth about what it did, and `nocsoc status` after a stop shows it
                last = self._last_services.get(c.name)
                services[c.name] = dict(last) if last is not None else {"status_error": str(exc)}
                if last is None or state == "running":
                    log.warning("status of %s failed: %s", c.name, exc)
            else:
                self._last_services[c.name] = services[c.name]
        sinks = {s.name: s.counters() for s in self._sinks()}
        return WorkerStatus(
            worker=self.spec.name, pid=os.getpid(), started=self.started, updated=time.time(),
            state=state, services=services, sinks=sinks,
            interval_s=self.spec.config.run.status_interval_s, error=error,
        )

    def _self_metrics(self) -> None:
        assert self.sink is not None
        points = []
        for c in self.components:
            try:
                points.extend(c.self_points())
            except Exception:  # a component's metrics must never stop the worker
                log.exception("self-metrics of %s failed", c.name)
        now = time.time_ns()
        for s in self._sinks():
            points.append(SINK.point(now, {"sink": s.name, "worker": self.spec.name},
                                     {k: v for k, v in s.counters().items() if k in SINK.field_names}))
        self.sink.write(points)

    def _sinks(self) -> list[Sink]:
        """Each configured sink on its own (a fanout's children): their counters, spool and
        self-metrics are only meaningful per sink, not summed."""
        if self.sink is None:
            return []
        children = getattr(self.sink, "sinks", None)
        return list(children) if isinstance(children, list) and children else [self.sink]

    def _reload_inventory(self) -> None:
        try:
            inventory = self.spec.load_inventory()
        except Exception as exc:  # a broken inventory edit must not take the service down
            log.error("worker %s: reload refused, keeping the running inventory: %s", self.spec.name, exc)
            return
        for c in self.components:
            reload = getattr(c, "reload", None)
            if callable(reload):
                try:
                    reload(inventory)
                except Exception:  # one component's reload bug must not take the others down
                    log.exception("worker %s: %s could not apply the new inventory", self.spec.name, c.name)
        self.reloads += 1
        log.info("worker %s: inventory reloaded (%d devices)", self.spec.name, len(inventory.devices))

    def run(self) -> int:
        spec = self.spec
        run_cfg = spec.config.run
        parent = os.getppid()
        try:
            self.sink = spec.build_sink()
            inventory = spec.load_inventory()
            ctx = ServiceContext(spec.config, spec.base_dir, spec.state_dir, inventory, self.sink)
            self.components = [SERVICES[s](ctx) for s in spec.services] + list(spec.extra_components)
            for c in self.components:
                c.start()
                log.info("started %s", c.name)
        except Exception as exc:
            log.error("worker %s failed to start: %s", spec.name, exc)
            write_status(spec.state_dir, self._status("failed", str(exc)))
            self._shutdown()
            return 1
        deadline = time.monotonic() + spec.duration_s if spec.duration_s else None
        next_metrics = time.monotonic() + run_cfg.self_metrics_interval_s
        write_status(spec.state_dir, self._status("running"))
        while not self._stop.is_set():
            timeout = run_cfg.status_interval_s
            if deadline is not None:
                timeout = max(0.0, min(timeout, deadline - time.monotonic()))
            self._stop.wait(timeout)
            if self._reload.is_set():
                self._reload.clear()
                self._reload_inventory()
            if spec.watch_parent and os.getppid() != parent:
                log.warning("supervisor %d is gone: stopping", parent)
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            if time.monotonic() >= next_metrics:
                self._self_metrics()
                next_metrics = time.monotonic() + run_cfg.self_metrics_interval_s
            write_status(spec.state_dir, self._status("running"))
        write_status(spec.state_dir, self._status("stopping"))
        self._shutdown()
        write_status(spec.state_dir, self._status("stopped"))
        return 0

    def _shutdown(self) -> None:
        timeout = self.spec.config.run.stop_timeout_s
        for c in reversed(self.components):
            try:
                c.stop(timeout)
            except Exception:
                log.exception("stopping %s failed", c.name)
        if self.sink is not None:
            try:
                if self.components:
                    self._self_metrics()
            finally:
                # close() flushes, one attempt per batch: with the database down the points go to
                # the spool at once instead of retrying past the supervisor's stop budget (which
                # would kill this process with them still in memory)
                self.sink.close()
