"""LogPipeline: syslog (UDP, TCP) and file inputs -> parsers -> detection engine -> alert store
and sinks. The component `nocsoc run` starts and `nocsoc logs listen` runs in the foreground.

Threads: each input frames messages and puts them on one bounded queue (full: the message is
dropped and counted, inputs never block); one engine thread parses, matches, and commits
detections to the alert store in batches (at most `flush_interval_s` late), then writes `alert`
points to the sink. Counters cover every hop (`self_points()` -> `log_collector`, `log_event`).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol
from zoneinfo import ZoneInfo

from nocsoc.collectors.listen import Server, start_all
from nocsoc.collectors.logs.config import FileInputConfig, LogsConfig
from nocsoc.collectors.logs.parsers import LineParser, json_event
from nocsoc.collectors.logs.server import TcpSyslogServer, UdpSyslogServer
from nocsoc.collectors.logs.tail import FileTailer, file_counters
from nocsoc.collectors.logs.zones import parse_zone_names
from nocsoc.collectors.windows.inputs import SOURCES as WINDOWS_SOURCES
from nocsoc.collectors.windows.inputs import WindowsInputs
from nocsoc.collectors.windows.servers import PendingAck
from nocsoc.component import Counters
from nocsoc.detections.alerts import AlertStore, IngestResult
from nocsoc.detections.alerts.factory import open_alert_store
from nocsoc.detections.alerts.points import alert_point
from nocsoc.detections.config import DetectionsConfig
from nocsoc.detections.engine import Detection, Engine
from nocsoc.detections.loader import RuleSet, load_rules
from nocsoc.events import LogEvent
from nocsoc.paths import resolve_path
from nocsoc.schema import LOG_COLLECTOR, LOG_EVENT, Point
from nocsoc.secrets import DirResolver
from nocsoc.sinks.base import Sink

if TYPE_CHECKING:
    from nocsoc.history.logs import LogArchiveWriter
    from nocsoc.inventory.model import Inventory

log = logging.getLogger(__name__)
# (text, sender, source, (file, inode, offset after the line), or an acknowledgement to count
# down once the item is committed (Winlogbeat), or None)
Item = tuple[str, str, str, "tuple[str, int, int] | PendingAck | None"]
_STOP: Item = ("", "", "\x00stop", None)
MARK_ONLY = "\x00mark"  # an item that only moves an input's mark (a bus message with no line)
# an item that says a bus partition's stream has reached a receive time (text: the time, sender:
# the origin): the clock its events are held for reordering by (`WindowScope.received`)
RECEIVED = "\x00received"
# the mark of a bus message's line before its last: nothing is committed until the message's
# last line (which carries its mark) is handled, so a commit never stores some lines of a
# message without its mark (read again after a crash: those lines would count twice)
PART: tuple[str, int, int] = ("\x00part", 0, 0)
_CALL = "\x00call"  # an item that runs a function on the engine thread (`run_on_engine`)
_BACKOFF_FIRST_S, _BACKOFF_MAX_S = 0.05, 5.0


@dataclass
class _Waiting:
    """What handled items gave while the engine still held some of their correlation events for
    reordering (`reorder` is the engine's `reorder_mark()` after them): committed once those are
    released. A mark stored earlier would skip, after a crash, the events the engine still held."""

    reorder: int
    since: float = field(default_factory=time.monotonic)
    detections: list[Detection] = field(default_factory=list)
    marks: dict[str, tuple[int, int]] = field(default_factory=dict)
    acks: list[PendingAck] = field(default_factory=list)


class WindowScope(Protocol):
    """Correlation windows kept per origin (a bus detector's partitions: nocsoc.bus.windows),
    saved per origin with every commit (what changed since the last) instead of the engine's
    single periodic snapshot; events held for reordering are saved with them, so an item's mark
    is committed at once rather than after their release."""

    def origin(self, sender: str) -> str:
        """The origin of a sender's events (`LogEvent.origin`)."""
    def make_engine(self, ruleset: RuleSet, **kwargs: Any) -> Engine:
        """The rule engine (`Engine`'s arguments), its windows by origin."""
    def received(self, engine: Engine, origin: str, t: float) -> list[Detection]:
        """Engine thread: `origin`'s stream has reached receive time `t` (a RECEIVED item);
        the detections of what that releases from the reordering."""
    def changes(self, engine: Engine) -> Any:
        """Engine thread: what to save with this commit; `.saves` is `ingest(windows=...)`."""
    def saved(self, engine: Engine, pending: Any, fenced: set[str]) -> None:
        """Engine thread: `changes`' result is stored, but for the `fenced` partitions."""
    def key_of(self, d: Detection) -> str | None:
        """The partition key of a detection (`AlertStore.ingest(key_of=...)`)."""
    def failed(self, engine: Engine, pending: Any) -> None:
        """Engine thread: the store refused it (saved with the next commit)."""


class _Call:
    """A function `run_on_engine` runs on the engine thread, between two items."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.lock = threading.Lock()
        self.started = self.cancelled = False
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        with self.lock:
            if self.cancelled:
                return
            self.started = True
        try:
            self.result = self.fn()
        except BaseException as exc:  # handed to the caller, which raises it
            self.error = exc
        finally:
            self.done.set()


class StoreOffsets:
    """Where each tailed file resumes: the offsets kept in the alert store, written by
    `AlertStore.ingest` in the same transaction as the alerts of the lines before them."""

    def __init__(self, store: AlertStore) -> None:
        self.store = store

    def get(self, key: str) -> dict[str, int] | None:
        got = self.store.input_offset(key)
        return {"inode": got[0], "offset": got[1]} if got is not None else None


def alert_points(res: IngestResult, time_ns: int | None = None) -> list[Point]:
    """One `alert` point per alert touched: how many events it gained, with its rule and tactic.

    Each point gets its own nanosecond: two alerts with the same tags at the same time would
    otherwise be one InfluxDB point, the second overwriting the first.
    """
    t = time_ns if time_ns is not None else time.time_ns()
    out = []
    for i, (added, a) in enumerate(res.touched.values()):
        out.append(alert_point(a, added, t + i))
    return out


def load_ruleset(dcfg: DetectionsConfig, base_dir: Path | None = None,
                 placeholders: Mapping[str, Sequence[str]] | None = None) -> RuleSet:
    """`placeholders`: the inventory's facts rules may name (`%site_networks%`)."""
    paths = [resolve_path(base_dir, r) for r in dcfg.rules]
    return load_rules(paths, include_builtin=dcfg.builtin_rules, placeholders=placeholders)


class LogPipeline:
    name = "logs"

    def __init__(self, config: LogsConfig, detections_config: DetectionsConfig, sink: Sink | None,
                 *, base_dir: Path | None = None, ruleset: RuleSet | None = None,
                 store: AlertStore | None = None, archive: LogArchiveWriter | None = None,
                 placeholders: Mapping[str, Sequence[str]] | None = None,
                 window_scope: WindowScope | None = None) -> None:
        """`archive`: the log archive writer every parsed event also goes to; `placeholders`:
        values of the rules' Sigma placeholders, from the inventory (`%site_networks%`);
        `window_scope`: correlation windows per origin (a bus detector), saved by it and not
        restored at start (each origin's are restored when it comes)."""
        self.config = config
        self.archive = archive
        self.dconfig = detections_config
        self.sink = sink
        base = base_dir or Path.cwd()
        self.base_dir = base
        self.placeholders = {k: list(v) for k, v in (placeholders or {}).items()}
        self.window_scope = window_scope
        # read by prepare() (start()): the rules, the alert store and its saved windows
        self._ruleset: RuleSet | None = ruleset
        self._engine: Engine | None = None
        self._store: AlertStore | None = store
        self._own_store = store is None
        self.restored_windows = 0
        self.unsaved_windows = 0  # groups beyond correlation_snapshot_groups at the last save
        self._next_snapshot = time.monotonic() + detections_config.correlation_snapshot_s
        self._queue: queue.Queue[Item] = queue.Queue(config.queue_size)
        self.counters = Counters(LOG_COLLECTOR, {"component": "engine"}, only=(
            "received", "parsed", "unparsed", "dropped", "deferred", "matches", "alerts", "suppressed",
            "errors", "store_errors", "store_dropped", "events_per_s", "rules_disabled", "unknown_zones"))
        # detections (and file offsets) the store refused, retried with backoff; bounded: at
        # `max_unstored` the engine stops taking messages (files wait, syslog drops are counted)
        self._unstored: list[Detection] = []
        self._marks: dict[str, tuple[int, int]] = {}
        self._acks: list[PendingAck] = []  # handled items a sender waits to see committed
        # handled items whose correlation events are still held for reordering: their
        # detections, input marks and acknowledgements wait here (see _handle)
        self._waiting: collections.deque[_Waiting] = collections.deque()
        self._backoff = 0.0
        self._retry_at = 0.0
        self._stopping = threading.Event()
        self._release_held = threading.Event()  # see release_held()
        self._abandoned = False
        self._settled = True  # nothing held for reordering nor waiting for the store (see idle)
        self._open = False  # a bus message's lines handled in part (see PART): no commit now
        self._per_parser: Counter[tuple[str, str, str]] = Counter()
        self._per_parser_lock = threading.Lock()
        self.udp: UdpSyslogServer | None = None
        self.tcp: TcpSyslogServer | None = None
        self.tailers: list[FileTailer] = []
        self._file_cfg: dict[str, FileInputConfig] = {}
        self._parsers: dict[str, LineParser] = {}
        self._worker: threading.Thread | None = None
        self._last_rate = (time.monotonic(), 0)
        if config.syslog_udp:
            self.udp = UdpSyslogServer(config.syslog_udp, self.submit, config.max_message)
        if config.syslog_tcp:
            self.tcp = TcpSyslogServer(config.syslog_tcp, self.submit, config.max_message,
                                       config.tcp_max_connections)
        self.windows = WindowsInputs(config.windows, self.submit, self.submit_wait, config.max_message,
                                     config.tcp_max_connections, base_dir=base)
        self.file_counters = file_counters()

    def prepare(self) -> None:
        """The I/O construction leaves to start(): load the rules, open the alert store, restore
        the saved correlation windows, set up the file tailers (which resume from the store's
        offsets). Idempotent; a bad rule file or database is a start error naming it."""
        if self._engine is not None:
            return
        dcfg = self.dconfig
        if self._ruleset is None:
            self._ruleset = load_ruleset(dcfg, self.base_dir, self.placeholders)
            for issue in self._ruleset.errors:  # a rule file that does not load is named, never silent
                log.warning("detections: %s%s: %s (not loaded)", issue.path,
                            f" [{issue.rule}]" if issue.rule else "", issue.message)
        self.counters.set("rules_disabled", len(self._ruleset.disabled))
        for d in self._ruleset.disabled:
            log.warning("rule %r (%s) %s", d.title, d.path, d.message)
        kw: dict[str, Any] = {"max_groups": dcfg.max_groups, "sweep_every_s": dcfg.sweep_every_s,
                              "reorder_window_s": dcfg.reorder_window_s,
                              "reorder_max_events": dcfg.reorder_max_events}
        # a window scope makes its own (a bus detector: one engine per partition, by origin)
        engine = self.window_scope.make_engine(self._ruleset, **kw) if self.window_scope is not None \
            else Engine(self._ruleset, **kw)
        if self._store is None:
            self._store = open_alert_store(dcfg, DirResolver(self.base_dir))
        self._engine = engine
        if self.window_scope is None:
            self.restored_windows = self._restore_correlations()
        offsets = StoreOffsets(self._store)
        for fc in self.config.file_inputs():
            path = str(resolve_path(self.base_dir, fc.path))
            self._file_cfg[path] = fc
            self.tailers.append(FileTailer(path, self._submit_file, offsets, fc.start_at,
                                           self.config.poll_interval_s, self.config.max_message,
                                           self.file_counters))

    def _unprepared(self, what: str) -> NoReturn:
        raise RuntimeError(f"logs: the {what} is read by start() (LogPipeline.prepare())")

    @property
    def ruleset(self) -> RuleSet:
        return self._ruleset if self._ruleset is not None else self._unprepared("rule set")

    @property
    def engine(self) -> Engine:
        return self._engine if self._engine is not None else self._unprepared("rule engine")

    @property
    def store(self) -> AlertStore:
        return self._store if self._store is not None else self._unprepared("alert store")

    @cached_property
    def tz(self) -> ZoneInfo:
        """The timezone of timestamps without one (read from the tz database at first use)."""
        return ZoneInfo(self.config.timezone)

    @cached_property
    def zone_names(self) -> dict[str, int]:
        """The operator's readings of zone names in device timestamps (`logs.zone_names`)."""
        return parse_zone_names(self.config.zone_names)

    def _restore_correlations(self) -> int:
        """Correlation windows saved by the last run (see `_commit`): a brute force half counted
        before a restart is still counted after it."""
        saved = self.store.correlations()
        if not saved:
            return 0
        restored, stale = self.engine.restore(saved)
        log.info("alert store %s: %d correlation windows restored", self.store.path, restored)
        if stale:
            log.warning("alert store %s: saved correlation windows of %s left out: the rule (or the "
                        "windows' format, after an upgrade) changed since",
                        self.store.path, ", ".join(stale))
        return restored

    # --- inputs -----------------------------------------------------------------------------

    def submit(self, text: str, sender: str, source: str) -> bool:
        """Queue one message for the engine; False (and counted) when the queue is full.
        `received` is counted once the message is queued or dropped (received = queued +
        dropped), never before: whoever reads `received` = n and an empty queue knows all n
        were taken."""
        try:
            self._queue.put_nowait((text, sender, source, None))
        except queue.Full:
            self.counters.add("received")
            self.counters.add("dropped")
            return False
        self.counters.add("received")
        return True

    def submit_wait(self, text: str, sender: str, source: str, ack: PendingAck, timeout: float) -> bool:
        """Queue one message, waiting up to `timeout` for room (a sender that resends what is
        not acknowledged is paced, not dropped); `ack` counts down once it is committed."""
        try:
            self._queue.put((text, sender, source, ack), timeout=timeout)
        except queue.Full:
            return False
        self.counters.add("received")
        return True

    def submit_marked(self, text: str, sender: str, source: str, mark: tuple[str, int, int] | None,
                      timeout: float) -> bool:
        """Queue one message from the bus, waiting up to `timeout` for room (the bus keeps what
        is not taken); `mark` (input, 0, stream sequence) is stored with the detections of the
        lines before it, as a tailed file's offset is. Source MARK_ONLY: just the mark."""
        try:
            self._queue.put((text, sender, source, mark), timeout=timeout)
        except queue.Full:
            return False
        if source != MARK_ONLY and source != RECEIVED:
            self.counters.add("received")
        return True

    def release_held(self) -> None:
        """Once the queue is empty, release every event held for reordering (as a stop does),
        so that `idle()` comes without waiting for the reorder window: a bus detector giving a
        partition up commits all it was handed first. Events arriving later than the released
        ones are `late` (counted), as after a stop."""
        self._release_held.set()

    def abandon(self) -> None:
        """Stop the engine thread without committing anything more (tests: a kill -9)."""
        self._abandoned = True
        self._stopping.set()
        if self._worker:
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(_STOP)
            self._worker.join(5)
            self._worker = None

    def run_on_engine(self, fn: Callable[[], Any], timeout: float, wait: bool = True) -> Any:
        """Run `fn` on the engine thread after every item queued before it (the engine and its
        windows are that thread's alone); with `wait`, return its result (or raise its error).
        TimeoutError when the queue stays full or it has not run within `timeout`: it then
        never runs."""
        call = _Call(fn)
        try:
            self._queue.put(("", "", _CALL, call), timeout=timeout)  # type: ignore[arg-type]
        except queue.Full:
            raise TimeoutError(f"log pipeline queue stayed full for {timeout:.0f} s") from None
        if not wait:
            return None
        if not call.done.wait(timeout):
            with call.lock:
                if not call.started:
                    call.cancelled = True
                    raise TimeoutError(f"the log engine did not get to it within {timeout:.0f} s")
            call.done.wait()  # it has started: its effects must not outlive the caller's wait
        if call.error is not None:
            raise call.error
        return call.result

    def snapshot_soon(self) -> None:
        """Save the correlation windows at the engine's next commit, not a snapshot interval
        later (a bus detector's drain just committed every partition's mark past what the
        last save holds)."""
        self._next_snapshot = 0.0

    def settle(self) -> None:
        """Engine thread only (`run_on_engine`): release every event held for reordering and
        report what fired incidents gained, so the windows match every item handled."""
        self._released(self.engine.drain(), self._unstored)

    def commit_now(self) -> bool:
        """Engine thread only (`run_on_engine`, after `settle`): commit every pending detection
        and mark, with the windows' changes (a bus detector's), in one transaction; False when
        the store refused (all of it kept and retried)."""
        return self._commit(self._unstored)

    def report(self, dets: list[Detection]) -> None:
        """Engine thread only (`run_on_engine`): detections the engine gave outside an item (a
        partition's held events taken over, released at once), committed with the next."""
        self._released(dets, self._unstored)

    def _submit_file(self, line: str, path: str, inode: int, offset: int) -> bool:
        """A tailed line; refused when the queue is full (the tailer reads it again later)."""
        try:
            self._queue.put_nowait((line, path, "file", (path, inode, offset)))
        except queue.Full:
            self.counters.add("deferred")
            return False
        self.counters.add("received")
        return True

    def _parser(self, key: str, host: str | None = None) -> LineParser:
        p = self._parsers.get(key)
        if p is None:
            p = self._parsers[key] = LineParser(self.tz, default_host=host, zone_names=self.zone_names)
        return p

    def parse(self, text: str, sender: str, source: str) -> list[LogEvent]:
        """The events of one message or file line (usually one; `message repeated N times`: N)."""
        if source in WINDOWS_SOURCES:
            return [self.windows.parse(text, sender, source)]
        if source == "file":
            fc = self._file_cfg.get(sender)
            if fc is not None and fc.format == "jsonl":
                try:
                    return [json_event(text, source="json", product=fc.product,
                                       services=(fc.service,) if fc.service else (),
                                       categories=(fc.category,) if fc.category else (),
                                       default_host=fc.host or "", now=time.time())]
                except ValueError:
                    return [LogEvent(text, {"message": text}, host=fc.host or "", time=time.time(),
                                     source="json")]
            return self._parser(sender, fc.host if fc else None).events(text, source="file")
        # one parser per sender keeps auditd SYSCALL/EXECVE pairing per host
        return self._parser(sender).events(text, sender=sender, source=source, network=True)

    # --- engine thread ------------------------------------------------------------------------

    def _run(self) -> None:
        pending = self._unstored
        uncommitted = 0  # items taken from the queue whose detections are not committed yet
        deadline = time.monotonic() + self.dconfig.flush_interval_s
        limit = self.dconfig.max_unstored
        while True:
            if self._abandoned:
                return
            stopping = self._stopping.is_set()
            now = time.monotonic()
            item: Item | None = None
            # else: back pressure until the store takes them (but a bus message's lines handled
            # in part are taken through its last: only that line lets them be committed)
            if len(pending) < limit or self._open:
                wait = 0.0 if stopping else max(0.0, deadline - now)
                try:
                    item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
                except queue.Empty:
                    item = None
            else:
                time.sleep(max(0.0, min(self._retry_at - now, 0.05)))
            if item is not None and item[2] == _STOP[2]:
                self._queue.task_done()
                item = None
            elif item is not None and item[2] == _CALL:
                item[3].run()  # type: ignore[union-attr]
                self._queue.task_done()
                item = None
            if item is not None:
                self._handle(item, pending)
                uncommitted += 1
            now = time.monotonic()
            if now >= deadline and self.engine.held():  # held for reordering a window long
                self._released(self.engine.tick(), pending)
                # the tick releases in event-time order: fresh events dated just above the
                # released ones can keep older arrivals held; items wait for them two windows at most
                if self._waiting and now - self._waiting[0].since > 2 * self.dconfig.reorder_window_s:
                    self._released(self.engine.reorder_release(self._waiting[0].reorder), pending)
            if (stopping or self._release_held.is_set()) and item is None:
                # what is still held for reordering, before the last commit (or a bus partition's
                # release: everything handed over committed before its successor reads it)
                self._release_held.clear()
                self._released(self.engine.drain(), pending)
            due = now >= deadline or len(pending) >= min(limit, 1000) or stopping
            # saved windows must match the stored marks: not while items wait for the reordering
            # (a bus detector's windows are saved with every commit: no periodic snapshot)
            snapshot = bool(self.engine.trackers) and now >= self._next_snapshot and not self._waiting \
                and self.window_scope is None
            if (pending or self._marks or snapshot) and (due or snapshot) and now >= self._retry_at \
                    and not self._open:
                self._commit(pending, snapshot)
            self._settled = not pending and not self.engine.held() and not self._waiting
            if not pending and not self._marks:
                for ack in self._acks:
                    ack.done_one()
                self._acks.clear()
                if uncommitted and not self._waiting:
                    for _ in range(uncommitted):
                        self._queue.task_done()
                    uncommitted = 0
            if now >= deadline and not self._open:  # (open: the commit is owed at the message's end)
                deadline = now + self.dconfig.flush_interval_s
            if stopping and item is None and (self._queue.empty() or len(pending) >= limit):
                if pending or self._marks or self.engine.trackers:
                    self._commit(pending, snapshot=bool(self.engine.trackers))
                if pending:  # the store is still refusing: give up on them, counted
                    self.counters.add("store_dropped", len(pending))
                    left = self._lost_at_stop()
                    self.counters.add("dropped", left)
                    log.error("alert store %s: %d detections not stored at shutdown, %d messages "
                              "not processed", self.store.path, len(pending), left)
                    pending.clear()
                return

    def _lost_at_stop(self) -> int:
        """The queued messages a stop that gives up loses: syslog and NXLog TCP lines. Not file
        lines, Winlogbeat documents nor a bus message's lines (read, resent or redelivered:
        not committed nor acknowledged), nor the stop sentinel and mark-only items (no message)."""
        with self._queue.mutex:
            return sum(1 for _, _, source, mark in self._queue.queue
                       if mark is None and source not in (_STOP[2], MARK_ONLY, RECEIVED))

    def _handle(self, item: Item, pending: list[Detection]) -> None:
        """Process one item. Its detections, its input mark (how far its file or bus partition
        got) and its sender's acknowledgement are committed at once when the engine holds none
        of the events handled so far for reordering; else they wait until it has released
        them (`_released`), so a crash never stores a mark past an event not yet counted, nor
        counts an item's detections without its mark (it is read again: counted once)."""
        out: list[Detection] = []
        self._process(item, out)
        engine = self.engine
        mark = item[3]
        if mark is PART:
            self._open, mark = True, None
        elif isinstance(mark, tuple):
            self._open = False
        # a bus detector saves the events held for reordering with its windows and marks
        # (nocsoc.bus.windows): its marks need not wait for their release
        if self.window_scope is not None or (not self._waiting and not engine.held()):
            pending.extend(out)
            if isinstance(mark, tuple):  # processed in order: the latest mark is how far it got
                self._marks[mark[0]] = (mark[1], mark[2])
            elif mark is not None:
                self._acks.append(mark)
            return
        at = engine.reorder_mark()
        if not self._waiting or self._waiting[-1].reorder != at:
            self._waiting.append(_Waiting(at))
        w = self._waiting[-1]
        w.detections.extend(out)
        if isinstance(mark, tuple):
            w.marks[mark[0]] = (mark[1], mark[2])
        elif mark is not None:
            w.acks.append(mark)
        self._promote(pending)

    def _released(self, dets: list[Detection], pending: list[Detection]) -> None:
        """Detections of events the reordering released now (they come after every item handled
        so far), then whatever no longer waits for it."""
        if self._waiting:
            self._waiting[-1].detections.extend(dets)
        else:
            pending.extend(dets)
        self._promote(pending)

    def _promote(self, pending: list[Detection]) -> None:
        waiting, engine = self._waiting, self.engine
        while waiting and engine.reorder_released(waiting[0].reorder):
            w = waiting.popleft()
            pending.extend(w.detections)
            self._marks.update(w.marks)
            self._acks.extend(w.acks)

    def _process(self, item: Item, pending: list[Detection]) -> None:
        text, sender, source, _mark = item
        if source == MARK_ONLY:
            return
        if source == RECEIVED:
            if self.window_scope is not None:
                pending.extend(self.window_scope.received(self.engine, sender, float(text)))
            return
        try:
            evs = self.parse(text, sender, source)
        except Exception:
            self.counters.add("errors")
            log.exception("parse failed for a line from %s", sender)
            return
        if self.window_scope is not None:
            origin = self.window_scope.origin(sender)
            for ev in evs:
                ev.origin = origin
        for ev in evs:
            if self.archive is not None:
                self.archive.add(ev)  # never waits: a full archive queue drops (counted there)
            parsed = ev.parser != "unparsed"
            self.counters.add("parsed" if parsed else "unparsed")
            with self._per_parser_lock:
                self._per_parser[(source, ev.parser, ev.host)] += 1
            try:
                dets = self.engine.process(ev)
            except Exception:
                self.counters.add("errors")
                log.exception("engine failed on an event from %s", sender)
                continue
            if dets:
                self.counters.add("matches", len(dets))
                pending.extend(dets)

    def _commit(self, dets: list[Detection], snapshot: bool = False) -> bool:
        """Store `dets` and the file offsets processed so far in one transaction (with
        `snapshot`, the correlation windows too: they then match the offsets a restart resumes
        from; a bus detector's partitions' windows always: `WindowScope`); on failure keep both
        and retry with exponential backoff (a locked DB or a full disk must neither stop the
        stream nor lose detections). True once stored."""
        if self._abandoned:  # a kill -9 (tests) commits nothing more
            return False
        saved: dict[str, dict[str, Any]] | None = None
        scope, pending = self.window_scope, None
        try:
            if scope is not None:  # every held partition's changes, with its marks
                pending = scope.changes(self.engine)
            elif snapshot:
                saved = self.engine.snapshot(self.dconfig.correlation_snapshot_groups)
            res = self.store.ingest(dets, offsets=self._marks, correlations=saved,
                                    windows=pending.saves if pending is not None else None,
                                    fences=pending.fences if pending is not None else None,
                                    key_of=scope.key_of if scope is not None else None)
        except Exception as exc:
            if scope is not None and pending is not None:
                scope.failed(self.engine, pending)
            self.counters.add("store_errors")
            self._backoff = min(_BACKOFF_MAX_S, self._backoff * 2 if self._backoff else _BACKOFF_FIRST_S)
            self._retry_at = time.monotonic() + self._backoff
            log.error("alert store %s: %s (%d detections held, retry in %.2f s)", self.store.path, exc,
                      len(dets), self._backoff)
            return False
        dets.clear()
        self._marks = {}
        self._backoff, self._retry_at = 0.0, 0.0
        if scope is not None and pending is not None:
            scope.saved(self.engine, pending, res.fenced)
        if saved is not None:
            self._next_snapshot = time.monotonic() + self.dconfig.correlation_snapshot_s
            self.unsaved_windows = sum(s["left_out"] for s in saved.values())
        self.counters.add("alerts", len(res.created))
        self.counters.add("suppressed", res.suppressed)
        if self.sink is not None and res.touched:
            try:
                self.sink.write(alert_points(res))
            except Exception as exc:
                self.counters.add("errors")
                log.error("sink %s: %s", getattr(self.sink, "name", "?"), exc)
        return True

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self.prepare()
        if self.archive is not None:
            self.archive.start()
        self._worker = threading.Thread(target=self._run, name="log-engine", daemon=True)
        self._worker.start()
        inputs: list[Server] = [s for s in (self.udp, self.tcp) if s is not None]
        try:
            start_all([*inputs, self.windows, *self.tailers])
        except Exception:
            # a port in use: start_all closed the inputs it had started; the engine thread, the
            # archive and the store go too, so a failed start leaves nothing bound or running
            self.stop()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        """Stop inputs, drain the queue through the engine, commit, close the store."""
        for t in self.tailers:
            t.stop(timeout)
        if self.tcp:
            self.tcp.stop(timeout)
        if self.udp:
            self.udp.stop(timeout)
        self.windows.stop(timeout)
        if self._worker:
            self._stopping.set()
            with contextlib.suppress(queue.Full):  # wakes the engine thread (the event suffices)
                self._queue.put_nowait(_STOP)
            self._worker.join(timeout)
        if self.archive is not None:
            self.archive.stop(timeout)
        if self._own_store and self._store is not None:
            self._store.close()

    def reload(self, inventory: Inventory) -> None:
        """A new inventory (SIGHUP). The rules were compiled with the old site networks and the
        engine holds live correlation windows, so new networks are said, not applied: they take
        effect when the logs worker restarts."""
        from nocsoc.detections.placeholders import from_inventory

        new = from_inventory(inventory)
        if any(new.get(k, []) != self.placeholders.get(k, []) for k in new):
            log.warning("logs: the inventory's site networks changed; rules that use them "
                        "(%site_networks%) keep the old ones until the logs worker restarts")

    def committed(self) -> bool:
        """True when every queued item has been handled and committed; events held for
        reordering may still be held (a bus detector saves them with its partitions' state)."""
        return self._queue.unfinished_tasks == 0

    def idle(self) -> bool:
        """True when every queued message has been processed and committed, correlation events
        held for reordering included (tests await this)."""
        return self._queue.unfinished_tasks == 0 and self._settled

    def backlog(self) -> dict[str, int]:
        """What is not committed yet: queued items, detections the store has not taken, and
        items whose detections wait for the reordering (for a message naming them)."""
        return {"queued": self._queue.unfinished_tasks, "unstored": len(self._unstored),
                "waiting": len(self._waiting)}

    def processed(self) -> int:
        return self.counters.get("parsed") + self.counters.get("unparsed") + self.counters.get("errors")

    def counter_sets(self) -> list[Counters]:
        """Every counter of the pipeline: receivers, tailed files, parsing/storing, the rules."""
        mono, count = time.monotonic(), self.processed()
        last_mono, last_count = self._last_rate
        if mono - last_mono >= 1.0:  # a rate over at least a second (status reads often)
            self._last_rate = (mono, count)
            self.counters.set("events_per_s", (count - last_count) / (mono - last_mono))
        self.counters.set("unknown_zones", sum(p.unknown_zones for p in list(self._parsers.values())))
        sets = [self.counters]  # first: `nocsoc status` shows it unprefixed
        sets += [srv.counters for srv in (self.udp, self.tcp) if srv is not None]
        if self.tailers:
            sets.append(self.file_counters)
        sets += [srv.counters for srv in self.windows.servers]
        if self._engine is not None:
            sets += self._engine.counter_sets()
        return sets + (self.archive.counter_sets() if self.archive is not None else [])

    def self_points(self) -> list[Point]:
        """`log_event` points: events per source, parser and host since the last call; the
        Windows inputs' reports per sender."""
        now_ns = time.time_ns()
        pts = self.windows.self_points(now_ns)
        with self._per_parser_lock:
            per = dict(self._per_parser)
            self._per_parser.clear()
        for (source, parser, host), n in sorted(per.items()):
            pts.append(LOG_EVENT.point(now_ns, {"source": source, "parser": parser, "host": host},
                                       {"events": n, "unparsed": n if parser == "unparsed" else 0}))
        return pts

    def status(self) -> dict[str, object]:
        rules, engine = self._ruleset, self._engine
        return {"unstored": len(self._unstored),
                "rules": len(rules.rules) if rules else 0,
                "rules_disabled": len(rules.disabled) if rules else 0,
                "correlations": len(rules.correlations) if rules else 0, "queue": self._queue.qsize(),
                "correlation_state": engine.state_size() if engine else 0,
                "correlation_restored": self.restored_windows,
                "correlation_unsaved": self.unsaved_windows,
                "udp": self.udp.address if self.udp else None,
                "tcp": self.tcp.address if self.tcp else None,
                "windows": self.windows.status() if self.windows.servers else None}


__all__ = ["LogPipeline", "alert_points", "load_ruleset"]
