"""The whole simulated backbone as one component: SNMP agents, flow export and syslog, with a
ground-truth manifest of everything it injected.

Start/stop like every nocsoc component: `start()` binds every socket (refusing any address
outside 127.0.0.0/8) and runs an asyncio loop in a thread; each tick it exports the flows and
syslog lines of the tick that just ended. `manifest()` is what the tests and the demo summary
compare nocsoc's findings against.
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nocsoc.inventory.model import Inventory
from nocsoc.schema import Point
from nocsoc.simulate.clock import SimClock
from nocsoc.simulate.events import Script
from nocsoc.simulate.flows import FlowExporter, exporters
from nocsoc.simulate.lab import Lab
from nocsoc.simulate.netguard import parse_endpoint, require_loopback
from nocsoc.simulate.snmp_agent import AgentPool, agent_specs
from nocsoc.simulate.syslog import Line, SyslogEmitter
from nocsoc.simulate.tally import Tally

MANIFEST_VERSION = 1


class SimulateConfig(BaseModel):
    """How to run the simulation. Every address is checked against 127.0.0.0/8 at start."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 1
    speed: float = Field(default=1.0, gt=0, le=100_000)
    duration_s: float | None = Field(default=None, gt=0)
    tick_s: float = Field(default=1.0, ge=0.05, le=60)
    start_time_of_day: str = Field(default="08:00", pattern=r"^\d{2}:\d{2}$")
    anchor: float | None = None  # real epoch second of tick 0 (default: now, rounded down)
    snmp: bool = True
    flows_to: str | None = "127.0.0.1:2055"
    flow_version: Literal["mixed", "9", "10"] = "mixed"
    flow_sampling: int = Field(default=100, ge=1, description="when the inventory sets none")
    syslog_to: str | None = "127.0.0.1:5514"
    script: Script | None = None


def _tod_seconds(hhmm: str) -> float:
    h, m = (int(x) for x in hhmm.split(":"))
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"start_time_of_day {hhmm!r} is not a time of day")
    return h * 3600.0 + m * 60.0


class _UdpSenders:
    """One UDP socket per source address (so a collector sees each device as itself)."""

    def __init__(self, dest: tuple[str, int], what: str) -> None:
        self.dest = (require_loopback(dest[0], what), dest[1])
        self.what = what
        self._socks: dict[str, socket.socket] = {}
        self.sent = 0
        self.errors = 0

    def send(self, source: str, payload: bytes) -> None:
        sock = self._socks.get(source)
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((require_loopback(source, f"{self.what} source"), 0))
            self._socks[source] = sock
        try:
            sock.sendto(payload, self.dest)
            self.sent += 1
        except OSError:  # e.g. ECONNREFUSED from an earlier ICMP: nobody listens yet; count it
            self.errors += 1

    def close(self) -> None:
        for s in self._socks.values():
            s.close()
        self._socks.clear()


class Scenario:
    """The simulated backbone. `start()` returns once every agent is bound."""

    name = "simulate"

    def __init__(
        self, inventory: Inventory, config: SimulateConfig | None = None, now: Callable[[], float] = time.time
    ) -> None:
        self.config = cfg = config or SimulateConfig()
        self.flows_dest = parse_endpoint(cfg.flows_to, "--flows-to") if cfg.flows_to else None
        self.syslog_dest = parse_endpoint(cfg.syslog_to, "--syslog-to") if cfg.syslog_to else None
        for d in inventory.devices:  # refuse before binding anything
            for addr, what in (
                (d.address, "address"),
                (d.flow_exporter, "flow_exporter"),
                (d.syslog_source, "syslog_source"),
            ):
                if addr:
                    require_loopback(addr, f"device {d.name} {what}")
        anchor = cfg.anchor if cfg.anchor is not None else float(math.floor(now()))
        clock = SimClock(
            speed=cfg.speed,
            anchor=anchor,
            sim_start_tod_s=_tod_seconds(cfg.start_time_of_day),
            tick_s=cfg.tick_s,
            now=now,
        )
        self.lab = Lab.build(inventory, cfg.seed, clock, cfg.script)
        self.warnings: list[str] = []
        self.exporters: list[FlowExporter] = exporters(self.lab, cfg.flow_version, cfg.flow_sampling)
        self.syslog = SyslogEmitter(self.lab)
        self.counters = Tally(
            "ticks", "flow_datagrams", "flow_records", "syslog_lines", "send_errors", "late_ticks"
        )
        self.pool: AgentPool | None = None
        self.next_tick = 0
        self.syslog_by_device: Counter[str] = Counter()
        self.attack_lines: Counter[str] = Counter()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._flow_out: _UdpSenders | None = None
        self._syslog_out: _UdpSenders | None = None
        self.started_at: float | None = None
        self.finished = threading.Event()
        self.error: BaseException | None = None

    # --- offline rendering (also the body of each live tick) ----------------------------------
    def render_tick(
        self, k: int, flows: bool = True, syslog: bool = True
    ) -> tuple[list[tuple[str, bytes]], list[Line]]:
        """Flow datagrams (source address, bytes) and syslog lines of tick k; updates the totals.

        What is not rendered (`flows=False` for `--no-flows`) is not in the manifest either.
        """
        datagrams = [(e.source, pkt) for e in self.exporters for pkt in e.packets_for(k)] if flows else []
        lines = self.syslog.lines_for(k) if syslog else []
        for ln in lines:
            self.syslog_by_device[ln.device] += 1
            if ln.tag:
                self.attack_lines[ln.tag] += 1
        self.counters.add("flow_datagrams", len(datagrams))
        self.counters.add("syslog_lines", len(lines))
        self.counters.add("ticks")
        self.next_tick = k + 1
        return datagrams, lines

    def syslog_source(self, device: str) -> str:
        d = self.lab.topo.device(device).device
        return d.syslog_source or d.address

    # --- live ----------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("simulation already started")
        if self.config.snmp:
            self.pool = AgentPool(self.lab, agent_specs(self.lab, self.warnings))
        if self.flows_dest:
            self._flow_out = _UdpSenders(self.flows_dest, "--flows-to")
        if self.syslog_dest:
            self._syslog_out = _UdpSenders(self.syslog_dest, "--syslog-to")
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="nocsoc-simulate", daemon=True)
        self._thread.start()
        # until every agent answers (or the thread failed): a fixed limit, which ~50 v3 engines
        # starting on a loaded machine can overrun, would return with the lab not ready
        while not ready.wait(0.1) and self._thread.is_alive():
            pass
        if self.error is not None:
            self.stop()
            raise self.error
        self.started_at = time.time()

    def _run(self, ready: threading.Event) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            if self.pool is not None:
                loop.run_until_complete(self.pool.start())
        except BaseException as exc:  # reported by start()
            self.error = exc
            ready.set()
            return
        if self.config.anchor is None:
            # Starting ~50 v3 engines takes seconds: tick 0 begins once every agent answers, so
            # the first scripted minutes are not skipped. Only syslog holds absolute times.
            self.lab.clock.anchor = float(math.floor(self.lab.clock.now()))
            self.syslog = SyslogEmitter(self.lab)
        ready.set()
        try:
            loop.run_until_complete(self._ticker())
        except BaseException as exc:
            self.error = exc
        finally:
            if self.pool is not None:
                self.pool.close()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self.finished.set()

    def _last_tick(self) -> int | None:
        d = self.config.duration_s
        return None if d is None else math.ceil(d / self.lab.clock.tick_s) - 1

    async def _ticker(self) -> None:
        clock = self.lab.clock
        last = self._last_tick()
        k = max(0, clock.tick_index())  # a late start skips ticks already past, never bursts them
        self.next_tick = k
        while not self._stop.is_set():
            if last is not None and k > last:
                break
            delay = clock.tick_start(k + 1) - clock.now()
            if delay > 0:
                await asyncio.sleep(min(delay, 0.25))
                continue
            if delay < -clock.tick_s:
                self.counters.add("late_ticks")
            flows, lines = self.render_tick(k, self._flow_out is not None, self._syslog_out is not None)
            if self._flow_out is not None:
                for src, pkt in flows:
                    self._flow_out.send(src, pkt)
            if self._syslog_out is not None:
                for ln in lines:
                    self._syslog_out.send(self.syslog_source(ln.device), ln.text.encode("utf-8"))
            k += 1

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a bounded run (`duration_s`) has finished."""
        return self.finished.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for out in (self._flow_out, self._syslog_out):
            if out is not None:
                self.counters.set("send_errors", self.counters.get("send_errors") + out.errors)
                out.close()
        self._flow_out = self._syslog_out = None

    def self_points(self) -> list[Point]:
        """The simulator is a lab tool, not a monitored service: its counters go to `status()`."""
        return []

    def status(self) -> dict[str, Any]:
        c = self.lab.clock
        snmp = self.pool.counters.snapshot() if self.pool else {}
        return {
            "sim_time_of_day": c.time_of_day(),
            "sim_elapsed_s": max(0.0, c.sim_offset()),
            "agents": len(self.pool.specs) if self.pool else 0,
            "snmp": snmp,
            "snmp_cpu_s": self.pool.cpu_seconds() if self.pool else 0.0,
            **self.counters.snapshot(),
            "flow_records": sum(e.totals.records for e in self.exporters),
            "attack_lines": sum(self.attack_lines.values()),
        }

    # --- ground truth --------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        """Everything injected so far, as JSON-ready data. Times are real epoch seconds."""
        lab, c = self.lab, self.lab.clock
        emitted_until = c.tick_start(self.next_tick)
        by_addr = {d.device.address: d.name for d in lab.topo.devices}
        dst: Counter[str] = Counter()
        src: Counter[str] = Counter()
        flows = []
        for e in self.exporters:
            t = e.totals
            for a, b in t.by_dst.items():
                dst[a] += b * e.sampling
            for a, b in t.by_src.items():
                src[a] += b * e.sampling
            flows.append(
                {
                    "device": e.dev.name,
                    "address": e.source,
                    "version": e.version,
                    "sampling": e.sampling,
                    "source_id": e.domain,
                    "datagrams": t.packets_sent,
                    "records": t.records,
                    "bytes_exported": t.bytes_exported,
                    "packets_exported": t.packets_exported,
                    "bytes_scaled": t.bytes_exported * e.sampling,
                    "bytes_by_input_ifindex": {str(k): v for k, v in sorted(t.by_in_if.items())},
                    # what SNMP calls those interfaces, and the inventory link each belongs to
                    "input_interfaces": {str(i.if_index): {"name": i.name, "link": i.link}
                                         for i in e.dev.interfaces if i.if_index in t.by_in_if},
                }
            )

        def top(counter: Counter[str]) -> list[dict[str, Any]]:
            return [
                {"address": a, "device": by_addr.get(a), "bytes_scaled": b}
                for a, b in counter.most_common(10)
            ]

        attacks = []
        for atk in self.syslog.script.attacks:
            n = self.attack_lines.get(str(atk["id"]), 0)
            attacks.append({**atk, "emitted": n, "complete": n == atk["count"]})
        flaps = []
        for f in lab.script.link_flaps:
            flaps.append(
                {
                    "link": f.link,
                    "sim_at_s": f.at_s,
                    "down_at": c.tick_start(c.tick_of_sim(f.at_s)),
                    "up_at": c.tick_start(c.tick_of_sim(f.at_s + f.down_s)),
                    "interfaces": [f"{i.device}:{i.name}" for i in lab.topo.link_interfaces(f.link)],
                }
            )
        reboots = [
            {
                "device": r.device,
                "sim_at_s": r.at_s,
                "down_at": c.tick_start(c.tick_of_sim(r.at_s)),
                "boot_at": c.tick_start(c.tick_of_sim(r.at_s + r.down_s)),
            }
            for r in lab.script.reboots
        ]
        optics = []
        for o in lab.script.optics:
            cross = lab.traffic.optics.threshold_crossing_s(o.device, o.interface)
            optics.append(
                {
                    "device": o.device,
                    "interface": o.interface,
                    "threshold_dbm": o.threshold_dbm,
                    "baseline_rx_dbm": round(lab.traffic.optics.baseline(o.device, o.interface)[0], 2),
                    "to_dbm": o.to_dbm,
                    "start_at": c.real_at(o.at_s),
                    "crosses_threshold_at": None if cross is None else c.real_at(cross),
                }
            )
        return {
            "version": MANIFEST_VERSION,
            "seed": self.config.seed,
            "speed": c.speed,
            "tick_s": c.tick_s,
            "anchor": c.anchor,
            "start_time_of_day": self.config.start_time_of_day,
            "ticks_emitted": self.counters.get("ticks"),
            "emitted_until": emitted_until,
            "script_end_at": c.real_at(lab.script.end_s()),
            "agents": [
                {
                    "device": a.device.name,
                    "address": a.address,
                    "port": a.port,
                    "snmp_version": a.profile.version,
                }
                for a in (self.pool.specs if self.pool else [])
            ],
            "warnings": self.warnings,
            "events": {
                "link_flaps": flaps,
                "reboots": reboots,
                "optics": optics,
                "link_state_changes": [
                    e for e in self.syslog.script.link_events if float(e["time"]) < emitted_until
                ],
            },
            "attacks": attacks,
            "flows": {"exporters": flows, "top_destinations": top(dst), "top_sources": top(src)},
            "syslog": {
                "lines": self.counters.get("syslog_lines"),
                "by_device": dict(sorted(self.syslog_by_device.items())),
            },
        }

    def write_manifest(self, path: Path) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.manifest(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(path)
