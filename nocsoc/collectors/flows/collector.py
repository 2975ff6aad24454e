"""The flow collector component: sockets -> decoder -> per-interval rollups -> sink.

Threads: one receiver per socket (NetFlow/IPFIX, sFlow) feeding one bounded queue, and one worker
that decodes in batches, rolls up, writes closed intervals, and saves templates. `stop()` drains
the queue and writes every open interval (the current one partial), so nothing received is lost.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from nocsoc.collectors.flows import speedups
from nocsoc.collectors.flows.config import FlowsConfig
from nocsoc.collectors.flows.decoder import Datagram, NetflowDecoder
from nocsoc.collectors.flows.geoip import GeoIp
from nocsoc.collectors.flows.receiver import DatagramQueue, UdpReceiver
from nocsoc.collectors.flows.records import FlowBatch
from nocsoc.collectors.flows.rollup import ExporterInfo, Rollups
from nocsoc.collectors.flows.sampling import SamplingTable
from nocsoc.collectors.flows.sflow import InterfaceCounters, SflowDecoder
from nocsoc.collectors.flows.stats import FIELDS as STAT_FIELDS
from nocsoc.collectors.flows.stats import ExporterStats
from nocsoc.collectors.flows.templates import EarlyData, TemplateCache
from nocsoc.collectors.ifnames import InterfaceNames
from nocsoc.collectors.listen import start_all
from nocsoc.component import Counters
from nocsoc.fileio import atomic_write
from nocsoc.inventory.model import Inventory
from nocsoc.paths import resolve_path
from nocsoc.schema import FLOW_COLLECTOR, FLOW_PIPELINE, Point
from nocsoc.schema.flows import SFLOW_INTERFACE
from nocsoc.sinks.base import Sink


class BatchWriter(Protocol):
    """What the collector hands every decoded batch to (nocsoc.history's flow writer): `add`
    must never wait; it runs from `start()` to `stop()` and counts in its own counters."""

    def add(self, batch: FlowBatch) -> None: ...
    def start(self) -> None: ...
    def stop(self, timeout: float = 10.0) -> None: ...
    def counter_sets(self) -> list[Counters]: ...


log = logging.getLogger(__name__)

# Datagrams per decode call. With the C extension a call's fixed cost is small, and a batch that
# stays within the cache matters more (measured over UDP: ~5-10% less CPU a record with 1,024
# than with 4,096, whose ~6 MB evicted the receive path's data); numpy alone preferred 4,096.
BATCH_DATAGRAMS = 1024
BATCH_LINGER_S = 0.05  # wait this long for a full batch: fewer, larger decode calls (see receiver)
SAVE_EVERY_S = 5.0


def _path(value: str | None, base_dir: Path | None) -> Path | None:
    if not value:
        return None
    return resolve_path(base_dir, value)


class FlowPipeline:
    """Decoder + rollups without sockets: what the collector runs, and what `flows decode` and
    the benchmark use on captured datagrams."""

    def __init__(self, config: FlowsConfig, inventory: Inventory | None = None,
                 state_dir: Path | None = None, base_dir: Path | None = None,
                 ifnames: InterfaceNames | None = None) -> None:
        """`base_dir`: where relative database paths in the config are relative to; `ifnames`:
        the interface names the SNMP poller publishes (else only what `ifnames.update` sets)."""
        if speedups.ext is not None:
            # batches allocate and free megabytes each: keep them in the heap (see _flowfast.c)
            speedups.ext.retain_freed_memory()
        self.config = config
        self.set_inventory(inventory)
        self.ifnames = ifnames if ifnames is not None else InterfaceNames()
        self.stats = ExporterStats()
        self.sampling = SamplingTable(self._fallback_rate)
        self.templates = TemplateCache(state_dir / "templates.json" if state_dir else None)
        self.sampling_path = state_dir / "sampling.json" if state_dir else None
        self.sflow = SflowDecoder(self.stats)
        self.decoder = NetflowDecoder(self.templates, self.sampling, self.stats,
                                      EarlyData(max_sets=config.early_data_sets), sflow=self.sflow)
        self.sflow.vxlan = self.decoder.vxlan = config.vxlan_decap
        # optional enrichment, opened by open_geoip() (FlowCollector.start(): a configured
        # database that cannot be read is a start-up error), not here: construction does no I/O
        self._geoip_paths = (_path(config.geoip_country_db, base_dir), _path(config.geoip_asn_db, base_dir)) \
            if (config.geoip_country_db or config.geoip_asn_db) else None
        self.geoip: GeoIp | None = None
        self.rollups = Rollups(config.interval_s, config.top_n, self._exporter_info, self._interface, None)
        self.records = 0
        # every decoded batch also goes here (the history writer's non-blocking `add`)
        self.history: Callable[[FlowBatch], None] | None = None

    def open_geoip(self) -> None:
        """Open the configured GeoIP databases (GeoIpError naming the file); idempotent."""
        if self._geoip_paths is not None and self.geoip is None:
            self.geoip = GeoIp(*self._geoip_paths)
            self.rollups.geo = self.geoip.lookup

    # --- inventory enrichment ------------------------------------------------------------------

    def set_inventory(self, inventory: Inventory | None) -> None:
        """Swap the inventory (one assignment: readers see the old or the new map, never half)."""
        self._devices = inventory.by_address() if inventory else {}
        self._links = {(e.device, e.interface): lk.name for lk in (inventory.links if inventory else [])
                       for e in (lk.a, lk.b)}

    def _fallback_rate(self, exporter: str) -> int | None:
        d = self._devices.get(exporter)
        return d.flow_sampling_rate if d else None

    def _exporter_info(self, exporter: str) -> ExporterInfo:
        d = self._devices.get(exporter)
        return ExporterInfo(d.name, d.site) if d else ExporterInfo()

    def _ifname(self, exporter: str, ifindex: int) -> str | None:
        d = self._devices.get(exporter)
        return self.ifnames.get(d.name if d else None, ifindex)

    def _interface(self, exporter: str, ifindex: int) -> tuple[str | None, str | None]:
        """(ifName, inventory link) of an exporter's interface. An ifIndex the poller has not
        named is shown as `ifIndex N`, so interfaces never merge into one series."""
        d = self._devices.get(exporter)
        name = self.ifnames.get(d.name if d else None, ifindex)
        link = self._links.get((d.name, name)) if d is not None and name else None
        return name or f"ifIndex {ifindex}", link

    # --- processing ----------------------------------------------------------------------------

    def process(self, datagrams: Sequence[Datagram],
                on_batch: Callable[[FlowBatch], None] | None = None) -> int:
        """Decode and roll up; datagrams may span intervals (split here). Returns records."""
        if self._geoip_paths is not None and self.geoip is None:
            self.open_geoip()  # a pipeline used without FlowCollector.start() (decode, tests)
        n = 0
        start = 0
        interval = self.rollups.interval_of
        if datagrams:
            if speedups.ext is not None:  # the same two values, without a list of every time
                first, last = speedups.ext.time_range(datagrams)
            else:
                times = [d[2] for d in datagrams]
                first, last = min(times), max(times)
            if interval(first) == interval(last):  # the usual case: one decode call
                return self._process(datagrams, on_batch)
        for i in range(1, len(datagrams) + 1):
            if i == len(datagrams) or interval(datagrams[i][2]) != interval(datagrams[start][2]):
                n += self._process(datagrams[start:i], on_batch)
                start = i
        return n

    def _process(self, datagrams: Sequence[Datagram], on_batch: Callable[[FlowBatch], None] | None) -> int:
        n = 0
        history = self.history
        if on_batch is None and history is None:  # only the rollup needs them: v5 may skip columns
            for decoded in self.decoder.decode_for_rollup(datagrams):
                self.rollups.add(decoded)
                n += len(decoded)
            self.records += n
            return n
        for batch in self.decoder.decode(datagrams):
            self.rollups.add(batch)
            n += len(batch)
            if on_batch is not None:
                on_batch(batch)
            if history is not None:
                history(batch)
        self.records += n
        return n

    def counter_points(self) -> list[Point]:
        return [self._counter_point(c) for c in self.sflow.take_counters()]

    def _counter_point(self, c: InterfaceCounters) -> Point:
        info = self._exporter_info(c.exporter)
        return SFLOW_INTERFACE.point(
            int(c.time * 1e9),
            {"exporter": c.exporter, "device": info.device, "site": info.site, "ifindex": c.ifindex,
             "ifname": self._ifname(c.exporter, c.ifindex)},
            {"in_octets": c.in_octets, "out_octets": c.out_octets, "in_packets": c.in_packets,
             "out_packets": c.out_packets, "in_errors": c.in_errors, "out_errors": c.out_errors,
             "in_discards": c.in_discards, "out_discards": c.out_discards, "speed_bps": c.speed_bps,
             "oper_up": c.oper_up, "admin_up": c.admin_up})

    # --- persistence ---------------------------------------------------------------------------

    def load_state(self) -> None:
        """Templates and learned sampling rates from the last run (a broken file is logged)."""
        try:
            n = self.templates.load()
            if n:
                log.info("flows: %d templates restored from %s", n, self.templates.path)
        except ValueError as exc:
            log.error("%s; starting without them", exc)
        if self.sampling_path and self.sampling_path.exists():
            try:
                self.sampling.load_json(json.loads(self.sampling_path.read_text()))
            except (OSError, ValueError, TypeError, IndexError) as exc:
                log.error("%s: cannot read sampling rates (%s); starting without them",
                          self.sampling_path, exc)

    def save_state(self) -> None:
        try:
            if self.templates.dirty:
                self.templates.save()
            if self.sampling_path:
                self.sampling_path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(self.sampling_path, json.dumps(self.sampling.to_json()))
        except OSError as exc:
            log.error("flows: cannot save state to %s: %s", self.templates.path, exc)


class FlowCollector:
    """The `flows` component: `FlowCollector(config, inventory, sink)`, `start()`, `stop()`."""

    name = "flows"

    def __init__(self, config: FlowsConfig, inventory: Inventory | None, sink: Sink,
                 clock: Callable[[], float] = time.time, state_dir: Path | None = None,
                 base_dir: Path | None = None, ifnames_dir: Path | None = None,
                 history: BatchWriter | None = None) -> None:
        """`history`: the flow history writer every decoded batch also goes to.
        `state_dir` overrides `config.state_dir` (which is relative to the working directory);
        `base_dir` anchors relative GeoIP database paths (the directory of nocsoc.yaml);
        `ifnames_dir` is where the SNMP poller publishes interface names (the run state dir)."""
        self.config = config
        self.sink = sink
        self.clock = clock
        self.pipeline = FlowPipeline(config, inventory, state_dir or Path(config.state_dir), base_dir,
                                     InterfaceNames.in_state_dir(ifnames_dir) if ifnames_dir else None)
        self.counters = Counters(FLOW_PIPELINE)
        self.history = history
        if history is not None:
            self.pipeline.history = history.add
        self.queue = DatagramQueue(config.queue_datagrams)
        self.receivers = [UdpReceiver(config.bind, self.queue, self.counters,
                                      config.receive_buffer_bytes, "netflow")]
        if config.sflow_bind:
            self.receivers.append(UdpReceiver(config.sflow_bind, self.queue, self.counters,
                                              config.receive_buffer_bytes, "sflow"))
        self._worker: threading.Thread | None = None
        self._stopping = threading.Event()
        # the pipeline, and what the worker has taken from the queue, belong to whoever holds this:
        # the worker, or a flush() caller (which then sees every datagram queued before it)
        self._lock = threading.Lock()

    @property
    def stats(self) -> ExporterStats:
        return self.pipeline.stats

    def addresses(self) -> list[tuple[str, int]]:
        """Bound (host, port) of each socket (useful with port 0)."""
        return [r.address for r in self.receivers]

    def start(self) -> None:
        self.pipeline.open_geoip()
        self.pipeline.load_state()
        start_all(self.receivers)  # first: a port in use must not leave the history writer running
        if self.history is not None:
            self.history.start()
        self._stopping.clear()
        self._worker = threading.Thread(target=self._run, name="flows-worker", daemon=True)
        self._worker.start()
        log.info("flows: listening on %s", ", ".join(f"{h}:{p}" for h, p in self.addresses()))

    def stop(self, timeout: float = 10.0) -> None:
        for r in self.receivers:
            r.stop(timeout)
        self._stopping.set()
        if self._worker is not None:
            self._worker.join(timeout)
            self._worker = None
        self.flush(final=True)
        if self.history is not None:
            self.history.stop(timeout)
        if self.pipeline.geoip is not None:
            self.pipeline.geoip.close()

    def flush(self, final: bool = False) -> None:
        """Process what is queued and write closed intervals (all open ones when `final`)."""
        with self._lock:
            while True:
                batch = self.queue.get_batch(BATCH_DATAGRAMS, 0)
                if not batch:
                    break
                try:
                    self.pipeline.process(batch)
                except Exception:  # same policy as the worker: log, count, go on to write the rest
                    log.exception("flows: error processing %d datagrams (dropped)", len(batch))
                    self.counters.add("app_drops", len(batch))
            points = self.pipeline.rollups.flush_all() if final else self.pipeline.rollups.due(self.clock())
            points += self.pipeline.counter_points()
            self._write(points)
            if final:
                self.pipeline.save_state()

    def _write(self, points: list[Point]) -> None:
        self.counters.set("late_records", self.pipeline.rollups.late)
        if points:
            self.sink.write(points)
            self.counters.add("points", len(points))

    def _run(self) -> None:
        last_save = time.monotonic()
        while not self._stopping.is_set():
            # wait unlocked, take under the lock: a batch taken outside it would be neither in
            # the queue nor in the rollups for a flush() (or stop()'s final flush) running then
            self.queue.wait(BATCH_DATAGRAMS, 0.2, BATCH_LINGER_S)
            with self._lock:
                batch = self.queue.get_batch(BATCH_DATAGRAMS, 0)
                try:
                    if batch:
                        self.pipeline.process(batch)
                    points = self.pipeline.rollups.due(self.clock()) + self.pipeline.counter_points()
                    self._write(points)
                    if time.monotonic() - last_save > SAVE_EVERY_S:
                        last_save = time.monotonic()
                        self.pipeline.decoder.expire_early(self.clock() - self.config.early_data_max_age_s)
                        if self.pipeline.templates.dirty:
                            self.pipeline.save_state()
                except Exception:  # the worker must survive anything: log, count, go on
                    log.exception("flows: worker error (batch of %d datagrams dropped)", len(batch))
                    self.counters.add("app_drops", len(batch))

    def reload(self, inventory: Inventory) -> None:
        """New inventory (SIGHUP): enrichment and sampling fallbacks change from the next record."""
        self.pipeline.set_inventory(inventory)

    def status(self) -> dict[str, int | float]:
        """Totals for `nocsoc status`: what moved, what was dropped, what is held."""
        totals = {name: self.stats.total(name) for name in STAT_FIELDS}
        return {**totals, **self.counters.snapshot(), "queue": len(self.queue),
                "templates": len(self.pipeline.templates),
                "early_data_sets": len(self.pipeline.decoder.early)}

    def counter_sets(self) -> list[Counters]:
        """The sockets' and rollups' counters (`flow_pipeline`)."""
        self.counters.set("late_records", self.pipeline.rollups.late)
        return [self.counters, *(self.history.counter_sets() if self.history is not None else [])]

    def self_points(self) -> list[Point]:
        """`flow_collector` points: one per exporter and version."""
        now = time.time_ns()
        return [FLOW_COLLECTOR.point(now, {"exporter": e, "version": v}, values)
                for (e, v), values in sorted(self.stats.snapshot().items())]
