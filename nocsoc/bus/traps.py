"""`--role decoder`: SNMP trap partitions from the bus -> the trap receiver's decoding, events
and alerts, as one machine does them.

A receiver publishes each trap datagram unread, with its sender's address and receive time; the
decoder does everything `nocsoc run` does with it on one machine (`TrapReceiver.handle`): the
inventory check, pysnmp's decoding and authentication, the catalogue, the interface names, the
`snmp_trap`/`interface` points and the alert. Partitions are by sender address, so one device's
traps stay in order in one decoder.

Idempotent by stream sequence, as the log detectors are: a partition's mark (`bus:<stream>`,
the sequence of the last message handled) is stored in the alert store in the same transaction
as the alerts of the traps before it, after their points were written and flushed to the sink.
A successor reads from the stored sequence + 1, so each trap's alert is counted once. A crash
between the sink write and the store commit rewrites the same points (each trap's timestamp is
its receive time, distinct to the microsecond): an overwrite, not a second point. Messages are
acknowledged once the store has their mark.

Informs: the receiver answers them once JetStream has stored them, and publishes one copy of
each (`nocsoc.bus.informs`): a v2c inform as its datagram, decoded here as a trap is; a v3
inform, which only the receiver (its authoritative engine) can authenticate, decoded, with
source `v3inform/<sender>`: mapped here by `TrapReceiver.handle_trap` as one machine maps it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nocsoc.bus.config import BusConfig
from nocsoc.bus.consume import PartitionRunner
from nocsoc.bus.envelope import Record
from nocsoc.bus.informs import V3_INFORM_SOURCE, decode_v3
from nocsoc.bus.partition import stream_name
from nocsoc.bus.transport import Transport, make_transport
from nocsoc.collectors.ifnames import EntityNames, InterfaceNames
from nocsoc.collectors.logs.pipeline import alert_points
from nocsoc.collectors.traps.config import TrapsConfig
from nocsoc.collectors.traps.receiver import TrapReceiver
from nocsoc.component import Counters
from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.alerts.store import SHARED_OFFSET_PREFIX
from nocsoc.detections.engine import Detection
from nocsoc.inventory.model import Inventory
from nocsoc.schema import Point
from nocsoc.sinks.base import Sink

log = logging.getLogger(__name__)

FLUSH_TIMEOUT_S = 10.0


@dataclass
class Uncommitted:
    """A partition's work since its last commit."""

    points: list[Point] = field(default_factory=list)
    detections: list[Detection] = field(default_factory=list)
    seq: int | None = None  # the last message handled (or skipped)


class TrapDecoderHandler:
    def __init__(self, receiver: TrapReceiver, bus: BusConfig, sink: Sink | None) -> None:
        self.receiver = receiver
        self.bus = bus
        self.sink = sink
        self.parts: dict[int, Uncommitted] = {}
        self.points = 0

    @property
    def store(self) -> AlertStore:
        assert self.receiver.store is not None, "the trap decoder keeps its marks in the alert store"
        return self.receiver.store

    def _mark(self, p: int) -> str:
        return f"{SHARED_OFFSET_PREFIX}{stream_name(self.bus.prefix, 'traps', p)}"

    async def acquire(self, partition: int) -> int:
        got = self.store.input_offset(self._mark(partition))
        self.parts[partition] = Uncommitted()
        return (got[1] if got else 0) + 1

    def handle_batch(self, partition: int, messages: list[tuple[int, list[Record]]]) -> list[bool]:
        part = self.parts[partition]
        rec = self.receiver
        for seq, records in messages:
            for payload, source, received in records:
                if source.startswith(V3_INFORM_SOURCE):
                    self._v3_inform(payload, source[len(V3_INFORM_SOURCE):], received)
                elif rec.admitted(source):
                    # the sender's port is not carried: informs are answered by the receiver
                    rec.handle(payload, (source, 0), received=received)
            points, dets = rec.take()
            part.points += points
            part.detections += dets
            part.seq = seq
        return [True] * len(messages)

    def _v3_inform(self, payload: bytes, sender: str, received: float) -> None:
        """A v3 inform the receiver authenticated and answered, published decoded."""
        rec = self.receiver
        if not rec.admitted(sender):
            return
        try:
            trap = decode_v3(payload)
        except (ValueError, KeyError, TypeError) as exc:
            rec.counters.add("malformed")
            log.warning("traps: a v3 inform from %s on the bus is unreadable: %s", sender, str(exc)[:200])
            return
        rec.handle_trap(trap, (sender, 0), received)

    def drain(self) -> None:
        """Nothing is queued between the runner and the decoding."""

    def skip(self, partition: int, seq: int) -> None:
        self.parts[partition].seq = seq

    async def commit(self, partition: int, caught_up: bool) -> int:
        part = self.parts[partition]
        if part.seq is not None:
            if part.points and self.sink is not None:
                self.sink.write(part.points)
                self.points += len(part.points)
                if not self.sink.flush(FLUSH_TIMEOUT_S):
                    log.warning("traps p%d: the sink has not sent everything within %.0f s (spooled or "
                                "retrying); committing", partition, FLUSH_TIMEOUT_S)
            res = self.store.ingest(part.detections, offsets={self._mark(partition): (0, part.seq)})
            self.receiver.counters.add("alerts", len(res.created) + len(res.updated))
            if res.touched and self.sink is not None:
                self.sink.write(alert_points(res))
            self.parts[partition] = Uncommitted()
        got = self.store.input_offset(self._mark(partition))
        return got[1] if got else 0

    def release(self, partition: int) -> None:
        self.parts.pop(partition, None)  # uncommitted: the next owner handles it again


class BusTrapDecoder:
    """The `bus_traps` component (`nocsoc run --role decoder` with `traps.enabled`)."""

    name = "bus_traps"

    def __init__(self, config: TrapsConfig, bus: BusConfig, inventory: Inventory | None, sink: Sink | None,
                 member: str, *, base_dir: Path | None = None, open_store: Callable[[], AlertStore],
                 ifnames: InterfaceNames | None = None, entnames: EntityNames | None = None,
                 profiles_dir: Path | None = None, clock: Callable[[], float] = time.time,
                 transport: Transport | None = None, receiver: TrapReceiver | None = None) -> None:
        """`open_store`: the alert store (SQLite, or PostgreSQL for decoders on several hosts):
        the partitions' marks are kept there even when `traps.alerts` is off."""
        self.receiver = receiver or TrapReceiver(config, inventory, None, base_dir=base_dir,
                                                 open_store=open_store, ifnames=ifnames, entnames=entnames,
                                                 profiles_dir=profiles_dir)
        self.transport = transport or make_transport(bus, f"nocsoc-decoder-traps-{member}")
        self.handler = TrapDecoderHandler(self.receiver, bus, sink)
        self.runner = PartitionRunner("traps", bus.trap_partitions, bus, self.transport, self.handler,
                                      member, clock)

    def start(self) -> None:
        self.receiver.prepare()  # catalogue, secrets, the alert store: a bad one is a start error
        self.runner.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.runner.stop(timeout)
        self._close()

    def crash(self) -> None:
        """Stop as a kill -9 would (tests): nothing committed, nothing released."""
        self.runner.stop(5.0, graceful=False)
        self._close()

    def _close(self) -> None:
        if self.receiver._own_store and self.receiver.store is not None:
            self.receiver.store.close()
            self.receiver.store = None

    def reload(self, inventory: Inventory) -> None:
        self.receiver.reload(inventory)

    def counter_sets(self) -> list[Counters]:
        return [self.runner.counters, self.receiver.counters]

    def status(self) -> dict[str, int]:
        return {"partitions": len(self.runner.held), "points": self.handler.points}
