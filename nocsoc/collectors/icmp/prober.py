"""IcmpProber: the `icmp` service of `nocsoc run`, and `ping_devices` behind `nocsoc ping`.

Each round pings every inventory device concurrently (icmplib's asyncio `async_ping`, at most
`concurrency` at a time) and writes one `ping` point per device: rtt min/avg/max, jitter, loss.
A round that takes longer than the interval is counted as an overrun and the next one starts at
once (rounds never overlap).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

import icmplib

from nocsoc.collectors.icmp.config import IcmpConfig
from nocsoc.collectors.icmp.sockets import Mode, choose_mode
from nocsoc.component import Counters
from nocsoc.inventory.model import Device, Inventory
from nocsoc.schema import ICMP_PROBE, PING, Point
from nocsoc.sinks.base import Sink

log = logging.getLogger(__name__)


@dataclass
class PingResult:
    device: str
    site: str
    role: str
    address: str
    sent: int
    received: int
    loss_pct: float
    rtt_min_ms: float | None
    rtt_avg_ms: float | None
    rtt_max_ms: float | None
    jitter_ms: float | None
    error: str = ""

    @property
    def reachable(self) -> bool:
        return self.received > 0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "reachable": self.reachable}

    def point(self, time_ns: int) -> Point:
        ok = self.received > 0
        return PING.point(time_ns, {"device": self.device, "site": self.site, "role": self.role},
                          {"reachable": int(ok), "sent": self.sent, "received": self.received,
                           "loss_pct": self.loss_pct,
                           "rtt_min_ms": self.rtt_min_ms, "rtt_avg_ms": self.rtt_avg_ms,
                           "rtt_max_ms": self.rtt_max_ms, "jitter_ms": self.jitter_ms})


async def _ping_one(device: Device, config: IcmpConfig, mode: Mode, sem: asyncio.Semaphore) -> PingResult:
    base = {"device": device.name, "site": device.site, "role": device.role.value,
            "address": device.address}
    async with sem:
        try:
            host = await icmplib.async_ping(device.address, count=config.count,
                                            interval=config.packet_interval_s, timeout=config.timeout_s,
                                            privileged=mode == "raw")
        except icmplib.ICMPLibError as exc:  # e.g. network unreachable: the device is not reachable
            return PingResult(**base, sent=config.count, received=0, loss_pct=100.0, rtt_min_ms=None,
                              rtt_avg_ms=None, rtt_max_ms=None, jitter_ms=None,
                              error=f"{type(exc).__name__}: {exc}")
    if host.packets_sent == 0:  # every send failed (no route, blackhole): icmplib says loss 0
        return PingResult(**base, sent=0, received=0, loss_pct=100.0, rtt_min_ms=None, rtt_avg_ms=None,
                          rtt_max_ms=None, jitter_ms=None,
                          error="no echo request could be sent (no route to the address?)")
    ok = host.packets_received > 0  # icmplib reports 0.0 ms rtts when nothing came back
    return PingResult(**base, sent=host.packets_sent, received=host.packets_received,
                      loss_pct=round(host.packet_loss * 100.0, 3),
                      rtt_min_ms=host.min_rtt if ok else None, rtt_avg_ms=host.avg_rtt if ok else None,
                      rtt_max_ms=host.max_rtt if ok else None, jitter_ms=host.jitter if ok else None)


async def ping_devices_async(devices: list[Device], config: IcmpConfig, mode: Mode) -> list[PingResult]:
    sem = asyncio.Semaphore(config.concurrency)
    return list(await asyncio.gather(*(_ping_one(d, config, mode, sem) for d in devices)))


def ping_devices(devices: list[Device], config: IcmpConfig, mode: Mode | None = None) -> list[PingResult]:
    """One round over `devices` (IcmpPermissionError when no ICMP socket is allowed)."""
    return asyncio.run(ping_devices_async(devices, config, mode or choose_mode(config.privileged)))


class IcmpProber:
    name = "icmp"

    def __init__(self, config: IcmpConfig, inventory: Inventory, sink: Sink | None) -> None:
        self.config = config
        self.inventory = inventory
        self.sink = sink
        self.counters = Counters(ICMP_PROBE)
        self.mode: Mode | None = None
        self.last: list[PingResult] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def reload(self, inventory: Inventory) -> None:
        self.inventory = inventory

    def start(self) -> None:
        self.mode = choose_mode(self.config.privileged)  # one clear error before any thread starts
        log.info("icmp: pinging %d devices every %gs (%s sockets)", len(self.inventory.devices),
                 self.config.interval_s, self.mode)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="icmp", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_round(self) -> list[PingResult]:
        assert self.mode is not None
        results = ping_devices(list(self.inventory.devices), self.config, self.mode)
        now = time.time_ns()
        self.counters.add("rounds")
        for r in results:
            self.counters.add("probes")
            self.counters.add("reachable" if r.reachable else "unreachable")
            if r.error:
                self.counters.add("errors")
        if self.sink is not None and results:
            self.sink.write([r.point(now) for r in results])
        self.last = results
        return results

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.run_round()
            except Exception:  # one failed round must not end the service
                self.counters.add("errors")
                log.exception("icmp: a probe round failed")
            took = time.monotonic() - started
            if took > self.config.interval_s:
                self.counters.add("overruns")
                continue
            self._stop.wait(self.config.interval_s - took)

    def counter_sets(self) -> list[Counters]:
        return [self.counters]
