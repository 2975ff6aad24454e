"""TrapReceiver: the `traps` service of `nocsoc run` and the engine of `nocsoc traps listen`.

Two threads. The socket thread reads datagrams and drops those from addresses the inventory
does not know (before any decoding: a flood from a stranger costs one dict lookup each), then
queues the rest (full queue: dropped and counted, the socket is never left unread). The worker
thread decodes and authenticates (pysnmp, `TrapDecoder`), maps each trap through the catalogue,
resolves the interface of link traps, and every `flush_interval_s` writes `snmp_trap` and
`interface` points to the sink and commits alerts to the SOC alert store (same dedup and triage
as detections). Every refusal is counted by reason and logged once per source and reason.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from nocsoc.collectors.ifnames import EntityNames, InterfaceNames
from nocsoc.collectors.listen import bind_socket, parse_bind
from nocsoc.collectors.traps.catalog import TrapCatalog
from nocsoc.collectors.traps.config import TrapsConfig
from nocsoc.collectors.traps.decode import RawTrap, TrapDecoder
from nocsoc.collectors.traps.events import TrapEvent
from nocsoc.collectors.traps.resolve import IfNameResolver
from nocsoc.component import Counters
from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.engine import Detection
from nocsoc.inventory.model import Device, Inventory
from nocsoc.schema import TRAP_RECEIVER, Point
from nocsoc.sinks.base import Sink

log = logging.getLogger(__name__)

_REASONS = {
    "unknown_source": "address not in the inventory (traps.accept_unknown_sources is off)",
    "bad_community": "community not in traps.communities",
    "unknown_user": "v3 user (or its sender engine id) not in traps.users",
    "wrong_digest": "v3 authentication failed: wrong auth password or protocol",
    "decrypt_errors": "v3 decryption failed: wrong privacy password or protocol",
    "not_in_time_window": "v3 message outside the time window (replay, or the sender's clock/boots)",
    "unknown_engine_id": "v3 message with a missing or malformed engine id",
    "unsupported_sec_level": "v3 security level the configured user does not have",
    "malformed": "not a decodable SNMP message",
    "refused_other": "not a trap or inform",
}
_STOP = (b"", ("", 0))
MAX_LOGGED_SOURCES = 10_000  # the log-once memory is bounded; beyond it, refusals are only counted


class TrapReceiver:
    name = "traps"

    def __init__(self, config: TrapsConfig, inventory: Inventory | None, sink: Sink | None, *,
                 base_dir: Path | None = None, store: AlertStore | None = None,
                 store_path: Path | None = None, dedup_window_s: float = 3600.0,
                 open_store: Callable[[], AlertStore] | None = None,
                 ifnames: InterfaceNames | None = None,
                 entnames: EntityNames | None = None,
                 catalog: TrapCatalog | None = None,
                 profiles_dir: Path | None = None,
                 on_event: Callable[[TrapEvent], None] | None = None) -> None:
        """Nothing is opened or read here (secrets, catalogue files, device profiles, the alert
        store, the socket): `start()` (or `bind()`, `prepare()`) does it, so a bad secret or
        profile is a start error. `profiles_dir` is `snmp.profiles_dir` (absolute), whose
        profiles' `traps:` join the shipped ones. `ifnames` / `entnames`: the interface and
        ENTITY-MIB names the SNMP poller publishes (state dir), naming what a trap gives by index."""
        self.config = config
        self.sink = sink
        self.base_dir = base_dir or Path.cwd()
        self.store = store
        self._store_path = store_path if store is None else None
        self._open_store = open_store  # the configured store (SQLite or a shared PostgreSQL)
        self._dedup_window_s = dedup_window_s
        self._own_store = False
        self.on_event = on_event
        self._catalog = catalog
        self._profiles_dir = profiles_dir
        self.counters = Counters(TRAP_RECEIVER)
        self._sock: socket.socket | None = None
        self._decoder: TrapDecoder | None = None
        self.resolver = IfNameResolver(inventory, self.base_dir, config.resolve_timeout_s, ifnames)
        self.entnames = entnames
        self._devices: dict[str, Device] = {}
        self._links: dict[str, dict[str, str]] = {}
        self.reload(inventory)
        self._queue: queue.Queue[tuple[bytes, tuple[str, int]]] = queue.Queue(config.queue_datagrams)
        self._logged: set[tuple[str, str]] = set()
        self._points: list[Point] = []
        self._detections: list[Detection] = []
        self._last_ns = 0
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._flush_lock = threading.Lock()
        # held for a whole flush, so that flush() returns only once everything queued before the
        # call is written, even while the background flusher is writing the batch it took
        self._write_lock = threading.Lock()

    def prepare(self) -> None:
        """Read the catalogue (built-in, every device profile's `traps:`, `traps.catalog` files),
        resolve the secrets into the decoder, open the alert store."""
        if self._catalog is None:
            from nocsoc.collectors.snmp.profiles import load_catalog

            extra = [p if (p := Path(c)).is_absolute() else self.base_dir / p for c in self.config.catalog]
            self._catalog = TrapCatalog.load(extra, profiles=load_catalog(self._profiles_dir))
        if self._decoder is None:
            self._decoder = TrapDecoder(self.config, self.base_dir, send=self._send)
        if self.store is None and self._open_store is not None:
            self.store = self._open_store()
            self._own_store = True
        elif self.store is None and self._store_path is not None:
            self.store = AlertStore(self._store_path, self._dedup_window_s)
            self._own_store = True

    @property
    def catalog(self) -> TrapCatalog:
        self.prepare()
        assert self._catalog is not None
        return self._catalog

    @property
    def decoder(self) -> TrapDecoder:
        self.prepare()
        assert self._decoder is not None
        return self._decoder

    # --- inventory ------------------------------------------------------------------------------

    def reload(self, inventory: Inventory | None) -> None:
        """Apply a new inventory (SIGHUP): sources and interface links."""
        from nocsoc.collectors.snmp.poller import links_by_device

        self._devices = inventory.by_address() if inventory is not None else {}
        self._links = links_by_device(inventory) if inventory is not None else {}
        self.resolver.inventory = inventory

    # --- socket ---------------------------------------------------------------------------------

    def bind(self) -> tuple[str, int]:
        """Open the socket (OSError naming the address, and for ports below 1024 the capability)."""
        self.prepare()
        host, port = parse_bind(self.config.bind)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.config.receive_buffer_bytes)
        bind_socket(sock, "udp", self.config.bind, (host, port))  # one clear error, errno kept
        sock.settimeout(0.2)
        self._sock = sock
        return self.address()

    def address(self) -> tuple[str, int]:
        assert self._sock is not None
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    def _send(self, message: bytes, address: tuple[str, int]) -> None:
        if self._sock is not None:
            try:
                self._sock.sendto(message, address)
            except OSError as exc:
                log.warning("traps: cannot answer the inform of %s: %s", address[0], exc.strerror)

    def start(self) -> None:
        if self._sock is None:
            self.bind()
        self._stopping.clear()
        self._threads = [threading.Thread(target=self._read_loop, name="traps-socket", daemon=True),
                         threading.Thread(target=self._work_loop, name="traps-worker", daemon=True)]
        for t in self._threads:
            t.start()
        log.info("traps: listening on %s:%d", *self.address())

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        for t in self._threads[:1]:
            t.join(timeout)
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=timeout)
        for t in self._threads[1:]:
            t.join(timeout)
        self._threads = []
        self.flush()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._own_store and self.store is not None:
            self.store.close()
            self.store = None

    def _read_loop(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self._stopping.is_set():
            try:
                data, addr = sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                if self._stopping.is_set():
                    return
                continue
            self.counters.add("received")
            source = str(addr[0])
            if not self.admitted(source):
                continue
            try:
                self._queue.put_nowait((data, (source, int(addr[1]))))
            except queue.Full:
                self.counters.add("queue_dropped")

    def _work_loop(self) -> None:
        next_flush = time.monotonic() + self.config.flush_interval_s
        while True:
            try:
                item = self._queue.get(timeout=0.2)
            except queue.Empty:
                item = None
            if item is _STOP:
                return
            if item is not None:
                try:
                    self.handle(item[0], item[1])
                except Exception:  # a bug in mapping one trap must not stop the receiver
                    log.exception("traps: failed to handle a trap from %s", item[1][0])
            if time.monotonic() >= next_flush:
                next_flush = time.monotonic() + self.config.flush_interval_s
                self.flush()

    # --- processing -----------------------------------------------------------------------------

    def _refused(self, reason: str, source: str) -> None:
        self.counters.add(reason)
        key = (reason, source)
        if key not in self._logged and len(self._logged) < MAX_LOGGED_SOURCES:
            self._logged.add(key)
            log.warning("traps: refused a message from %s: %s (counted as %s; further ones from "
                        "this address are only counted)", source, _REASONS[reason], reason)

    def admitted(self, source: str) -> bool:
        """Whether traps from `source` are decoded (the inventory knows it, or every source is
        accepted); a refusal is counted and logged once per source."""
        if not self.config.accept_unknown_sources and source not in self._devices:
            self._refused("unknown_source", source)
            return False
        return True

    def _time_ns(self) -> int:
        t = max(time.time_ns(), self._last_ns + 1)  # two traps of one series never share a time
        self._last_ns = t
        return t

    def handle(self, data: bytes, source: tuple[str, int], received: float | None = None) -> TrapEvent | None:
        """Decode one datagram (already admitted by source) and queue what it becomes.
        Never raises for bad input: it is counted by reason. `received`: when the datagram
        arrived, given by a bus receiver (distinct per trap to the microsecond): the event's time
        and, to the microsecond, its points' timestamp, so any decoder, and a redelivery, writes
        the same points."""
        decoded = self.decoder.decode(data, source)
        if decoded.trap is None:
            self._refused(decoded.outcome, source[0])
            return None
        return self.handle_trap(decoded.trap, source, received)

    def handle_trap(self, trap: RawTrap, source: tuple[str, int], received: float | None = None) -> TrapEvent:
        """What `handle` does with a trap once decoded and authenticated (by `handle`, or by a bus
        receiver for a v3 inform it answered: nocsoc.bus.informs)."""
        device = self._devices.get(source[0])
        entry = self.catalog.lookup(trap.trap_oid, device.vendor if device is not None else "")
        if entry is None:
            self.counters.add("unknown_traps")
        event = TrapEvent.build(time.time() if received is None else received, source[0], trap, entry, device)
        if device is not None:
            if event.event in ("cold_start", "warm_start"):
                self.resolver.forget(device.name)
            self._name_interface(event, device)
            self._name_entity(event, device)
        time_ns = self._time_ns() if received is None else round(received * 1e6) * 1000
        points = event.points(time_ns)
        if len(points) > 1:
            self.counters.add("interface_updates")
        det = event.detection() if self.config.alerts else None
        with self._flush_lock:
            self._points.extend(points)
            if det is not None:
                self._detections.append(det)
        try:
            if self.on_event is not None:
                self.on_event(event)
        finally:  # counted once its points and alert are queued: `traps` = traps fully handled
            self.counters.add("traps")
            if trap.inform:
                self.counters.add("informs")
        return event

    def _name_interface(self, event: TrapEvent, device: Device) -> None:
        if event.ifindex is None or event.entry is None or not event.entry.interface:
            return
        if not event.ifname and self.config.resolve_ifname:
            got = self.resolver.resolve(device, event.ifindex)
            if got is not None:
                event.ifname, alias = got
                event.ifalias = event.ifalias or alias
        if not event.ifname:
            self.counters.add("ifname_unresolved")
            return
        event.extra["link"] = self._links.get(device.name, {}).get(event.ifname)

    def _name_entity(self, event: TrapEvent, device: Device) -> None:
        """A trap that gives its component only by entPhysicalIndex (no name varbind): the name
        the SNMP poller read for that index, else it stays "entity N" (counted)."""
        if event.entity_index is None or not event.entity_is_index:
            return
        name = self.entnames.get(device.name, event.entity_index) if self.entnames is not None else None
        if name:
            event.entity = name
        else:
            self.counters.add("entity_unresolved")

    def take(self) -> tuple[list[Point], list[Detection]]:
        """The points and detections handled since the last flush or take, for a caller that
        commits them itself (the bus decoder, with its stream marks)."""
        with self._flush_lock:
            points, self._points = self._points, []
            dets, self._detections = self._detections, []
        return points, dets

    def flush(self) -> None:
        """Write the points gathered so far and commit alerts (their `alert` points too)."""
        with self._write_lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        with self._flush_lock:
            points, self._points = self._points, []
            dets, self._detections = self._detections, []
        if dets and self.store is not None:
            from nocsoc.collectors.logs.pipeline import alert_points

            try:
                res = self.store.ingest(dets)
            except Exception as exc:  # a locked or broken store: the events are still written
                self.counters.add("store_errors")
                log.error("traps: alert store %s: %s (%d alerts not stored)", self.store.path, exc,
                          len(dets))
            else:
                self.counters.add("alerts", len(res.created) + len(res.updated))
                points.extend(alert_points(res))
        if points and self.sink is not None:
            self.sink.write(points)

    def counter_sets(self) -> list[Counters]:
        return [self.counters]

    def status(self) -> dict[str, int]:
        """Gauges for `nocsoc status` (the counters come through `counter_sets`)."""
        return {"queue": self._queue.qsize()}
