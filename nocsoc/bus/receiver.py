"""`--role receiver`: the flow and syslog listeners of one machine, publishing to the bus.

The same sockets and receive threads as `nocsoc run` on one machine (flows' UdpReceiver,
syslog's UDP/TCP servers); nothing is parsed here: a record is the datagram or the framed line,
the sender's address and the receive time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from nocsoc.bus.config import BusConfig
from nocsoc.bus.publish import BusPublisher
from nocsoc.bus.transport import Transport, make_transport
from nocsoc.collectors.flows.config import FlowsConfig
from nocsoc.collectors.flows.receiver import DatagramQueue, UdpReceiver
from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.logs.server import TcpSyslogServer, UdpSyslogServer
from nocsoc.component import Counters
from nocsoc.schema import FLOW_PIPELINE

log = logging.getLogger(__name__)

PUMP_BATCH = 4096


class BusReceiver:
    """The `bus_receiver` component."""

    name = "bus_receiver"

    def __init__(self, bus: BusConfig, flows: FlowsConfig | None, logs: LogsConfig | None,
                 buffer_dir: Path, member: str, clock: Callable[[], float] = time.time,
                 transport: Transport | None = None) -> None:
        self.clock = clock
        self.transport = transport or make_transport(bus, f"nocsoc-receiver-{member}")
        kinds: dict[str, float | None] = {}
        if flows is not None:
            kinds["flows"] = flows.interval_s
        if logs is not None:
            kinds["logs"] = None
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
        self._pump: threading.Thread | None = None
        self._stopping = threading.Event()

    def _line(self, text: str, sender: str, source: str) -> bool:
        src = f"tcp/{sender}" if source == "syslog_tcp" else sender
        self.publisher.submit("logs", [(text.encode("utf-8", "surrogateescape"), src, self.clock())])
        return True

    def _pump_flows(self) -> None:
        assert self.queue is not None
        while True:
            batch = self.queue.get_batch(PUMP_BATCH, 0.2)
            if batch:
                self.publisher.submit("flows", [(bytes(p), a, t) for p, a, t in batch])
            elif self._stopping.is_set():
                return

    def start(self) -> None:
        self.publisher.start()
        started: list[object] = []
        try:
            for r in self.flow_receivers:
                r.start()
                started.append(r)
            for s in (self.udp, self.tcp):
                if s is not None:
                    s.start()
                    started.append(s)
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
        return out

    def stop(self, timeout: float = 10.0) -> None:
        for r in self.flow_receivers:
            r.stop(timeout)
        for s in (self.udp, self.tcp):
            if s is not None:
                s.stop(timeout)
        self._stopping.set()
        if self._pump is not None:
            self._pump.join(timeout)
            self._pump = None
        self.publisher.stop(timeout)

    def counter_sets(self) -> list[Counters]:
        sets = [*self.publisher.counter_sets(), self.flow_counters]
        return sets + [s.counters for s in (self.udp, self.tcp) if s is not None]

    def status(self) -> dict[str, object]:
        return {"connected": int(self.publisher.connected), "buffer_bytes": self.publisher.buffer.size,
                "queue": len(self.queue) if self.queue is not None else 0}
