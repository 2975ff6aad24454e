"""A worker: runs some services in this process until told to stop: the one run loop.

`nocsoc run`'s worker processes and the foreground commands (`poll`, `flows listen`,
`logs listen`) all run here. A worker owns the sink its services write to, reloads the
inventory on SIGHUP (and records what changed, or why it refused), stops gracefully on
SIGTERM/SIGINT (components stopped, sinks flushed or spooled), writes its status file every few
seconds and every declared counter of its components to the sinks as self-metrics (one generic
path). It also stops when its parent supervisor disappears (a kill -9 of the supervisor leaves
no orphan running).

A failure to start for a configuration reason (an unresolvable secret, a port in use, a broken
inventory) exits with EXIT_CONFIG and names the reason in the status file: the supervisor does
not restart such a worker in a loop, and `nocsoc status` shows why.
"""

from __future__ import annotations

import errno
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nocsoc.component import Component, Counters, component_points
from nocsoc.context import Context
from nocsoc.errors import NocsocError
from nocsoc.inventory.model import Inventory
from nocsoc.schema import SINK, Point
from nocsoc.service.registry import SERVICES, ServiceContext
from nocsoc.service.signals import SignalFlags
from nocsoc.service.status import WorkerStatus, write_status
from nocsoc.sinks.base import Sink
from nocsoc.sinks.memory import DiscardSink

log = logging.getLogger("nocsoc.worker")

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2

# errors of bind() that a restart cannot fix: the operator must change the config or the host
_CONFIG_ERRNOS = {errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL, errno.EPERM}


class StartError(Exception):
    """A component could not start; `config` when only a configuration change can fix it."""

    def __init__(self, message: str, *, config: bool) -> None:
        super().__init__(message)
        self.config = config


def start_error(what: str, exc: BaseException) -> StartError:
    """One clear line for an exception raised while building or starting `what`."""
    if isinstance(exc, StartError):
        return exc
    if isinstance(exc, NocsocError):
        return StartError(f"{what}: {exc}", config=True)
    if isinstance(exc, OSError) and exc.errno in _CONFIG_ERRNOS:
        return StartError(f"{what}: {exc.strerror or os.strerror(exc.errno or 0).lower()}", config=True)
    if isinstance(exc, ValueError):  # bad values the config model let through (bind syntax, ...)
        return StartError(f"{what}: {exc}", config=True)
    return StartError(f"{what}: {type(exc).__name__}: {exc}", config=False)


@dataclass
class ReloadResult:
    time: float
    ok: bool
    message: str


@dataclass
class WorkerSpec:
    name: str
    ctx: Context
    services: list[str] = field(default_factory=list)
    duration_s: float | None = None
    watch_parent: bool = False
    sink_type: str | None = None  # `--sink TYPE`: only the sinks of this type
    # foreground commands build their own components (options override the config) ...
    build: Callable[[ServiceContext], list[Component]] | None = None
    # ... say where they listen once started, and report progress every `tick_s` seconds
    on_started: Callable[[Worker], None] | None = None
    on_tick: Callable[[Worker], None] | None = None
    tick_s: float = 1.0
    status_files: bool = True  # foreground commands write none: `nocsoc status` is for `run`
    discard_sink: bool = False  # `--no-sinks`: write nowhere
    extra_components: list[Component] = field(default_factory=list)


def _numbers(status: dict[str, Any]) -> dict[str, Any]:
    """The numeric values of a component's status, nested dicts flattened one level."""
    out: dict[str, Any] = {}
    for k, v in status.items():
        if isinstance(v, dict):
            out.update({ik: iv for ik, iv in v.items() if isinstance(iv, int | float)})
        elif isinstance(v, int | float) and not isinstance(v, bool):
            out[k] = v
    return out


def counter_status(sets: list[Counters]) -> dict[str, int | float]:
    """Every declared counter for `nocsoc status`: the first set unprefixed, the others
    prefixed by their tag values (`syslog_udp.received`)."""
    out: dict[str, int | float] = {}
    for i, c in enumerate(sets):
        prefix = "" if i == 0 or not c.tags else ".".join(c.tags.values()) + "."
        for k, v in c.snapshot().items():
            out[prefix + k] = v
    return out


class Worker(SignalFlags):
    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        super().__init__()
        self.components: list[Component] = []
        self.sink: Sink | None = None
        self.inventory: Inventory | None = None
        self.started = time.time()
        self.last_reload: ReloadResult | None = None
        self.start_error: StartError | None = None
        self._last_services: dict[str, dict[str, Any]] = {}

    # --- status and self-metrics -------------------------------------------------------------

    def _component_status(self, c: Component) -> dict[str, Any]:
        out: dict[str, Any] = {}
        snapshot = getattr(c, "status", None)
        if callable(snapshot):
            out.update(_numbers(snapshot()))
        sets = getattr(c, "counter_sets", None)
        if callable(sets):
            out.update(counter_status(list(sets())))
        return out

    def _status(self, state: str, error: str = "", config_error: bool = False) -> WorkerStatus:
        services: dict[str, dict[str, Any]] = {}
        for c in self.components:
            try:
                services[c.name] = self._component_status(c)
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
        reload = ({"time": self.last_reload.time, "ok": self.last_reload.ok,
                   "message": self.last_reload.message} if self.last_reload else {})
        return WorkerStatus(
            worker=self.spec.name, pid=os.getpid(), started=self.started, updated=time.time(),
            state=state, services=services, sinks=sinks,
            interval_s=self.spec.ctx.config.run.status_interval_s, error=error,
            config_error=config_error, reload=reload,
        )

    def _write_status(self, state: str, error: str = "", config_error: bool = False) -> None:
        if self.spec.status_files:
            write_status(self.spec.ctx.state_dir, self._status(state, error, config_error))

    def self_points(self) -> list[Point]:
        """Every component's declared counters (one generic path) and its other self-metrics,
        then one `sink` point per sink."""
        points: list[Point] = []
        now = time.time_ns()
        for c in self.components:
            try:
                points.extend(component_points(c, now))
            except Exception:  # a component's metrics must never stop the worker
                log.exception("self-metrics of %s failed", c.name)
        for s in self._sinks():
            points.append(SINK.point(now, {"sink": s.name, "worker": self.spec.name},
                                     {k: v for k, v in s.counters().items() if k in SINK.field_names}))
        return points

    def _self_metrics(self) -> None:
        assert self.sink is not None
        self.sink.write(self.self_points())

    def _sinks(self) -> list[Sink]:
        """Each configured sink on its own (a fanout's children): their counters, spool and
        self-metrics are only meaningful per sink, not summed."""
        if self.sink is None:
            return []
        children = getattr(self.sink, "sinks", None)
        return list(children) if isinstance(children, list) and children else [self.sink]

    # --- reload ----------------------------------------------------------------------------

    def reload_inventory(self) -> ReloadResult:
        """Apply a new inventory to every component (SIGHUP); a broken one is refused whole."""
        before = self.inventory
        try:
            inventory = self.spec.ctx.load_inventory()
        except Exception as exc:  # a broken inventory edit must not take the service down
            result = ReloadResult(time.time(), False, f"keeping the running inventory: {exc}")
            log.error("worker %s: reload refused, %s", self.spec.name, result.message)
            self.last_reload = result
            return result
        failed = []
        for c in self.components:
            reload = getattr(c, "reload", None)
            if callable(reload):
                try:
                    reload(inventory)
                except Exception as exc:  # one component's reload bug must not take the others down
                    log.exception("worker %s: %s could not apply the new inventory", self.spec.name, c.name)
                    failed.append(f"{c.name}: {exc}")
        self.inventory = inventory
        changed = describe_change(before, inventory)
        if failed:
            result = ReloadResult(time.time(), False, f"{changed}; not applied by {'; '.join(failed)}")
        else:
            result = ReloadResult(time.time(), True, changed)
        log.info("worker %s: inventory reloaded: %s", self.spec.name, result.message)
        self.last_reload = result
        return result

    # --- the loop --------------------------------------------------------------------------

    def _start(self) -> None:
        """Build the sink, read the inventory, build and start the components."""
        spec = self.spec
        try:
            self.sink = DiscardSink() if spec.discard_sink else spec.ctx.build_sink(spec.sink_type)
        except Exception as exc:
            raise start_error("sinks", exc) from None
        try:
            self.inventory = spec.ctx.load_inventory()
        except Exception as exc:
            raise start_error("inventory", exc) from None
        sc = ServiceContext(spec.ctx, self.sink, self.inventory)
        if spec.build is not None:
            try:
                self.components = spec.build(sc)
            except Exception as exc:
                raise start_error(spec.name, exc) from None
        for name in spec.services:
            try:
                self.components.append(SERVICES[name].build(sc))
            except Exception as exc:
                raise start_error(name, exc) from None
        self.components += spec.extra_components
        for c in self.components:
            try:
                c.start()
            except Exception as exc:
                raise start_error(c.name, exc) from None
            log.info("started %s", c.name)

    def run(self) -> int:
        spec = self.spec
        run_cfg = spec.ctx.config.run
        parent = os.getppid()
        try:
            self._start()
        except StartError as exc:
            if spec.status_files:  # a foreground command (flows/logs listen) prints it as its error
                log.error("worker %s cannot start: %s", spec.name, exc)
            self.start_error = exc
            self._write_status("failed", str(exc), exc.config)
            self._shutdown()
            return EXIT_CONFIG if exc.config else EXIT_FAILED
        deadline = time.monotonic() + spec.duration_s if spec.duration_s else None
        next_metrics = time.monotonic() + run_cfg.self_metrics_interval_s
        next_status = time.monotonic() + run_cfg.status_interval_s
        next_tick = time.monotonic() + spec.tick_s if spec.on_tick else None
        self._write_status("running")
        if spec.on_started is not None:
            spec.on_started(self)
        while not self._stop.is_set():
            now = time.monotonic()
            wake = min(t for t in (next_status, next_metrics, next_tick, deadline) if t is not None)
            self._wake.wait(max(0.0, wake - now))
            self._wake.clear()
            if self._stop.is_set():
                break
            if self._reload.is_set():
                self._reload.clear()
                self.reload_inventory()
                self._write_status("running")
            if spec.watch_parent and os.getppid() != parent:
                log.warning("supervisor %d is gone: stopping", parent)
                break
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            if now >= next_metrics:
                self._self_metrics()
                next_metrics = now + run_cfg.self_metrics_interval_s
            if next_tick is not None and now >= next_tick and spec.on_tick is not None:
                spec.on_tick(self)
                next_tick = now + spec.tick_s
            if now >= next_status:
                self._write_status("running")
                next_status = now + run_cfg.status_interval_s
        self._write_status("stopping")
        self._shutdown()
        self._write_status("stopped")
        return EXIT_OK

    def _shutdown(self) -> None:
        timeout = self.spec.ctx.config.run.stop_timeout_s
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


def describe_change(before: Inventory | None, after: Inventory) -> str:
    """What a reload changed, in one line (`devices +2 -1 ~3, links +1`)."""
    if before is None:
        return f"{len(after.devices)} devices"
    parts = []
    for what in ("devices", "sites", "snmp_profiles", "links"):
        old = {_key(x): x for x in getattr(before, what)}
        new = {_key(x): x for x in getattr(after, what)}
        added = len(new.keys() - old.keys())
        removed = len(old.keys() - new.keys())
        changed = sum(1 for k in new.keys() & old.keys() if new[k] != old[k])
        if added or removed or changed:
            parts.append(f"{what} +{added} -{removed} ~{changed}")
    return ", ".join(parts) if parts else f"no change ({len(after.devices)} devices)"


def _key(item: Any) -> str:
    name = getattr(item, "id", None) or getattr(item, "name", None)
    return str(name) if name is not None else repr(item)
