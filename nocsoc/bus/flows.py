"""`--role decoder`: flow partitions from the bus -> the same FlowPipeline as one machine -> sink.

Idempotent by stream sequence. A partition's rollups are written when their interval closes, and
then its commit record is updated by compare-and-set: the sequence up to which every message is
in a written interval (`floor`), the few later ones already in a written interval (`extra`: a
message of an older interval behind a newer one), the first interval still open
(`closed_before`), and the partition's templates and sampling rates. Only then are the messages
acknowledged. A successor (the owner died, or a new member took the partition) reads from
floor + 1, skips `extra`, and starts its rollups at `closed_before`: each datagram is in exactly
one written interval. A crash between the sink write and the commit record rewrites the same
points (same time, tags and values: an overwrite in InfluxDB) - the only window, milliseconds.

An interval closes once the wall clock is `close_grace_s` past its end and either the partition
is caught up or a later message has been read (the receivers' time, carried in the envelope,
is what rollups use, so the results equal the single-machine ones exactly).
"""

from __future__ import annotations

import collections
import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nocsoc.bus.config import BusConfig
from nocsoc.bus.consume import PartitionRunner
from nocsoc.bus.envelope import Record, Records, Viewed, decode_view
from nocsoc.bus.transport import Transport, make_transport
from nocsoc.collectors.flows import speedups
from nocsoc.collectors.flows.collector import BATCH_DATAGRAMS, FlowPipeline
from nocsoc.collectors.flows.config import FlowsConfig
from nocsoc.collectors.flows.templates import TemplateCache
from nocsoc.component import Counters
from nocsoc.inventory.model import Inventory
from nocsoc.schema import Point
from nocsoc.sinks.base import Sink

log = logging.getLogger(__name__)

FLUSH_TIMEOUT_S = 10.0


@dataclass
class PartitionState:
    pipeline: FlowPipeline
    dir: Path
    floor: int
    revision: int | None
    extra: set[int] = field(default_factory=set)
    processed: collections.deque[tuple[int, int]] = field(default_factory=collections.deque)
    max_time: float = 0.0
    templates: str | None = None  # as last committed
    sampling: str | None = None


class FlowDecoderHandler:
    def __init__(self, config: FlowsConfig, bus: BusConfig, inventory: Inventory | None, sink: Sink,
                 transport: Transport, work_dir: Path, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.bus = bus
        self.inventory = inventory
        self.sink = sink
        self.transport = transport
        self.work_dir = work_dir
        self.clock = clock
        self.parts: dict[int, PartitionState] = {}
        self.points = 0

    def _key(self, p: int) -> str:
        return f"flows.p{p:03d}"

    async def acquire(self, partition: int) -> int:
        got = await self.transport.get_state(self._key(partition))
        rec = json.loads(got[0]) if got else {}
        d = self.work_dir / f"p{partition:03d}"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        # the partition's templates and sampling rates travel in the commit record; the pipeline
        # reads them back through its own persistence (the files it keeps on one machine)
        if rec.get("templates"):
            (d / "templates.json").write_text(rec["templates"])
        if rec.get("sampling"):
            (d / "sampling.json").write_text(rec["sampling"])
        pipeline = FlowPipeline(self.config, self.inventory, d)
        pipeline.load_state()
        # intervals before this one were written by the previous owner: a record for one of them
        # is late, exactly as on one machine (Rollups keeps this bound privately)
        pipeline.rollups._closed_before = int(rec.get("closed_before", -1))
        st = PartitionState(pipeline, d, int(rec.get("floor", 0)), got[1] if got else None,
                            set(rec.get("extra", [])), templates=rec.get("templates"),
                            sampling=rec.get("sampling"))
        self.parts[partition] = st
        return st.floor + 1

    # a message's records as a view of the message where the C extension can (envelope.decode_view):
    # the payloads are read in place by the bulk decoder, never cut into bytes and joined again
    decode_message = staticmethod(decode_view)

    def handle_batch(self, partition: int, messages: list[tuple[int, list[Record]]]) -> list[bool]:
        """One FlowPipeline call per BATCH_DATAGRAMS of the whole fetch (its cost per call is
        what the collector's batches amortise too); each message's interval is noted for the
        commit. Messages come as `decode_message` made them: Viewed (their Datagrams joined into one
        view, no payload copied) or lists of records."""
        st = self.parts[partition]
        rollups = st.pipeline.rollups
        closed = rollups._closed_before
        out: list[bool] = []
        parts: list[object] = []
        for seq, records in messages:
            if seq in st.extra:
                out.append(False)
                continue
            out.append(True)
            if not records:
                st.processed.append((seq, closed))
                continue
            # the envelope's records carry their latest time (a C-level max over the times)
            if isinstance(records, (Records, Viewed)):
                last = records.last_time
            else:
                last = max(t for _p, _s, t in records)
            st.processed.append((seq, max(rollups.interval_of(last), closed)))
            st.max_time = max(st.max_time, last)
            parts.append(records.datagrams if isinstance(records, Viewed) else records)
        if not parts:
            return out
        todo: Sequence[Record]
        if speedups.ext is not None:
            todo = speedups.ext.Datagrams.join(parts)
        else:
            todo = [r for part in parts for r in part]  # type: ignore[attr-defined]
        for i in range(0, len(todo), BATCH_DATAGRAMS):  # the collector's batch size (cache-sized)
            st.pipeline.process(todo[i:i + BATCH_DATAGRAMS])
        return out

    def drain(self) -> None:
        """Nothing is queued between the runner and the rollups."""

    def skip(self, partition: int, seq: int) -> None:
        st = self.parts[partition]
        st.processed.append((seq, -(1 << 62)))  # in no interval: done once seen

    async def commit(self, partition: int, caught_up: bool) -> int:
        st = self.parts[partition]
        pipeline = st.pipeline
        wall = self.clock() - self.bus.close_grace_s
        now = wall if caught_up else min(wall, st.max_time)
        points: list[Point] = pipeline.rollups.due(now) + pipeline.counter_points()
        closed = pipeline.rollups._closed_before
        floor, extra = st.floor, set(st.extra)
        keep: collections.deque[tuple[int, int]] = collections.deque()
        prefix = True
        for seq, eff in st.processed:
            done = eff < closed
            if done and prefix:
                floor = seq
            elif done:
                extra.add(seq)
            else:
                prefix = False
                keep.append((seq, eff))
        extra = {s for s in extra if s > floor}
        if floor == st.floor and extra == st.extra and not points:
            return st.floor
        if points:
            self.sink.write(points)
            self.points += len(points)
            # the sinks batch on their own thread: wait until these are sent (or spooled after the
            # sink's retries) before the commit record says they are written
            if not self.sink.flush(FLUSH_TIMEOUT_S):
                log.warning("flows p%d: the sink has not sent everything within %.0f s (spooled or "
                            "retrying); committing", partition, FLUSH_TIMEOUT_S)
        sampling = json.dumps(pipeline.sampling.to_json())
        if pipeline.templates.dirty:
            st.templates = templates_json(pipeline.templates)
            pipeline.templates.dirty = False
        st.sampling = sampling
        rec = {"floor": floor, "extra": sorted(extra), "closed_before": closed,
               "templates": st.templates, "sampling": st.sampling}
        st.revision = await self.transport.put_state(self._key(partition), json.dumps(rec).encode(),
                                                     st.revision)
        st.floor, st.extra, st.processed = floor, extra, keep
        return floor

    def release(self, partition: int) -> None:
        st = self.parts.pop(partition, None)
        if st is not None:
            shutil.rmtree(st.dir, ignore_errors=True)


def templates_json(cache: TemplateCache) -> str:
    """The document TemplateCache.save() writes (and load() reads back on a takeover), made in
    memory: its files would cost an fsync per commit. Reads the cache's table, which has no
    public iterator."""
    rows = [{"exporter": k[0], "domain": k[1], **t.to_json()} for k, t in cache._templates.items()]
    return json.dumps({"version": 1, "templates": rows})


class BusFlowDecoder:
    """The `bus_flows` component (`nocsoc run --role decoder`)."""

    name = "bus_flows"

    def __init__(self, config: FlowsConfig, bus: BusConfig, inventory: Inventory | None, sink: Sink,
                 work_dir: Path, member: str, clock: Callable[[], float] = time.time,
                 transport: Transport | None = None) -> None:
        self.transport = transport or make_transport(bus, f"nocsoc-decoder-{member}")
        self.handler = FlowDecoderHandler(config, bus, inventory, sink, self.transport, work_dir, clock)
        self.runner = PartitionRunner("flows", bus.flow_partitions, bus, self.transport, self.handler,
                                      member, clock)

    def start(self) -> None:
        self.runner.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.runner.stop(timeout)

    def crash(self) -> None:
        """Stop as a kill -9 would (tests): nothing committed, nothing released."""
        self.runner.stop(5.0, graceful=False)

    def reload(self, inventory: Inventory) -> None:
        self.handler.inventory = inventory
        for st in list(self.handler.parts.values()):
            st.pipeline.set_inventory(inventory)

    def counter_sets(self) -> list[Counters]:
        return [self.runner.counters]

    def status(self) -> dict[str, int]:
        return {"partitions": len(self.runner.held), "points": self.handler.points}
