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

Correlation windows are kept per partition, in one engine per partition on the partition's own
receive-time clock (`nocsoc.bus.engines`), and move with it (`nocsoc.bus.windows`,
`bus.move_windows`, the default): each partition's windows and held events are saved with each
of its marks, the taking detector restores them before the partition's first line, so a brute
force split across a detector joining, leaving or dying fires once with its whole count.

Giving a partition up waits for every line handed over to be committed (`drain`, up to
QUEUE_WAIT_S); if that does not finish, what is left is counted and said (`drain_timeouts`),
its successor reads it again from the stored mark, and the windows are not handed over.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nocsoc.bus.config import BusConfig
from nocsoc.bus.consume import PartitionRunner
from nocsoc.bus.envelope import Record
from nocsoc.bus.partition import stream_name
from nocsoc.bus.transport import Transport, make_transport
from nocsoc.bus.windows import PartitionWindows
from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.logs.pipeline import MARK_ONLY, PART, RECEIVED, LogPipeline
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


def partition_mark(bus: BusConfig, p: int) -> str:
    """The alert store key of a logs partition's mark (and of its saved windows)."""
    return f"{SHARED_OFFSET_PREFIX}{stream_name(bus.prefix, 'logs', p)}"


def detector_windows(bus: BusConfig) -> PartitionWindows | None:
    """A detector pipeline's window scope: its correlation windows per partition, saved with
    every mark and moving with the partition (`bus.move_windows: true`); None: each
    detector keeps its own (one periodic snapshot)."""
    if not bus.move_windows:
        return None
    return PartitionWindows(bus.log_partitions, lambda p: partition_mark(bus, p))


class LogDetectorHandler:
    def __init__(self, pipeline: LogPipeline, bus: BusConfig, windows: PartitionWindows | None = None,
                 counters: Counters | None = None, member: str = "") -> None:
        """`windows`: the pipeline's window scope (correlation windows that move with their
        partition); `counters`: where drains and hand-overs are counted (the runner's); `member`:
        this detector's name (the holder its partitions are fenced by)."""
        self.pipeline = pipeline
        self.bus = bus
        self.windows = windows
        self.counters = counters
        self.member = member
        if windows is not None:
            windows.on_fenced = self._fenced
        self.next_seq: dict[int, int] = {}
        # when each partition's last batch was fetched (before it was handed over): a commit
        # that finds its reader caught up says the stream has reached about then (`commit`)
        self._fetched: dict[int, float] = {}
        self.handed: dict[int, int] = {}  # the last sequence handed to the pipeline, by partition
        self.drained = True  # whether the last drain finished
        # the detector is stopping: its drains release what the engine holds for reordering (the
        # last detector's stop counts every event); otherwise, with the windows moving, held
        # events move with their partition's state instead of being released before their time
        self.stopping = False

    def _mark(self, p: int) -> str:
        return partition_mark(self.bus, p)

    def _count(self, name: str, n: int = 1) -> None:
        if self.counters is not None:
            self.counters.add(name, n)

    async def acquire(self, partition: int) -> int:
        # first the fence: a detector that held the partition and stalls past its lease commits
        # nothing of it from now on, so the mark and the state read below stay what they are
        epoch = self.pipeline.store.hold_partition(self._mark(partition), self.member) \
            if self.windows is not None else 0
        got = self.pipeline.store.input_offset(self._mark(partition))
        start = (got[1] if got else 0) + 1
        self.next_seq[partition] = start
        self.handed[partition] = start - 1
        if self.windows is not None:
            # before the partition's first line (the queue is in order): its windows as the last
            # holder saved them, with the mark read above
            saved, held = self.pipeline.store.partition_state(self._mark(partition))
            self.pipeline.run_on_engine(lambda: self._take(partition, saved, held, epoch), QUEUE_WAIT_S,
                                        wait=False)
        return start

    def _fenced(self, partition: int) -> None:
        """Engine thread: a commit found the partition taken by another detector (this one
        stalled past its lease): nothing of it was written, its windows are dropped here."""
        self._count("windows_fenced")
        log.warning("bus logs p%d: another detector holds the partition now (this one stalled past its "
                    "lease): its lines handed over since are left to it, nothing of them stored here",
                    partition)

    def _take(self, partition: int, saved: dict[str, dict[str, Any]],
              held: list[tuple[str, dict[str, Any]]], epoch: int) -> None:
        assert self.windows is not None
        n, dets = self.windows.take(self.pipeline.engine, partition, saved, held, (self.member, epoch))
        self.pipeline.report(dets)
        if saved or held:
            self._count("windows_taken")
            log.info("bus logs p%d: %d correlation groups and %d events held for reordering taken over",
                     partition, n, len(held))

    # a batch that raises queued nothing (its inputs are checked first): the runner then hands
    # its messages over one by one, so only the bad one goes to the dead-letter subject
    all_or_nothing = True

    def handle_batch(self, partition: int, messages: list[tuple[int, list[Record]]]) -> list[bool]:
        self._fetched.setdefault(partition, time.time())
        for _seq, records in messages:
            for _p, source, _t in records:
                record_input(source)
        return [self.handle(partition, seq, records) for seq, records in messages]

    def handle(self, partition: int, seq: int, records: list[Record]) -> bool:
        mark = self._mark(partition)
        # the partition's reorder clock moves to the message's receive time before its lines
        # (nocsoc.bus.engines): a stream-ordered clock, not this detector's wall clock
        if self.windows is not None and records and not self.pipeline.submit_marked(
                repr(records[0][2]), str(partition), RECEIVED, None, QUEUE_WAIT_S):
            raise RuntimeError("log pipeline queue stayed full")
        for i, (payload, source, _t) in enumerate(records):
            text = payload.decode("utf-8", "replace")
            kind, sender = record_input(source)
            if self.windows is not None:
                self.windows.note(sender, partition)
            last = i == len(records) - 1
            # the mark of a message is committed only with its last line: a crash mid-message
            # reads the whole message again, and none of its lines was committed
            if not self.pipeline.submit_marked(text, sender, kind, (mark, 0, seq) if last else PART,
                                               QUEUE_WAIT_S):
                raise RuntimeError("log pipeline queue stayed full")
        if not records:
            self.skip(partition, seq)
        self.handed[partition] = seq
        return True

    def skip(self, partition: int, seq: int) -> None:
        if self.pipeline.submit_marked("", "", MARK_ONLY, (self._mark(partition), 0, seq), QUEUE_WAIT_S):
            self.handed[partition] = seq

    def drain(self) -> None:
        self.drain_all()

    def drain_all(self) -> bool:
        """Wait until every queued line is processed and committed with its mark (before a
        partition is released: its successor starts from the stored mark), the events held for
        reordering released first (else their marks wait up to the reorder window) unless the
        windows move and the detector is not stopping: they are saved with the partition's
        state then, and a hand-over (a lease lost, a detector joining) does not release them
        before their time. False, and what is left counted and said, when that does not come
        within QUEUE_WAIT_S."""
        keep_held = self.windows is not None and not self.stopping
        done = self.pipeline.committed if keep_held else self.pipeline.idle
        if not keep_held:
            self.pipeline.release_held()
        deadline = time.monotonic() + QUEUE_WAIT_S
        while not done() and time.monotonic() < deadline:
            time.sleep(0.02)
        self.drained = done()
        if not self.drained:
            left = self.pipeline.backlog()
            self._count("drain_timeouts")
            self._count("drain_left", left["queued"])
            log.error("bus logs: gave up waiting %.0f s for the detections of the lines handed over: "
                      "%d items still queued, %d detections not stored, %d items waiting for the "
                      "reordering; a partition given up now is read again by its next holder from "
                      "its stored mark (nothing lost), without its correlation windows",
                      QUEUE_WAIT_S, left["queued"], left["unstored"], left["waiting"])
        return self.drained

    async def commit(self, partition: int, caught_up: bool) -> int:
        fetched = self._fetched.pop(partition, None)
        if caught_up and self.windows is not None:
            # its reader has read all there was: what is received from now on was received after
            # the last fetch, less what a receiver may take to publish it (its batching, and the
            # wait for the bus's ack, past which it goes to the disk buffer): a quiet partition's
            # clock moves on, so that its last held events are released (if the queue is full,
            # the next commit says it)
            t = (fetched if fetched is not None else time.time()) - self.bus.linger_s \
                - self.bus.publish_timeout_s
            self.pipeline.submit_marked(repr(t), str(partition), RECEIVED, None, 0.0)
        got = self.pipeline.store.input_offset(self._mark(partition))
        return got[1] if got else 0

    def release(self, partition: int) -> None:
        """The partition is no longer ours (given up, or its lease lost): what was handed over
        is committed now, so that if it comes back to this detector (a lease lost to a stall,
        then taken again) it resumes after it rather than handing it over twice; then its
        correlation windows are saved for its next holder and dropped here (`nocsoc.bus.windows`)."""
        drained = self.drain_all()
        self.next_seq.pop(partition, None)
        handed = self.handed.pop(partition, None)
        if self.windows is None:
            return
        got = self.pipeline.store.input_offset(self._mark(partition))
        stored = got[1] if got else 0
        # exact only if the store's mark is what this detector handed over and committed: else
        # (a drain cut short, a lease lost and another holder committing since) this detector's
        # windows may not match the mark the next holder reads after, or be another's already
        exact = drained and handed is not None and stored == handed
        if not exact:
            self.windows.give_up(partition)  # nothing more of it saved from now on
            self._count("windows_not_handed")
            log.warning("bus logs p%d: correlation windows not handed over (%s): its next holder "
                        "starts from the state saved with the store's mark", partition,
                        "the drain did not finish" if not drained else
                        f"the store's mark is {stored}, this detector handed over up to {handed}")
        try:
            self.pipeline.run_on_engine(lambda: self._give(partition, exact), QUEUE_WAIT_S)
        except TimeoutError as exc:
            self._count("windows_not_handed")
            log.error("bus logs p%d: correlation windows not handed over: %s", partition, exc)

    def _give(self, partition: int, exact: bool) -> None:
        """Engine thread: commit every pending detection and mark with the windows' last changes
        (the partition's among them), in one transaction, then drop the partition's windows. Not
        exact: what fired incidents gained is reported here (as if the partition had stayed),
        and the windows go unsaved. Only this partition's: the runner's loop waits for it, and
        renews no lease meanwhile."""
        assert self.windows is not None
        engine = self.pipeline.engine
        if self.stopping:  # else its held events and unreported counts go with its state
            self.pipeline.settle()
        committed = exact and self.pipeline.commit_now()  # its last changes, with its last mark
        # (fenced: another detector holds it already; dropped by the commit, counted so)
        fenced = committed and partition not in self.windows.held
        n = self.windows.drop(engine, partition)
        if committed and not fenced:
            self._count("windows_handed")
            log.info("bus logs p%d: %d correlation groups handed over", partition, n)
        elif exact and not committed:
            self._count("windows_not_handed")
            log.error("bus logs p%d: correlation windows not handed over: the alert store "
                      "refused them (see above)", partition)


class BusLogDetector:
    """The `bus_logs` component (`nocsoc run --role detector`)."""

    name = "bus_logs"

    def __init__(self, logs: LogsConfig, detections: DetectionsConfig, bus: BusConfig, sink: Sink | None,
                 base_dir: Path, member: str, clock: Callable[[], float] | None = None,
                 transport: Transport | None = None, pipeline: LogPipeline | None = None) -> None:
        """`pipeline`: one made by the caller, with `detector_windows(bus)` as its window scope
        for the windows to follow their partitions."""
        self.pipeline = pipeline or LogPipeline(detector_logs_config(logs), detections, sink,
                                                base_dir=base_dir, window_scope=detector_windows(bus))
        scope = self.pipeline.window_scope
        self.windows = scope if isinstance(scope, PartitionWindows) else None
        self.transport = transport or make_transport(bus, f"nocsoc-detector-{member}")
        self.handler = LogDetectorHandler(self.pipeline, bus, self.windows, member=member)
        self.runner = PartitionRunner("logs", bus.log_partitions, bus, self.transport, self.handler, member)
        self.handler.counters = self.runner.counters

    def start(self) -> None:
        self.pipeline.start()
        self.runner.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.handler.stopping = True
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
