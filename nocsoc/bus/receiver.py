"""`--role receiver`: the flow, syslog, SNMP trap and Windows event listeners of one machine,
publishing to the bus.

The same sockets and receive threads as `nocsoc run` on one machine (flows' UdpReceiver,
syslog's UDP/TCP servers, the Winlogbeat and NXLog servers); nothing is parsed here: a record is
the datagram, the framed line or the framed document, the sender's address and the receive time.
The source of a record says which input it came by: `10.0.0.1` (syslog UDP, a flow exporter, a
trap sender), `tcp/10.0.0.1` (syslog TCP), `winlogbeat/10.0.0.1`, `nxlog_tcp/...`, `nxlog_udp/...`.

Winlogbeat resends a batch until it is acknowledged: its documents are acknowledged only once
JetStream has stored them (`BusPublisher.submit_acked`), never from memory or the disk buffer, so
a receiver that dies loses nothing Winlogbeat does not resend. Traps are published unread: which
sender is in the inventory, and every check after it, is the decoder's (`nocsoc.bus.traps`).
SNMP informs are answered the same way as Winlogbeat's batches: once JetStream has stored them
(`nocsoc.bus.informs`, which reads only the clear headers of a datagram to tell an inform).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from nocsoc.bus.config import BusConfig
from nocsoc.bus.informs import V3_REFUSALS, InformAnswerer, answerable
from nocsoc.bus.publish import BusPublisher
from nocsoc.bus.transport import Transport, make_transport
from nocsoc.collectors.flows.config import FlowsConfig
from nocsoc.collectors.flows.receiver import DatagramQueue, UdpReceiver
from nocsoc.collectors.listener import Listener
from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.logs.server import TcpSyslogServer, UdpSyslogServer
from nocsoc.collectors.traps.config import TrapsConfig
from nocsoc.collectors.windows.inputs import WindowsInputs
from nocsoc.collectors.windows.servers import PendingAck
from nocsoc.component import Counters
from nocsoc.schema import FLOW_PIPELINE, TRAP_RECEIVER

log = logging.getLogger(__name__)

PUMP_BATCH = 4096
MAX_TRAP = 65535


class TrapDatagrams(Listener):
    """The trap port of a receiver: each datagram handed over as it came, with its sender's
    address and receive time. Receive times are made distinct to the microsecond (the envelope
    keeps them as float seconds), so each trap's points get their own timestamp on any decoder,
    the same on a redelivery."""

    source = "traps"

    def __init__(self, bind: str, publish: Callable[[bytes, str, float], bool],
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(bind)
        self.publish = publish
        self.clock = clock
        self.max_message = MAX_TRAP
        self.counters = Counters(TRAP_RECEIVER, only=(
            "received", "queue_dropped", "informs_answered", "inform_copies", *V3_REFUSALS))
        self.informs: InformAnswerer | None = None  # set by the receiver when informs are answered
        self._last_us = 0

    def send(self, message: bytes, address: tuple[str, int]) -> None:
        """An answer out of the trap port (an inform's sender expects it from there)."""
        sock = self._sock
        if sock is None:
            return
        try:
            sock.sendto(message, address)
        except OSError as exc:
            log.warning("traps: cannot answer the inform of %s: %s", address[0], exc.strerror)

    def start(self) -> None:
        self._open(socket.SOCK_DGRAM, "udp")
        self._thread = threading.Thread(target=self._loop, name="bus-traps", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self._stop.is_set():
            try:
                data, addr = sock.recvfrom(MAX_TRAP)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            self.counters.add("received")
            us = max(int(self.clock() * 1e6), self._last_us + 1)
            self._last_us = us
            informs = self.informs
            if informs is not None and answerable(data):
                try:
                    ok = informs.handle(data, (str(addr[0]), int(addr[1])), us / 1e6)
                except Exception:  # a bug on one datagram must not stop the port
                    log.exception("traps: failed to handle an inform from %s", addr[0])
                    continue
            else:
                ok = self.publish(data, str(addr[0]), us / 1e6)
            if not ok:
                self.counters.add("queue_dropped")


class BusReceiver:
    """The `bus_receiver` component."""

    name = "bus_receiver"

    def __init__(self, bus: BusConfig, flows: FlowsConfig | None, logs: LogsConfig | None,
                 buffer_dir: Path, member: str, clock: Callable[[], float] = time.time,
                 transport: Transport | None = None, traps: TrapsConfig | None = None,
                 base_dir: Path | None = None) -> None:
        """`base_dir`: where relative paths of nocsoc.yaml start (the Winlogbeat TLS files)."""
        self.clock = clock
        self.transport = transport or make_transport(bus, f"nocsoc-receiver-{member}")
        kinds: dict[str, float | None] = {}
        if flows is not None:
            kinds["flows"] = flows.interval_s
        if logs is not None:
            kinds["logs"] = None
        if traps is not None:
            kinds["traps"] = None
        self.publisher = BusPublisher(bus, self.transport, buffer_dir, member, kinds, clock)
        self.flow_counters = Counters(FLOW_PIPELINE, only=("app_drops", "kernel_drops"))
        self.queue: DatagramQueue | None = None
        self.flow_receivers: list[UdpReceiver] = []
        if flows is not None:
            self.queue = DatagramQueue(flows.queue_datagrams)
            self.flow_receivers.append(UdpReceiver(flows.bind, self.queue, self.flow_counters,
                                                   flows.receive_buffer_bytes, "netflow"))
            if flows.sflow_bind:
                self.flow_receivers.append(UdpReceiver(flows.sflow_bind, self.queue, self.flow_counters,
                                                       flows.receive_buffer_bytes, "sflow"))
        self.udp = self.tcp = None
        if logs is not None and logs.syslog_udp:
            self.udp = UdpSyslogServer(logs.syslog_udp, self._line, logs.max_message)
        if logs is not None and logs.syslog_tcp:
            self.tcp = TcpSyslogServer(logs.syslog_tcp, self._line, logs.max_message,
                                       logs.tcp_max_connections)
        self.windows: WindowsInputs | None = None
        win = logs.windows if logs is not None else None
        if logs is not None and win is not None and any((win.winlogbeat, win.nxlog_tcp, win.nxlog_udp)):
            self.windows = WindowsInputs(logs.windows, self._document, self._document_acked, logs.max_message,
                                         logs.tcp_max_connections, base_dir=base_dir)
        self.traps = (TrapDatagrams(traps.bind, self._trap, clock) if traps is not None else None)
        self._traps_config = traps
        self._base_dir = base_dir
        self._pump: threading.Thread | None = None
        self._stopping = threading.Event()

    def _line(self, text: str, sender: str, source: str) -> bool:
        src = f"tcp/{sender}" if source == "syslog_tcp" else sender
        return self.publisher.submit("logs", [(text.encode("utf-8", "surrogateescape"), src, self.clock())])

    def _document(self, text: str, sender: str, source: str) -> bool:
        """An NXLog document (TCP line or UDP datagram): published as syslog lines are."""
        return self.publisher.submit("logs", [(text.encode("utf-8", "surrogateescape"), f"{source}/{sender}",
                                               self.clock())])

    def _document_acked(self, text: str, sender: str, source: str, ack: PendingAck, timeout: float) -> bool:
        """A Winlogbeat document: its batch is acknowledged once the bus has stored it."""
        record = (text.encode("utf-8", "surrogateescape"), f"{source}/{sender}", self.clock())
        return self.publisher.submit_acked("logs", record, ack.done_one, timeout)

    def _trap(self, data: bytes, sender: str, received: float) -> bool:
        return self.publisher.submit("traps", [(data, sender, received)])

    def _inform_acked(self, record: tuple[bytes, str, float], done: Callable[[], None]) -> bool:
        """An inform: published as Winlogbeat's documents are, `done` (its answer) once stored;
        never waits for room (the socket thread must go on reading): no room, not answered."""
        return self.publisher.submit_acked("traps", record, done, 0.0)

    def _pump_flows(self) -> None:
        assert self.queue is not None
        while True:
            batch = self.queue.get_batch(PUMP_BATCH, 0.2)
            if batch:
                # as it came (a Datagrams with the C extension): framed without a tuple a datagram
                self.publisher.submit("flows", batch)
            elif self._stopping.is_set():
                return

    def start(self) -> None:
        if self.traps is not None and self._traps_config is not None and self.traps.informs is None \
                and (self._traps_config.communities or self._traps_config.users):
            t = self.traps  # the secrets are resolved here: a bad one is a start error, nothing started
            t.informs = InformAnswerer(self._traps_config, self._base_dir, self._inform_acked,
                                       self._trap, t.send, t.counters)
        self.publisher.start()
        started: list[object] = []
        try:
            for r in self.flow_receivers:
                r.start()
                started.append(r)
            for s in (self.udp, self.tcp, self.traps):
                if s is not None:
                    s.start()
                    started.append(s)
            if self.windows is not None:
                self.windows.start()
                started.append(self.windows)
        except OSError:
            for x in started:
                x.stop()  # type: ignore[attr-defined]
            self.publisher.stop()
            raise
        if self.queue is not None:
            self._stopping.clear()
            self._pump = threading.Thread(target=self._pump_flows, name="bus-flows-pump", daemon=True)
            self._pump.start()

    def addresses(self) -> dict[str, tuple[str, int]]:
        out = {r.name: r.address for r in self.flow_receivers}
        if self.udp is not None:
            out["syslog_udp"] = self.udp.address
        if self.tcp is not None:
            out["syslog_tcp"] = self.tcp.address
        if self.traps is not None:
            out["traps"] = self.traps.address
        if self.windows is not None:
            out.update({srv.source: srv.address for srv in self.windows.servers})
        return out

    def stop(self, timeout: float = 10.0) -> None:
        for r in self.flow_receivers:
            r.stop(timeout)
        for s in (self.udp, self.tcp, self.traps):
            if s is not None:
                s.stop(timeout)
        if self.windows is not None:
            self.windows.stop(timeout)
        self._stopping.set()
        if self._pump is not None:
            self._pump.join(timeout)
            self._pump = None
        self.publisher.stop(timeout)

    def counter_sets(self) -> list[Counters]:
        sets = [*self.publisher.counter_sets(), self.flow_counters]
        sets += [s.counters for s in (self.udp, self.tcp, self.traps) if s is not None]
        return sets + ([srv.counters for srv in self.windows.servers] if self.windows is not None else [])

    def status(self) -> dict[str, object]:
        return {"connected": int(self.publisher.connected), "buffer_bytes": self.publisher.buffer.size,
                "queue": len(self.queue) if self.queue is not None else 0}
