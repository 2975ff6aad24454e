"""The SNMP poller: every device its own task, its own deadline, its own counters.

Telegraf's inputs.snmp polls all agents of a plugin in one gather per interval, so one slow
agent delays the whole batch (influxdata/telegraf#3823) and per-target timing is invisible
(#12530). Here each device runs on its own schedule: a cycle is cancelled at its deadline (a
fraction of its interval), reported as an overrun, and the next cycle starts at the next slot of
the device's own grid, so late cycles never pile up and other devices never wait.

Use: `SnmpPoller(config, inventory, sink)`; `run_once()` for one cycle (the CLI's `--once`),
or `start()`/`stop()` for the service that `nocsoc run` supervises; `update_inventory()` on SIGHUP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nocsoc.aio import cancel_and_wait
from nocsoc.collectors.ifnames import EntityNames, InterfaceNames
from nocsoc.collectors.snmp import areas, profiles
from nocsoc.collectors.snmp import oids as O
from nocsoc.collectors.snmp.config import SnmpConfig
from nocsoc.collectors.snmp.mibs import interfaces, text
from nocsoc.collectors.snmp.mibs.sensors import entity_names
from nocsoc.collectors.snmp.rates import uptime_rebooted
from nocsoc.collectors.snmp.safety import safe_points
from nocsoc.collectors.snmp.session import (
    Column,
    Credentials,
    EnginePool,
    RowTime,
    SnmpConfigError,
    SnmpError,
    SnmpSession,
    Value,
    build_credentials,
)
from nocsoc.collectors.snmp.walkfile import WalkSession
from nocsoc.component import Counters
from nocsoc.inventory.model import Device, Inventory, SnmpProfile
from nocsoc.schema import DEVICE, DEVICE_EVENT, SNMP_POLL, SNMP_POLLER, Point
from nocsoc.shard import slots
from nocsoc.sinks.base import Sink

if TYPE_CHECKING:  # nats-py is imported only where pollers share the inventory
    from nocsoc.shard.member import ShardMember

log = logging.getLogger(__name__)

# What the areas report (Context.problem kinds) -> the device counter that counts it.
PROBLEM_COUNTERS = {
    "bad_rows": "bad_rows",
    "duplicate_ifname": "bad_rows",
    "area_errors": "bad_rows",
    "bad_values": "bad_rows",
    "unsafe_values": "unsafe_values",
}


@dataclass
class PollResult:
    """What one device's cycle did (the CLI's table row, the scheduling test's evidence)."""

    device: str
    site: str
    role: str
    address: str
    port: int
    ok: bool = False
    error: str | None = None
    error_kind: str | None = None  # timeout | auth | error | config | overrun
    started: float = 0.0  # wall clock
    duration_s: float = 0.0
    varbinds: int = 0
    requests: int = 0
    interfaces: int = 0
    points: int = 0
    sys_name: str = ""
    uptime_s: float | None = None
    rebooted: bool = False
    measurements: dict[str, int] = field(default_factory=dict)
    written: bool = False  # its points (snmp_poll included) went to the sink


class DevicePoller:
    """One device: its credentials, what it remembers between cycles, and one poll cycle."""

    def __init__(
        self,
        device: Device,
        profile: SnmpProfile | None,
        config: SnmpConfig,
        links: dict[str, str] | None = None,
        secrets_dir: Path | None = None,
        profiles_dir: Path | None = None,
    ) -> None:
        self.device = device
        self.profile = profile
        self.config = config
        self.links = links or {}
        self.secrets_dir = secrets_dir  # relative `file:` secret references are relative to it
        self.port = device.snmp_port or (profile.port if profile else 161)
        self.tags = {"device": device.name, "site": device.site, "role": device.role.value}
        self.counters = Counters(SNMP_POLL, self.tags, only=(
            "polls", "varbinds", "requests", "timeouts", "errors", "overruns", "bad_replies",
            *sorted(set(PROBLEM_COUNTERS.values()))))
        self.last_uptime: tuple[int, float] | None = None
        self.reachable: bool | None = None
        self.config_error: str | None = None  # why the device cannot be polled as configured
        self.if_names: dict[int, str] = {}  # ifIndex -> name, published for the flow collector
        self.entity_names: dict[int, str] = {}  # entPhysicalIndex -> name, for the trap receiver
        self.absent: dict[str, int] = {}
        self.areas = areas.selected(config.areas)
        self.area_state: dict[str, Any] = {}
        self.slow_tables: dict[str, Column] | None = None
        self.system = areas.System()
        self.profiles_dir = profiles_dir
        self.matched: profiles.Match | None = None
        self._logged: set[str] = set()
        self.logged_error: str | None = None  # kind of the failure last logged (None: answering)
        self.cycle = 0
        self.last: PollResult | None = None
        self._credentials: Credentials | None = None

    @property
    def interval_s(self) -> float:
        return self.device.poll_interval_s or self.config.interval_s

    def _fitted_profile(self) -> SnmpProfile:
        """The profile with its timeout shortened, if need be, so that all tries of one request
        fit in half the cycle's deadline: a silent device then fails as `unreachable` (a
        reachable=0 point, an event) within its cycle instead of only overrunning it."""
        assert self.profile is not None
        budget = self.interval_s * self.config.deadline_fraction / 2
        tries = self.profile.retries + 1
        if not self.config.fit_timeouts or self.profile.timeout_s * tries <= budget:
            return self.profile
        return self.profile.model_copy(update={"timeout_s": max(0.1, budget / tries)})

    def _result(self) -> PollResult:
        d = self.device
        return PollResult(d.name, d.site, d.role.value, d.address, self.port)

    def _wanted(self, oids: Iterable[str]) -> list[str]:
        """Drop OIDs found absent recently; ask again every `absent_reprobe_cycles` cycles."""
        every = self.config.absent_reprobe_cycles
        return [o for o in oids if o not in self.absent or (self.cycle - self.absent[o]) >= every]

    def _mark_absent(self, asked: Iterable[str], present: Iterable[str]) -> None:
        got = set(present)
        for o in asked:
            if o in got:
                self.absent.pop(o, None)
            elif o not in self.absent or (self.cycle - self.absent[o]) >= self.config.absent_reprobe_cycles:
                self.absent[o] = self.cycle

    async def poll(self, engines: EnginePool, rates: bool = True) -> tuple[PollResult, list[Point]]:
        """One cycle. Never raises for a device problem: the result says what went wrong."""
        result = self._result()
        result.started = time.time()
        t0 = time.perf_counter()
        self.cycle += 1
        session: SnmpSession | None = None
        points: list[Point] = []
        try:
            if self.profile is None:
                raise SnmpConfigError(
                    f"{self.device.name}: SNMP profile {self.device.profile!r} is not in the inventory"
                )
            if self._credentials is None:
                try:
                    self._credentials = build_credentials(self.profile, base_dir=self.secrets_dir)
                except Exception as exc:  # a missing env var / unreadable file: name it, poll the rest
                    raise SnmpConfigError(f"{self.device.name}: profile {self.profile.name}: {exc}") from None
            lean = self.config.v2c_client == "lean" and self._credentials.community is not None
            session = SnmpSession(
                # The lean v2c client needs no pysnmp engine: creating one costs ~0.2 s of CPU
                # that holds up every other device's first cycle.
                None if lean else engines.get(self._credentials.engine_key),
                self.device.name,
                self.device.address,
                self.port,
                self._fitted_profile(),
                self._credentials,
                max_varbinds=self.config.max_varbinds_per_request,
                received=engines.received,
                lean_v2c=self.config.v2c_client == "lean",
            )
            points = await self._collect(session, result, rates)
            result.ok = True
        except SnmpError as exc:
            result.error, result.error_kind = str(exc), exc.kind
            self.counters.add("errors")
            if exc.kind == "malformed":
                self.counters.add("bad_replies")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or a malformed answer must not stop the other devices
            log.exception("%s: poll failed", self.device.name)
            result.error, result.error_kind = f"{self.device.name}: {type(exc).__name__}: {exc}", "error"
            self.counters.add("errors")
        finally:
            if session is not None:
                session.close()
                result.varbinds, result.requests = session.stats.varbinds, session.stats.requests
                self.counters.add("varbinds", session.stats.varbinds)
                self.counters.add("requests", session.stats.requests)
                self.counters.add("timeouts", session.stats.timeouts)
                if getattr(session, "v2c", None) is not None and session.v2c is not None:
                    self.counters.add("bad_replies", session.v2c.malformed)
                if session.stats.truncated:
                    self.counters.add("bad_rows", session.stats.truncated)
            result.duration_s = time.perf_counter() - t0
            self.counters.add("polls")
        now_ns = time.time_ns()
        if result.error_kind == "config":
            # not polled at all: say so once, and leave reachability unknown (no false outage)
            if self.reachable is not None or self.config_error != result.error:
                points = [DEVICE_EVENT.point(now_ns, {**self.tags, "event": "config_error"},
                                             {"message": result.error or "configuration error"})]
                if self.config_error != result.error:
                    log.error("%s", result.error)
            self.reachable, self.config_error = None, result.error
            result.points = len(points)
            self.last = result
            return result, points
        self.config_error = None
        if not result.ok:
            points = [DEVICE.point(now_ns, {**self.tags, "vendor": self.device.vendor}, {"reachable": 0})]
            if self.reachable is not False:
                points.append(
                    DEVICE_EVENT.point(
                        now_ns,
                        {**self.tags, "event": "unreachable"},
                        {"message": result.error or "unreachable"},
                    )
                )
            self.reachable = False
        else:
            if self.reachable is False:
                points.append(
                    DEVICE_EVENT.point(
                        now_ns,
                        {**self.tags, "event": "recovered"},
                        {"message": f"{self.device.name} answers again", "uptime_s": result.uptime_s},
                    )
                )
            self.reachable = True
        points.append(self.poll_point(result, now_ns))
        result.points = len(points)
        for p in points:
            result.measurements[p.measurement] = result.measurements.get(p.measurement, 0) + 1
        self.last = result
        return result, points

    def poll_point(self, result: PollResult, time_ns: int) -> Point:
        """snmp_poll self-metric: this cycle's duration and reachability, cumulative counters."""
        c = self.counters.snapshot()
        return SNMP_POLL.point(
            time_ns,
            self.tags,
            {
                "reachable": int(result.ok),
                "duration_s": result.duration_s,
                "varbinds": c["varbinds"],
                "requests": c["requests"],
                "timeouts": c["timeouts"],
                "errors": c["errors"],
                "overruns": c["overruns"],
                "bad_rows": c["bad_rows"],
                "unsafe_values": c["unsafe_values"],
                "bad_replies": c["bad_replies"],
            },
        )

    def overrun_points(self, result: PollResult, time_ns: int) -> list[Point]:
        """A cycle cancelled at its deadline: counted, and a poll_overrun event."""
        self.counters.add("overruns")
        self.counters.add("polls")
        result.error_kind = "overrun"
        result.error = (
            f"{self.device.name}: poll cycle overran its deadline "
            f"({self.interval_s * self.config.deadline_fraction:g}s of a {self.interval_s:g}s interval)"
        )
        points = [
            DEVICE_EVENT.point(time_ns, {**self.tags, "event": "poll_overrun"}, {"message": result.error}),
            self.poll_point(result, time_ns),
        ]
        self.last = result
        return points

    def _learn(self, scalars: Mapping[str, Value]) -> None:
        """Remember what the device says it is; match its profile when that changes."""
        oid = text(scalars.get(O.SYS_OBJECT_ID)).lstrip(".")
        descr = text(scalars.get(O.SYS_DESCR))
        if (oid, descr) != (self.system.object_id, self.system.descr) or self.matched is None:
            self.system = areas.System(oid, descr, text(scalars.get(O.SYS_NAME)))
            self.matched = profiles.catalog(self.profiles_dir).match(oid, descr)

    def _problems(self, ctx: areas.Context) -> None:
        """Count the rows and values the areas skipped or repaired; log each kind once per device."""
        seen: dict[str, list[str]] = {}
        for kind, message in ctx.problems:
            seen.setdefault(kind, []).append(message)
        for kind, messages in seen.items():
            self.counters.add(PROBLEM_COUNTERS.get(kind, "bad_rows"), len(messages))
            if kind not in self._logged:
                self._logged.add(kind)
                more = ""
                if len(messages) > 1:
                    more = f" (+{len(messages) - 1} more this cycle; logged once per device)"
                log.warning("%s: %s%s", self.device.name, messages[0], more)

    async def _collect(
        self, session: SnmpSession | WalkSession, result: PollResult, rates: bool
    ) -> list[Point]:
        """One cycle's reads and points: every area of the registry that applies to this device."""
        wall = time.time()
        time_ns = int(wall * 1e9)
        ctx = areas.Context(
            dict(self.tags), time_ns, self.cycle, rates, self.links, self.system, self.matched
        )
        state = self.area_state
        # One GET: the system group (what the device is) and the scalars of the areas that apply so
        # far. The profile is matched on its answer, before any table is walked, so the first cycle
        # already reads the vendor tables (profiles are tables: they add no scalar to this GET).
        before = [a for a in self.areas if a.applies(ctx)]
        for a in before:
            state.setdefault(a.name, a.new_state())
        area_scalars = self._wanted(dict.fromkeys(o for a in before for o in a.scalars(ctx, state[a.name])))
        scalars: dict[str, Value] = await session.get([*O.SYSTEM_SCALARS, *area_scalars])
        self._mark_absent(area_scalars, scalars)
        self._learn(scalars)
        ctx.system, ctx.profile = self.system, self.matched
        active = [a for a in self.areas if a.applies(ctx)]
        for a in active:
            state.setdefault(a.name, a.new_state())
        result.sys_name = text(scalars.get(O.SYS_NAME))
        points: list[Point] = []

        uptime = scalars.get(O.SYS_UPTIME)
        rebooted = False
        if isinstance(uptime, int):
            result.uptime_s = uptime / 100
            if self.last_uptime is not None and uptime_rebooted(
                self.last_uptime[0], uptime, wall - self.last_uptime[1]
            ):
                rebooted = True
                self.area_state = state = {a.name: a.new_state() for a in active}
                self.slow_tables = None
                points.append(
                    DEVICE_EVENT.point(
                        time_ns,
                        {**self.tags, "event": "device_reboot"},
                        {
                            "uptime_s": uptime / 100,
                            "message": f"{self.device.name} rebooted: sysUpTime went back from "
                            f"{self.last_uptime[0] / 100:.0f}s to {uptime / 100:.0f}s; no rates this cycle",
                        },
                    )
                )
            self.last_uptime = (uptime, wall)
        result.rebooted = rebooted
        ctx.rates = rates and not rebooted

        # Timed areas (interfaces) walk on their own, each request carrying sysUpTime (the agent's
        # clock) for the rates; the other areas' tables follow in one multi-column walk.
        tables: dict[str, Column] = {}
        timed_cols = self._wanted(
            dict.fromkeys(o for a in active if a.timed for o in a.columns(ctx, state[a.name]))
        )
        times: dict[str, dict[tuple[int, ...], RowTime]] = {c: {} for c in timed_cols}
        if timed_cols:
            tables.update(await session.bulk_columns(timed_cols, times=times, clock=True))
            # marked now: a cycle cancelled at its deadline later still learns what is absent
            self._mark_absent(timed_cols, (c for c in timed_cols if tables.get(c)))
        cols = self._wanted(
            dict.fromkeys(o for a in active if not a.timed for o in a.columns(ctx, state[a.name]))
        )
        slow = list(dict.fromkeys(o for a in active for o in a.slow_columns(ctx, state[a.name])))
        due = bool(slow) and (
            self.slow_tables is None or self.cycle % self.config.absent_reprobe_cycles == 0
            or any(c not in self.slow_tables for c in slow)
        )
        walk = cols + ([c for c in slow if c not in cols] if due else [])
        if walk:
            tables.update(await session.bulk_columns(walk))
            self._mark_absent(cols, (c for c in cols if tables.get(c)))
        if due:
            self.slow_tables = {c: tables.get(c, {}) for c in slow}
        elif self.slow_tables:
            for c, rows in self.slow_tables.items():
                tables.setdefault(c, rows)
        fetched = areas.Fetched(scalars, tables, times)
        for a in active:
            more = [c for c in a.followup(ctx, state[a.name], fetched) if c not in tables]
            if more:
                if a.timed:
                    times.update({c: {} for c in more})
                    tables.update(await session.bulk_columns(more, times=times, clock=True))
                else:
                    tables.update(await session.bulk_columns(more))
        self._mark_absent(timed_cols + cols, (c for c, rows in tables.items() if rows))

        health: dict[str, object] = {}
        for a in active:
            try:
                out = a.build(ctx, state[a.name], fetched)
            except Exception as exc:  # one area's bug or a device's odd data must not fail the device
                ctx.problem("area_errors", f"area {a.name}: {type(exc).__name__}: {exc}")
                log.debug("%s: area %s failed", self.device.name, a.name, exc_info=True)
                continue
            points += out.points
            health.update(out.device)
            result.interfaces += out.interfaces
        if ctx.interfaces:
            self.if_names = dict(ctx.interfaces)
        if tables.get(O.ENT_PHYSICAL_NAME) or tables.get(O.ENT_PHYSICAL_DESCR):
            self.entity_names = entity_names(tables)
        vendor = self.device.vendor or (self.matched.profile.vendor if self.matched else "")
        points.insert(
            0,
            DEVICE.point(
                time_ns,
                {**self.tags, "vendor": vendor},
                {"reachable": 1, "uptime_s": result.uptime_s, **health},
            ),
        )
        points, repaired = safe_points(points)
        if repaired:
            ctx.problem("unsafe_values", f"{repaired} tag or string values line protocol cannot carry "
                        "(newline, tab, trailing backslash) were made safe")
        self._problems(ctx)
        return points


def links_by_device(inventory: Inventory) -> dict[str, dict[str, str]]:
    """{device: {interface: link name}} from the inventory's links."""
    out: dict[str, dict[str, str]] = {}
    for link in inventory.links:
        for end in (link.a, link.b):
            out.setdefault(end.device, {})[end.interface] = link.name
    return out


class SnmpPoller:
    """The SNMP collector component (see the module docstring)."""

    name = "snmp"

    def __init__(
        self,
        config: SnmpConfig,
        inventory: Inventory,
        sink: Sink,
        devices: Sequence[str] | None = None,
        sites: Sequence[str] | None = None,
        on_result: Callable[[PollResult], None] | None = None,
        secrets_dir: Path | None = None,
        ifnames: InterfaceNames | None = None,
        shard: ShardMember | None = None,
        entnames: EntityNames | None = None,
    ) -> None:
        """`devices`/`sites` limit polling to those names/sites (kept across inventory reloads);
        `on_result` sees every cycle's result (status displays, tests), called on the poller's
        thread; `secrets_dir` is where relative `file:` secret references start (the directory
        of nocsoc.yaml; else the working directory); `ifnames` receives each device's interface
        names for the flow collector, `entnames` its ENTITY-MIB names for the trap receiver;
        `shard` (when pollers share the inventory through the bus) says at each cycle whether
        this poller polls a device (nocsoc.shard)."""
        self.config = config
        self.shard = shard
        self.ifnames = ifnames
        self.entnames = entnames
        self.sink = sink
        self.on_result = on_result
        self.secrets_dir = secrets_dir
        self.counters = Counters(SNMP_POLLER)
        self._profiles_dir = profiles.user_dir(config.profiles_dir, secrets_dir)
        self._only = set(devices) if devices else None
        self._sites = set(sites) if sites else None
        self._pollers: dict[str, DevicePoller] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        # stop() before the thread has its loop (a slow start): the thread sees it once it has
        self._stop_requested = threading.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._semaphore: asyncio.Semaphore | None = None
        self._engines: EnginePool | None = None
        self._reconcile(inventory)

    # ---- inventory -------------------------------------------------------------------------
    def _reconcile(self, inventory: Inventory) -> set[str]:
        """Rebuild device pollers from an inventory; keep the state of unchanged devices.

        Returns the names whose poller was (re)built, so the service restarts only those tasks."""
        profiles = {p.name: p for p in inventory.snmp_profiles}
        links = links_by_device(inventory)
        wanted = {
            d.name: d
            for d in inventory.devices
            if (self._only is None or d.name in self._only) and (self._sites is None or d.site in self._sites)
        }
        changed: set[str] = set()
        with self._lock:
            for name in list(self._pollers):
                if name not in wanted:
                    del self._pollers[name]
                    changed.add(name)
            for name, device in wanted.items():
                profile = profiles.get(device.profile)
                old = self._pollers.get(name)
                if (
                    old is not None
                    and old.device == device
                    and old.profile == profile
                    and old.links == links.get(name, {})
                ):
                    continue
                self._pollers[name] = DevicePoller(
                    device, profile, self.config, links.get(name, {}), self.secrets_dir, self._profiles_dir
                )
                changed.add(name)
        return changed

    def update_inventory(self, inventory: Inventory) -> None:
        """Apply a new inventory (SIGHUP): added devices start, removed stop, changed restart."""
        changed = self._reconcile(inventory)
        loop = self._loop
        if loop is not None and self._thread is not None and self._thread.is_alive():
            loop.call_soon_threadsafe(self._restart_tasks, changed)

    @property
    def devices(self) -> list[str]:
        with self._lock:
            return list(self._pollers)

    def prepare(self) -> None:
        """Read the device profiles (shipped + `snmp.profiles_dir`) and import the MIB areas, in
        start()/run_once() and not when built (construction does no I/O), and before the first
        device's cycle: parsing every profile blocks the event loop (~0.3 s), and a broken user
        profile is a config error to report at start. Cached: calling it again costs nothing."""
        profiles.catalog(self._profiles_dir)
        areas.load()

    # ---- one cycle ---------------------------------------------------------------------------
    def run_once(self, samples: int = 1, gap_s: float | None = None) -> list[PollResult]:
        """Poll every device `samples` times, `gap_s` apart; write the last sample's points.

        Rates need two readings: the CLI's `--once` takes samples=2. A device that failed the
        first sample is not asked again (its error is the result), so a dead device costs one
        timeout, not two.
        """
        self.prepare()
        return asyncio.run(self._run_once(samples, self.config.once_gap_s if gap_s is None else gap_s))

    async def _run_once(self, samples: int, gap_s: float) -> list[PollResult]:
        engines = EnginePool()
        self._semaphore = asyncio.Semaphore(self.config.max_concurrency)
        try:
            with self._lock:
                pollers = list(self._pollers.values())
            results: dict[str, tuple[PollResult, list[Point]]] = {}
            for sample in range(samples):
                last = sample == samples - 1
                if sample:
                    await asyncio.sleep(gap_s)
                todo = [p for p in pollers if p.device.name not in results or results[p.device.name][0].ok]
                outs = await asyncio.gather(
                    *(self._poll_one(engines, p, write=last, rates=True) for p in todo)
                )
                for r in outs:
                    results[r[0].device] = r
                    if not last and not r[0].ok and r[1]:  # final for this device: write it now
                        self.sink.write(r[1])
                        self.counters.add("points", len(r[1]))
                        r[0].written = True
            return [results[p.device.name][0] for p in pollers]
        finally:
            engines.close()

    async def _poll_one(
        self,
        engines: EnginePool,
        poller: DevicePoller,
        write: bool = True,
        rates: bool = True,
        slot: float | None = None,
    ) -> tuple[PollResult, list[Point]]:
        """One cycle with its deadline counted from `slot` (the scheduled start, loop time), so a
        cycle that began late because the loop was busy does not also lose the next slot."""
        assert self._semaphore is not None
        loop = asyncio.get_running_loop()
        deadline = poller.interval_s * self.config.deadline_fraction
        deadline_at = (loop.time() if slot is None else slot) + deadline
        async with self._semaphore:
            started = time.time()
            try:
                async with asyncio.timeout_at(deadline_at):
                    result, points = await poller.poll(engines, rates=rates)
            except TimeoutError:
                result = poller._result()
                result.started, result.duration_s = started, deadline
                points = poller.overrun_points(result, time.time_ns())
                self.counters.add("overruns")
        self.counters.add("cycles")
        if result.error_kind == "config":
            self.counters.add("config_errors")  # not a poll: logged once by the device poller
        else:
            self.counters.add("polls_ok" if result.ok else "polls_failed")
        self.counters.add("varbinds", result.varbinds)
        self.counters.add("requests", result.requests)
        if result.error_kind == "timeout":
            self.counters.add("timeouts")
        elif result.error_kind == "auth":
            self.counters.add("auth_errors")
        elif result.error_kind in ("error", "malformed"):
            self.counters.add("errors")
        if result.rebooted:
            self.counters.add("reboots")
        if result.error and result.error_kind != "config":
            # once per device and kind of failure: a device down for a day logs one line, not 1,440
            if poller.logged_error != result.error_kind:
                log.warning("%s", result.error)
                poller.logged_error = result.error_kind
            else:
                log.debug("%s", result.error)
        else:
            poller.logged_error = None
        if write and points:
            self.sink.write(points)
            self.counters.add("points", len(points))
            result.written = True
        if self.ifnames is not None and result.ok and poller.if_names:
            self.ifnames.publish(poller.device.name, poller.if_names)
        if self.entnames is not None and result.ok and poller.entity_names:
            self.entnames.publish(poller.device.name, poller.entity_names)
        if self.on_result is not None:
            self.on_result(result)
        return result, points

    # ---- service -----------------------------------------------------------------------------
    def start(self) -> None:
        """Poll every device on its own schedule in a background thread until stop()."""
        if self._thread is not None and self._thread.is_alive():
            return
        self.prepare()
        self._stop_requested.clear()
        started = threading.Event()
        thread = self._thread = threading.Thread(
            target=self._thread_main, args=(started,), name="snmp-poller", daemon=True
        )
        thread.start()
        # until the devices' tasks exist (or the thread died): no fixed limit, which a loaded
        # machine can overrun and so return with the loop not yet there
        while not started.wait(0.1) and thread.is_alive():
            pass

    def stop(self, timeout: float = 10.0) -> None:
        self._stop_requested.set()  # first: a thread still starting up stops once it is up
        loop, event = self._loop, self._stop_event
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(event.set)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _thread_main(self, started: threading.Event) -> None:
        asyncio.run(self._service(started))

    async def _service(self, started: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        self._semaphore = asyncio.Semaphore(self.config.max_concurrency)
        self._engines = EnginePool()
        if self.shard is not None:
            await self.shard.start(self.devices)
        self._restart_tasks(set(self.devices))
        started.set()
        if self._stop_requested.is_set():  # stop() came before the loop and event were there
            self._stop_event.set()
        try:
            await self._stop_event.wait()
        finally:
            tasks = list(self._tasks.values())
            self._tasks.clear()  # a device loop ends once it is no longer its device's task
            await asyncio.gather(*(cancel_and_wait(t) for t in tasks))
            if self.shard is not None:
                await self.shard.stop()
            self._engines.close()
            self._loop = None

    def _restart_tasks(self, names: set[str]) -> None:
        with self._lock:
            pollers = dict(self._pollers)
        if self.shard is not None:
            self.shard.set_keys(pollers)
        for name in names:
            task = self._tasks.pop(name, None)
            if task is not None:
                task.cancel()
            if name in pollers:
                run = self._device_loop if self.shard is None else self._shared_device_loop
                self._tasks[name] = asyncio.get_running_loop().create_task(
                    run(pollers[name]), name=f"snmp:{name}"
                )

    async def _device_loop(self, poller: DevicePoller) -> None:
        loop = asyncio.get_running_loop()
        interval = poller.interval_s
        # stable per device, spreads the load over the interval
        offset = slots.offset(poller.device.name, interval, self.config.spread_start)
        next_start = loop.time() + offset
        assert self._engines is not None
        me = asyncio.current_task()
        while self._tasks.get(poller.device.name) is me:
            await asyncio.sleep(max(0.0, next_start - loop.time()))
            await self._poll_one(self._engines, poller, slot=next_start)
            next_start += interval
            now = loop.time()
            if now > next_start:  # overran: skip the missed slots, never queue them up
                missed = int((now - next_start) // interval) + 1
                next_start += missed * interval

    async def _shared_device_loop(self, poller: DevicePoller) -> None:
        """A device's loop when pollers share the inventory: at each cycle of the wall-clock
        grid that every poller shares, poll only if this poller owns the device and wins its
        lease for the cycle. A membership change wakes the loop: a device just taken over from a
        dead poller is then polled late in its current cycle instead of skipped."""
        shard = self.shard
        assert shard is not None and self._engines is not None
        loop = asyncio.get_running_loop()
        name, interval = poller.device.name, poller.interval_s
        offset = slots.offset(name, interval, self.config.spread_start)
        catchup = interval * shard.config.catchup_fraction
        if interval >= shard.config.lease_ttl_s:
            log.error("%s: poll interval %gs is not shorter than snmp.shard.lease_ttl_s (%gs): its "
                      "lease can expire within a cycle and another poller poll that cycle again",
                      name, interval, shard.config.lease_ttl_s)
        handled: float | None = None  # the cycle this poller tried already
        gained = False  # woken by a membership change that gave this device over from a dead poller
        me = asyncio.current_task()
        while self._tasks.get(name) is me:
            changed = shard.changed
            now = time.time()
            slot = slots.slot_start(now, interval, offset)
            if slot != handled and shard.owns(name) and now - slot <= catchup:
                handled = slot
                if await shard.claim(name, slot, until=slot + catchup):
                    if gained:
                        shard.counters.add("catchup_polls")
                    # the cycle's deadline counts from its slot on the shared grid
                    await self._poll_one(self._engines, poller, slot=loop.time() - (time.time() - slot))
            owned = shard.owns(name)
            try:
                await asyncio.wait_for(changed.wait(), max(0.0, slot + interval - time.time()))
                gained = not owned and shard.owns(name) and shard.taken_over(name)
            except TimeoutError:
                gained = False

    # ---- self-metrics ------------------------------------------------------------------------
    def self_points(self) -> list[Point]:
        """snmp_poll of the devices whose last cycle's point was not written yet.

        Every cycle writes its device's snmp_poll point itself (duration and reachability belong
        to that cycle); restating it here gave `poll --once` two points per device."""
        now = time.time_ns()
        with self._lock:
            pollers = list(self._pollers.values())
        return [p.poll_point(p.last, now) for p in pollers if p.last is not None and not p.last.written]

    def reload(self, inventory: Inventory) -> None:
        """The Component protocol's name for a SIGHUP reload: the inventory, and the device
        profiles read again (a broken profile keeps the previous ones, and says why)."""
        try:
            catalog = profiles.reload(self._profiles_dir)
        except profiles.ProfileError as exc:
            log.error("SNMP device profiles not reloaded, the previous ones stay: %s", exc)
        else:
            with self._lock:
                for p in self._pollers.values():
                    if p.system.object_id:
                        p.matched = catalog.match(p.system.object_id, p.system.descr)
        self.update_inventory(inventory)

    def counter_sets(self) -> list[Counters]:
        """The poller's counters, with what the devices' counter trackers saw folded in."""
        with self._lock:
            pollers = list(self._pollers.values())
        stats = [
            s.counters.stats
            for p in pollers
            if isinstance(s := p.area_state.get("interfaces"), interfaces.InterfaceState)
        ]
        self.counters.set("devices", len(pollers))
        self.counters.set("counter_wraps", sum(s.wraps for s in stats))
        self.counters.set("counter_resets", sum(s.resets for s in stats))
        self.counters.set("implausible_rates", sum(s.implausible for s in stats))
        return [self.counters] if self.shard is None else [self.counters, self.shard.counters]

    def status(self) -> dict[str, int | float]:
        """Counters for `nocsoc status`: cycles, polls ok/failed, varbinds, timeouts, devices."""
        return self.counter_sets()[0].snapshot()

    def results(self) -> list[PollResult]:
        """The last cycle's result of each device (for status displays)."""
        with self._lock:
            return [p.last for p in self._pollers.values() if p.last is not None]
