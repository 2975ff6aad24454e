"""`--role detector`: log partitions from the bus -> the same LogPipeline as one machine.

Log partitions carry syslog lines and Windows event documents (Winlogbeat, NXLog), each record's
source naming its input (`nocsoc.bus.receiver`); the pipeline parses each as its input's parser
does on one machine (Windows documents: the field mapping, then the Sigma engine).

Idempotent by stream sequence through the alert store: each message's lines are queued to the
pipeline with a mark (`bus:<stream>`, sequence), and the pipeline stores the marks in the same
transaction as the detections of the lines before them - the mechanism that already makes a
tailed file resume exactly after a kill -9. A partition's new owner reads from the stored
sequence + 1; what the old owner processed but did not commit is processed once, by the new one.
Messages are acknowledged once the store has their mark.

Correlation windows group by source host, and a partition holds all of a host's lines, so one
detector sees all events of a group. When a partition moves (a detector joins, leaves or dies),
its groups' open windows stay behind: the new owner starts them empty, so a threshold that
straddles the move may be reached up to one window later (nothing is counted twice).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from nocsoc.bus.config import BusConfig
from nocsoc.bus.consume import PartitionRunner
from nocsoc.bus.envelope import Record
from nocsoc.bus.partition import stream_name
from nocsoc.bus.transport import Transport, make_transport
from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.logs.pipeline import MARK_ONLY, LogPipeline
from nocsoc.component import Counters
from nocsoc.detections.alerts.store import SHARED_OFFSET_PREFIX
from nocsoc.detections.config import DetectionsConfig
from nocsoc.sinks.base import Sink

log = logging.getLogger(__name__)

QUEUE_WAIT_S = 30.0


# a record's input, from its source's prefix (`nocsoc.bus.receiver`) -> the pipeline's source
INPUTS = {"": "syslog_udp", "tcp": "syslog_tcp", "winlogbeat": "winlogbeat", "nxlog_tcp": "nxlog_tcp",
          "nxlog_udp": "nxlog_udp"}


def detector_logs_config(config: LogsConfig) -> LogsConfig:
    """The logs config of a detector: the same parsing and rules, no listeners or files of its
    own (the receivers have them: syslog and the Windows inputs)."""
    return config.model_copy(update={"syslog_udp": None, "syslog_tcp": None, "files": [],
                                     "windows": config.windows.model_copy(update={
                                         "winlogbeat": None, "nxlog_tcp": None, "nxlog_udp": None})})


def record_input(source: str) -> tuple[str, str]:
    """(pipeline source, sender address) of a record's source; ValueError for an input this
    version does not know (the message is poison: dead-lettered, never redelivered)."""
    prefix, _, sender = source.rpartition("/")
    kind = INPUTS.get(prefix)
    if kind is None:
        raise ValueError(f"record from an unknown input {prefix[:40]!r}")
    return kind, sender


class LogDetectorHandler:
    def __init__(self, pipeline: LogPipeline, bus: BusConfig) -> None:
        self.pipeline = pipeline
        self.bus = bus
        self.next_seq: dict[int, int] = {}

    def _mark(self, p: int) -> str:
        return f"{SHARED_OFFSET_PREFIX}{stream_name(self.bus.prefix, 'logs', p)}"

    async def acquire(self, partition: int) -> int:
        got = self.pipeline.store.input_offset(self._mark(partition))
        start = (got[1] if got else 0) + 1
        self.next_seq[partition] = start
        return start

    # a batch that raises queued nothing (its inputs are checked first): the runner then hands
    # its messages over one by one, so only the bad one goes to the dead-letter subject
    all_or_nothing = True

    def handle_batch(self, partition: int, messages: list[tuple[int, list[Record]]]) -> list[bool]:
        for _seq, records in messages:
            for _p, source, _t in records:
                record_input(source)
        return [self.handle(partition, seq, records) for seq, records in messages]

    def handle(self, partition: int, seq: int, records: list[Record]) -> bool:
        mark = self._mark(partition)
        for i, (payload, source, _t) in enumerate(records):
            text = payload.decode("utf-8", "replace")
            kind, sender = record_input(source)
            last = i == len(records) - 1
            # the mark of a message is committed only with its last line: a crash mid-message
            # reads the whole message again, and none of its lines was committed
            if not self.pipeline.submit_marked(text, sender, kind, (mark, 0, seq) if last else None,
                                               QUEUE_WAIT_S):
                raise RuntimeError("log pipeline queue stayed full")
        if not records:
            self.skip(partition, seq)
        return True

    def skip(self, partition: int, seq: int) -> None:
        self.pipeline.submit_marked("", "", MARK_ONLY, (self._mark(partition), 0, seq), QUEUE_WAIT_S)

    def drain(self) -> None:
        """Wait until every queued line is processed and committed with its mark (before a
        partition is released: its successor starts from the stored mark), the events held for
        reordering released first (else their marks wait up to the reorder window)."""
        self.pipeline.release_held()
        deadline = time.monotonic() + QUEUE_WAIT_S
        while not self.pipeline.idle() and time.monotonic() < deadline:
            time.sleep(0.02)

    async def commit(self, partition: int, caught_up: bool) -> int:
        got = self.pipeline.store.input_offset(self._mark(partition))
        return got[1] if got else 0

    def release(self, partition: int) -> None:
        """The partition is no longer ours (given up, or its lease lost): what was handed over
        is committed now, so that if it comes back to this detector (a lease lost to a stall,
        then taken again) it resumes after it rather than handing it over twice."""
        self.drain()
        self.next_seq.pop(partition, None)


class BusLogDetector:
    """The `bus_logs` component (`nocsoc run --role detector`)."""

    name = "bus_logs"

    def __init__(self, logs: LogsConfig, detections: DetectionsConfig, bus: BusConfig, sink: Sink | None,
                 base_dir: Path, member: str, clock: Callable[[], float] | None = None,
                 transport: Transport | None = None, pipeline: LogPipeline | None = None) -> None:
        self.pipeline = pipeline or LogPipeline(detector_logs_config(logs), detections, sink,
                                                base_dir=base_dir)
        self.transport = transport or make_transport(bus, f"nocsoc-detector-{member}")
        self.handler = LogDetectorHandler(self.pipeline, bus)
        self.runner = PartitionRunner("logs", bus.log_partitions, bus, self.transport, self.handler, member)

    def start(self) -> None:
        self.pipeline.start()
        self.runner.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.runner.stop(timeout)
        self.pipeline.stop(timeout)

    def crash(self) -> None:
        """Stop as a kill -9 would (tests): the store keeps only what was committed. The
        pipeline first: it commits on its own thread, and a kill -9 stops it with the rest (were
        it still committing after the runner's stop, its successor could read a mark before
        those commits)."""
        self.pipeline.abandon()
        self.runner.stop(5.0, graceful=False)

    def counter_sets(self) -> list[Counters]:
        return [self.runner.counters, *self.pipeline.counter_sets()]

    def status(self) -> dict[str, object]:
        return {"partitions": len(self.runner.held), **self.pipeline.status()}
