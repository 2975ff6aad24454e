"""The alert store: one SQLite file in WAL mode, every change one committed transaction.

Why SQLite: it is embedded (no server for `make demo`), and a committed WAL transaction survives
a kill -9 of the process, which is the durability analysts need for alerts and triage state.
Deduplication: the same rule and group key (the correlation's group-by values, or host and source
address) while the alert is open and within `dedup_window_s` of its last event increments one
alert instead of raising another. Triage moves new -> acknowledged -> closed | false_positive, and
reopen; each move, and each suppression added or removed, writes an audit row (who, when, comment).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nocsoc.detections.alerts import partitions
from nocsoc.detections.alerts.partitions import PartitionSave
from nocsoc.detections.attack import tactic_of
from nocsoc.detections.engine import Detection
from nocsoc.sqlwhere import Where
from nocsoc.timespec import duration_seconds

STATES = ("new", "acknowledged", "closed", "false_positive")
OPEN_STATES = ("new", "acknowledged")
# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "ack": (("new",), "acknowledged"),
    "close": (("new", "acknowledged"), "closed"),
    "false_positive": (("new", "acknowledged"), "false_positive"),
    "reopen": (("closed", "false_positive", "acknowledged"), "new"),
}
SUPPRESS_FIELDS = ("host", "src_ip", "dst_ip", "user")
MAX_SAMPLES = 10
SHARED_OFFSET_PREFIX = "bus:"  # offsets of inputs every detector shares (the bus's partitions)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id TEXT NOT NULL, rule_title TEXT NOT NULL, level TEXT NOT NULL, tags TEXT NOT NULL,
    tactic TEXT NOT NULL, kind TEXT NOT NULL, group_key TEXT NOT NULL,
    host TEXT NOT NULL, src_ip TEXT NOT NULL, dst_ip TEXT NOT NULL, "user" TEXT NOT NULL,
    first_seen REAL NOT NULL, last_seen REAL NOT NULL, count INTEGER NOT NULL,
    state TEXT NOT NULL, samples TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_dedup ON alerts (rule_id, group_key, state);
CREATE INDEX IF NOT EXISTS alerts_last ON alerts (last_seen);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id INTEGER, suppression_id INTEGER, action TEXT NOT NULL,
    from_state TEXT, to_state TEXT, who TEXT NOT NULL, at REAL NOT NULL, comment TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_alert ON audit (alert_id);
CREATE TABLE IF NOT EXISTS suppressions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, expires REAL NOT NULL,
    created_by TEXT NOT NULL, created_at REAL NOT NULL, comment TEXT NOT NULL,
    removed_at REAL, hits INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS alerts_state ON alerts (state, last_seen);
CREATE INDEX IF NOT EXISTS alerts_src ON alerts (src_ip);
CREATE INDEX IF NOT EXISTS alerts_host ON alerts (host COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS alerts_level ON alerts (level, state, count);
CREATE INDEX IF NOT EXISTS alerts_created ON alerts (created_at);
-- the IOC's most targeted hosts and top sources: open alerts only, in group order, covering (the
-- columns the expression and the partial WHERE read are in the index: else SQLite reads every
-- open alert's row, 90 -> 25 ms at 100k open alerts)
CREATE INDEX IF NOT EXISTS alerts_open_targets ON alerts
    ((CASE WHEN dst_ip != '' THEN dst_ip ELSE host END), state, dst_ip, host)
    WHERE state IN ('new', 'acknowledged');
CREATE INDEX IF NOT EXISTS alerts_open_sources ON alerts (src_ip, state)
    WHERE state IN ('new', 'acknowledged');
-- incidents (the console's list, the IOC's open incidents by level): each alert's attack key and
-- times since a moment, read from the index alone (24k alerts in 7 days: no 2 KB row read each)
CREATE INDEX IF NOT EXISTS alerts_incident ON alerts
    (last_seen, first_seen, state, level, src_ip, dst_ip, host);
CREATE TABLE IF NOT EXISTS input_offsets (
    input TEXT PRIMARY KEY, inode INTEGER NOT NULL, "offset" INTEGER NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS correlation_state (
    rule_id TEXT PRIMARY KEY, state TEXT NOT NULL, saved_at REAL NOT NULL
);
-- a bus partition's correlation state (`ingest(windows=...)`), keyed by its mark's input name:
-- saved by the detector holding it with each mark, restored by the next one (nocsoc.bus.windows,
-- nocsoc.detections.alerts.partitions): here each rule's header, its groups and held events below
CREATE TABLE IF NOT EXISTS partition_windows (
    input TEXT NOT NULL, rule_id TEXT NOT NULL, state TEXT NOT NULL, saved_at REAL NOT NULL,
    PRIMARY KEY (input, rule_id)
);
""" + partitions.SCHEMA.format(real="REAL", bigint="INTEGER")


_ADDED_COLUMNS = (
    ("alerts", "assignee", "TEXT NOT NULL DEFAULT ''"),
    ("suppressions", "conditions", "TEXT NOT NULL DEFAULT ''"),
    ("input_offsets", "owner", "TEXT NOT NULL DEFAULT ''"),
    ("correlation_state", "owner", "TEXT NOT NULL DEFAULT ''"),
)
# indexes replaced by covering ones (alerts_open_targets, alerts_open_sources): dropped from a store
# written before, where they would only cost writes
_DROPPED_INDEXES = ("alerts_open_target", "alerts_open_source")
# after the added columns: the keys the shared SQL's upserts name (PostgreSQL's primary keys)
_OWNER_INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS input_offsets_owner ON input_offsets (owner, input)",
    "CREATE UNIQUE INDEX IF NOT EXISTS correlation_state_owner ON correlation_state (owner, rule_id)",
)

# Free-text search (the console's queue and /api/v1/alerts): an FTS5 index over what an analyst
# types into the search box. Contentless (content=''): the text lives in `alerts` already, so the
# index adds its postings only (100k alerts: +80 MB with content, far less without). Triggers keep
# it in step with every write to `alerts`, whatever writes it; a contentless row is deleted by
# giving FTS5 the values it was indexed with, which the same expressions over OLD recompute.
# Evidence = every value in the samples (raw lines and parsed fields), not their JSON keys, nor
# the samples' own timestamps. unicode61 with remove_diacritics 2: "nhap" finds "nhập".
FTS_TABLE = "alerts_fts"
_FTS_EVIDENCE = (
    "CASE WHEN json_valid({r}.samples) THEN (SELECT group_concat(atom, ' ') FROM json_tree({r}.samples) "
    "WHERE atom IS NOT NULL AND NOT (key = 'time' AND instr(path, '.') = 0)) ELSE {r}.samples END"
)
_FTS_COLUMNS = "title, evidence, hosts, users"


def _fts_values(r: str) -> str:
    """The indexed values of alert row `r` (new, old, or a table alias), in _FTS_COLUMNS order."""
    return (f"{r}.rule_title, {_FTS_EVIDENCE.format(r=r)}, {r}.host || ' ' || {r}.src_ip || ' ' || "
            f"{r}.dst_ip, {r}.\"user\" || ' ' || {r}.assignee")


_FTS_DELETE = (f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, {_FTS_COLUMNS}) "
               f"VALUES ('delete', old.id, {_fts_values('old')});")
_FTS_INSERT = f"INSERT INTO {FTS_TABLE} (rowid, {_FTS_COLUMNS}) VALUES (new.id, {_fts_values('new')});"
_FTS_SCHEMA = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({_FTS_COLUMNS}, content='', "
    "tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER {FTS_TABLE}_ai AFTER INSERT ON alerts BEGIN {_FTS_INSERT} END",
    f"CREATE TRIGGER {FTS_TABLE}_ad AFTER DELETE ON alerts BEGIN {_FTS_DELETE} END",
    # only when an indexed column really changed: ingest rewrites `samples` on every increment,
    # unchanged once an alert holds MAX_SAMPLES
    f'CREATE TRIGGER {FTS_TABLE}_au AFTER UPDATE OF rule_title, samples, host, src_ip, dst_ip, "user", '
    "assignee ON alerts WHEN old.rule_title IS NOT new.rule_title OR old.samples IS NOT new.samples "
    "OR old.host IS NOT new.host OR old.src_ip IS NOT new.src_ip OR old.dst_ip IS NOT new.dst_ip "
    'OR old."user" IS NOT new."user" OR old.assignee IS NOT new.assignee '
    f"BEGIN {_FTS_DELETE} {_FTS_INSERT} END",
    # a store written before the index: every alert indexed once, here
    f"INSERT INTO {FTS_TABLE} (rowid, {_FTS_COLUMNS}) SELECT a.id, {_fts_values('a')} FROM alerts a",
)


class TriageError(ValueError):
    """A transition that is not allowed, or an unknown alert/suppression (named)."""


def parse_duration(text: str) -> float:
    """`7d`, `12h`, `30m`, `45s`, `2w` -> seconds (ValueError naming the text otherwise)."""
    seconds = duration_seconds(text)
    if seconds is None:
        raise ValueError(f"bad duration {text!r} (use e.g. 30m, 12h, 7d, 2w)")
    return seconds


@dataclass
class Alert:
    id: int
    rule_id: str
    rule_title: str
    level: str
    tags: list[str]
    tactic: str
    kind: str
    group_key: str
    host: str
    src_ip: str
    dst_ip: str
    user: str
    first_seen: float
    last_seen: float
    count: int
    state: str
    samples: list[dict[str, Any]]
    created_at: float
    updated_at: float
    assignee: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class AuditEntry:
    id: int
    alert_id: int | None
    suppression_id: int | None
    action: str
    from_state: str | None
    to_state: str | None
    who: str
    at: float
    comment: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Suppression:
    id: int
    rule_id: str
    field: str
    value: str
    expires: float
    created_by: str
    created_at: float
    comment: str
    removed_at: float | None
    hits: int
    conditions: str = ""  # JSON [[field, value], ...], all ANDed; "" = the one field/value

    def active(self, now: float) -> bool:
        return self.removed_at is None and self.expires > now

    def condition_list(self) -> list[tuple[str, str]]:
        """Every (field, value) the suppression requires (several are ANDed)."""
        if self.conditions:
            return [(str(f), str(v)) for f, v in json.loads(self.conditions)]
        return [(self.field, self.value)]

    def matches(self, d: Detection) -> bool:
        if self.rule_id not in ("*", d.rule_id):
            return False
        first = d.samples[0].fields if d.samples else {}
        return all(condition_matches(f, v, getattr(d, f) if f in SUPPRESS_FIELDS else None, first)
                   for f, v in self.condition_list())

    def matches_alert(self, a: Alert) -> bool:
        """Whether the suppression would have hidden stored alert `a` (the editor's preview)."""
        if self.rule_id not in ("*", a.rule_id):
            return False
        first = a.samples[0].get("fields", {}) if a.samples else {}
        return all(condition_matches(f, v, getattr(a, f) if f in SUPPRESS_FIELDS else None, first)
                   for f, v in self.condition_list())

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def condition_matches(field_name: str, value: str, attr: object, fields: Mapping[str, Any]) -> bool:
    """One suppression condition: an alert attribute (host, src_ip, ...) or a field of the
    detection's first event equals `value`, case-insensitively."""
    want = value.lower()
    if field_name in SUPPRESS_FIELDS:
        return str(attr).lower() == want
    v = fields.get(field_name)
    return v is not None and str(v).lower() == want


@dataclass
class IngestResult:
    """What one ingest did: alerts created, incremented, and detections suppressed."""

    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    suppressed: int = 0
    fenced: set[str] = field(default_factory=set)  # bus partitions another holder has taken
    # per alert id touched: (detections added, alert row after the change)
    touched: dict[int, tuple[int, Alert]] = field(default_factory=dict)


def _alert(row: Mapping[str, Any]) -> Alert:
    d = dict(row)
    d["tags"] = json.loads(d["tags"])
    d["samples"] = json.loads(d["samples"])
    return Alert(**d)


def _sample(d: Detection) -> list[dict[str, Any]]:
    """Up to 3 events: the first two and the last (for a correlation, the one that fired it).
    The fields become a dict here, where they are written as JSON: an EVTX event's fields are a
    lazy mapping equal to a dict (collectors/windows/_winfields.c)."""
    s = d.samples if len(d.samples) <= 3 else [*d.samples[:2], d.samples[-1]]
    return [{"time": e.time, "host": e.host, "raw": e.raw,
             "fields": e.fields if type(e.fields) is dict else dict(e.fields)} for e in s]


class AlertStore:
    """The SQLite alert store. The SQL below is written to run unchanged on PostgreSQL too
    (quoted `"user"`/`"offset"`, `RETURNING id`, CASE instead of SQLite's two-argument max/min):
    `PostgresAlertStore` only replaces the connection, the schema and the transaction start."""

    def __init__(self, path: Path | str, dedup_window_s: float = 3600.0,
                 busy_timeout_s: float = 30.0, owner: str = "") -> None:
        self.path = Path(path)
        self.dedup_window_s = dedup_window_s
        # whose correlation windows and file offsets these are: detectors sharing one store each
        # keep their own (a single machine has one, "")
        self.owner = owner
        self._lock = threading.RLock()
        self._supp_version: object = -1
        self._supps: list[Suppression] = []
        self._db = self._open(busy_timeout_s)

    def _open(self, busy_timeout_s: float) -> Any:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(self.path), timeout=busy_timeout_s, check_same_thread=False,
                             isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        self._db = db
        with self._tx():
            indexes = self._indexes(db)
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    db.execute(stmt)
            # columns added after the first release: a store written before gets them here
            for table, column, decl in _ADDED_COLUMNS:
                have = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
                if column not in have:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
            for stmt in _OWNER_INDEXES:
                db.execute(stmt)
            for name in _DROPPED_INDEXES:
                db.execute(f"DROP INDEX IF EXISTS {name}")
            have_stats = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()
            if indexes and have_stats and self._indexes(db) - indexes:
                # indexes new to a store the planner has statistics of: theirs too, else it
                # guesses (and keeps the old plans: alerts_incident unused)
                db.execute("ANALYZE alerts")
            if not db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (FTS_TABLE,)).fetchone():
                for stmt in _FTS_SCHEMA:
                    db.execute(stmt)
        return db

    @staticmethod
    def _indexes(db: sqlite3.Connection) -> set[str]:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}

    @property
    def where(self) -> str:
        """The store named in messages."""
        return str(self.path)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def optimize(self) -> None:
        """Refresh the query planner's statistics (ANALYZE when there are none, else SQLite's
        own `PRAGMA optimize`): without them a filter on a source address walks the state index
        over every open alert instead of the address index (200 ms vs 0.1 ms at 100k alerts)."""
        with self._lock:
            have = self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()
            self._db.execute("PRAGMA optimize" if have else "ANALYZE")

    def __enter__(self) -> AlertStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _begin(self) -> None:
        """Start a write transaction that excludes every other writer until it ends (SQLite: the
        database's write lock), so two ingests cannot both miss an open alert and raise two."""
        self._db.execute("BEGIN IMMEDIATE")

    class _Tx:
        def __init__(self, store: AlertStore) -> None:
            self.store = store

        def __enter__(self) -> Any:
            self.store._lock.acquire()
            try:
                self.store._begin()
            except BaseException:  # locked DB: no transaction, so __exit__ will not run
                self.store._lock.release()
                raise
            return self.store._db

        def __exit__(self, exc_type: object, *rest: object) -> None:
            try:
                self.store._db.execute("ROLLBACK" if exc_type else "COMMIT")
            finally:
                self.store._lock.release()

    def _tx(self) -> AlertStore._Tx:
        return AlertStore._Tx(self)

    def _suppressions_version(self, db: Any) -> object:
        """Changes whenever any connection commits (SQLite's data_version): suppressions are
        re-read only then."""
        return db.execute("PRAGMA data_version").fetchone()[0]

    # --- ingest ------------------------------------------------------------------------------

    def _suppressions(self, db: Any, now: float) -> list[Suppression]:
        version = self._suppressions_version(db)
        if version is None or version != self._supp_version:
            self._supp_version = version
            self._supps = [Suppression(**dict(r)) for r in db.execute(
                "SELECT * FROM suppressions WHERE removed_at IS NULL")]
        return [s for s in self._supps if s.active(now)]

    def ingest(self, detections: Iterable[Detection], now: float | None = None,
               offsets: Mapping[str, tuple[int, int]] | None = None,
               correlations: Mapping[str, dict[str, Any]] | None = None,
               windows: Mapping[str, PartitionSave] | None = None,
               fences: dict[str, tuple[str, int]] | None = None,
               key_of: Callable[[Detection], str | None] | None = None) -> IngestResult:
        """Deduplicate detections into alerts, in one transaction (all or nothing on a crash).

        `offsets` ({input: (inode, offset)}): how far each tailed file has been processed, stored
        in the same transaction, so after a kill -9 a file resumes exactly after the last line
        whose alerts are stored: nothing lost, nothing counted twice. `correlations` (the
        engine's `snapshot`), when given, replaces the saved correlation windows in the same
        transaction, so they match the offsets they were built up to. `windows` ({bus partition's
        input: what changed in its correlation state}) updates those partitions' saved state
        (`nocsoc.detections.alerts.partitions`), with their marks in `offsets`. `fences`
        ({partition: (holder, epoch)}): the bus partitions this commit's writer holds, by the epoch
        it took them at; one another holder has taken since is fenced: neither its mark, its
        state nor its detections (`key_of`: a detection's partition) are written, and it is in
        the result's `fenced`."""
        dets = list(detections)
        res = IngestResult()
        if not dets and not offsets and correlations is None and not windows:
            return res
        now = time.time() if now is None else now
        with self._tx() as db:
            fenced = res.fenced = partitions.fenced(db, fences) if fences else set()
            if fenced:
                offsets = {k: v for k, v in (offsets or {}).items() if k not in fenced}
                windows = {k: v for k, v in (windows or {}).items() if k not in fenced}
                dets = [d for d in dets if key_of is None or key_of(d) not in fenced]
            for key, save in (windows or {}).items():
                partitions.write(db, key, save, now)
            if correlations is not None:
                db.execute("DELETE FROM correlation_state WHERE owner = ?", (self.owner,))
                rows = [(self.owner, rid, json.dumps(snap, default=str), now)
                        for rid, snap in correlations.items()]
                db.executemany("INSERT INTO correlation_state (owner, rule_id, state, saved_at) "
                               "VALUES (?,?,?,?)", rows)
            for key, (inode, offset) in (offsets or {}).items():
                db.execute('INSERT INTO input_offsets (owner, input, inode, "offset", updated_at) '
                           "VALUES (?,?,?,?,?) ON CONFLICT(owner, input) DO UPDATE SET "
                           'inode = excluded.inode, "offset" = excluded."offset", '
                           "updated_at = excluded.updated_at",
                           (self._offset_owner(key), key, inode, offset, now))
            supps = self._suppressions(db, now)
            for d in dets:
                hit = next((s for s in supps if s.matches(d)), None)
                if hit is not None:
                    res.suppressed += 1
                    db.execute("UPDATE suppressions SET hits = hits + 1 WHERE id = ?", (hit.id,))
                    continue
                row = db.execute(
                    "SELECT * FROM alerts WHERE rule_id = ? AND group_key = ? AND state IN ('new', "
                    "'acknowledged') AND last_seen >= ? ORDER BY id DESC LIMIT 1",
                    (d.rule_id, d.group_key, d.first_seen - self.dedup_window_s)).fetchone()
                if row is None:
                    cur = db.execute(
                        "INSERT INTO alerts (rule_id, rule_title, level, tags, tactic, kind, group_key, "
                        'host, src_ip, dst_ip, "user", first_seen, last_seen, count, state, samples, '
                        "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                        "RETURNING id",
                        (d.rule_id, d.title, d.level, json.dumps(list(d.tags)), tactic_of(d.tags),
                         d.kind, d.group_key, d.host, d.src_ip, d.dst_ip, d.user, d.first_seen,
                         d.last_seen, d.count, "new", json.dumps(_sample(d), default=str), now, now))
                    aid = int(cur.fetchone()["id"])
                    res.created.append(aid)
                else:
                    aid = int(row["id"])
                    samples = json.loads(row["samples"])
                    if len(samples) < MAX_SAMPLES:
                        samples.extend(_sample(d)[:MAX_SAMPLES - len(samples)])
                    db.execute(
                        "UPDATE alerts SET count = count + ?, "
                        "last_seen = CASE WHEN last_seen > ? THEN last_seen ELSE ? END, "
                        "first_seen = CASE WHEN first_seen < ? THEN first_seen ELSE ? END, "
                        "samples = ?, updated_at = ?, "
                        "src_ip = CASE WHEN src_ip = '' THEN ? ELSE src_ip END, "
                        """"user" = CASE WHEN "user" = '' THEN ? ELSE "user" END WHERE id = ?""",
                        (d.count, d.last_seen, d.last_seen, d.first_seen, d.first_seen,
                         json.dumps(samples, default=str), now, d.src_ip, d.user, aid))
                    if aid not in res.created and aid not in res.updated:
                        res.updated.append(aid)
                prev = res.touched.get(aid)
                res.touched[aid] = ((prev[0] if prev else 0) + d.count, None)  # type: ignore[assignment]
            for aid in list(res.touched):
                row = db.execute("SELECT * FROM alerts WHERE id = ?", (aid,)).fetchone()
                res.touched[aid] = (res.touched[aid][0], _alert(row))
        return res

    # --- queries -----------------------------------------------------------------------------

    def correlations(self) -> dict[str, dict[str, Any]]:
        """The correlation windows last saved by `ingest`, by rule id."""
        with self._lock:
            rows = self._db.execute("SELECT rule_id, state FROM correlation_state WHERE owner = ?",
                                    (self.owner,)).fetchall()
        return {r["rule_id"]: json.loads(r["state"]) for r in rows}

    def hold_partition(self, key: str, holder: str) -> int:
        """`holder` takes bus partition `key`: its epoch, for `ingest(fences=...)`."""
        with self._tx() as db:
            return partitions.hold(db, key, holder)

    def partition_windows(self, key: str) -> dict[str, dict[str, Any]]:
        """The correlation windows last saved for bus partition `key` (its mark's input name),
        by rule id: what the partition's next holder restores."""
        return self.partition_state(key)[0]

    def partition_state(self, key: str) -> tuple[dict[str, dict[str, Any]], list[tuple[str, dict[str, Any]]]]:
        """Bus partition `key`'s saved correlation state: its windows by rule id and the events
        it held for reordering (`nocsoc.detections.alerts.partitions.read`), in one transaction."""
        with self._tx() as db:
            return partitions.read(db, key)

    def _offset_owner(self, key: str) -> str:
        """Whose offset `key` is: a tailed file is one host's (this detector's own), a bus
        partition's mark (`bus:...`) every detector's, so a successor on another host resumes
        exactly where the partition's last holder committed."""
        return "" if key.startswith(SHARED_OFFSET_PREFIX) else self.owner

    def input_offset(self, key: str) -> tuple[int, int] | None:
        """(inode, offset) stored for a tailed file by `ingest`, or None."""
        with self._lock:
            row = self._db.execute('SELECT inode, "offset" FROM input_offsets WHERE owner = ? '
                                   "AND input = ?", (self._offset_owner(key), key)).fetchone()
        return None if row is None else (int(row["inode"]), int(row["offset"]))

    def get(self, alert_id: int) -> Alert:
        with self._lock:
            row = self._db.execute("SELECT * FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        if row is None:
            raise TriageError(f"no alert {alert_id} in {self.where}")
        return _alert(row)

    def list_alerts(self, state: str | None = None, level: str | None = None, since: float | None = None,
             rule: str | None = None, limit: int = 1000) -> list[Alert]:
        w = Where("1=1")
        w.if_given(state, "state = ?")
        w.if_given(level, "level = ?")
        w.unless_none(since, "last_seen >= ?")
        w.if_given(rule, "rule_id = ?")
        q = f"SELECT * FROM alerts WHERE {w.sql()} ORDER BY last_seen DESC, id DESC LIMIT ?"
        with self._lock:
            return [_alert(r) for r in self._db.execute(q, [*w.args, limit])]

    def audit(self, alert_id: int | None = None, suppression_id: int | None = None) -> list[AuditEntry]:
        with self._lock:
            if alert_id is not None:
                rows = self._db.execute("SELECT * FROM audit WHERE alert_id = ? ORDER BY id",
                                        (alert_id,))
            elif suppression_id is not None:
                rows = self._db.execute("SELECT * FROM audit WHERE suppression_id = ? ORDER BY id",
                                        (suppression_id,))
            else:
                rows = self._db.execute("SELECT * FROM audit ORDER BY id")
            return [AuditEntry(**dict(r)) for r in rows]

    # --- triage ------------------------------------------------------------------------------

    def _alert_row(self, db: Any, alert_id: int, columns: str) -> Any:
        """`columns` of one alert inside a triage transaction; a missing id is a TriageError."""
        sql = f"SELECT {columns} FROM alerts WHERE id = ?"  # columns: literals of this class only
        row = db.execute(sql, (alert_id,)).fetchone()
        if row is None:
            raise TriageError(f"no alert {alert_id} in {self.where}")
        return row

    def transition(self, alert_id: int, action: str, who: str, comment: str = "",
                   now: float | None = None) -> Alert:
        if action not in TRANSITIONS:
            raise TriageError(f"unknown action {action!r} (one of {', '.join(TRANSITIONS)})")
        allowed, to_state = TRANSITIONS[action]
        if action in ("close", "false_positive") and not comment.strip():
            raise TriageError(f"{action} needs a reason")
        now = time.time() if now is None else now
        with self._tx() as db:
            row = self._alert_row(db, alert_id, "state")
            if row["state"] not in allowed:
                raise TriageError(f"alert {alert_id} is {row['state']}: cannot {action} "
                                  f"(only from {' or '.join(allowed)})")
            db.execute("UPDATE alerts SET state = ?, updated_at = ? WHERE id = ?", (to_state, now, alert_id))
            _audit_alert(db, alert_id, action, row["state"], to_state, who, now, comment)
        return self.get(alert_id)

    def assign(self, alert_id: int, assignee: str, who: str, comment: str = "",
               now: float | None = None) -> Alert:
        """Give the alert to `assignee` ("" takes it back); audited, state unchanged."""
        now = time.time() if now is None else now
        with self._tx() as db:
            row = self._alert_row(db, alert_id, "state, assignee")
            db.execute("UPDATE alerts SET assignee = ?, updated_at = ? WHERE id = ?",
                       (assignee, now, alert_id))
            _audit_alert(db, alert_id, "assign", row["state"], row["state"], who, now,
                         comment or f"{row['assignee'] or '-'} -> {assignee or '-'}")
        return self.get(alert_id)

    def comment(self, alert_id: int, who: str, text: str, now: float | None = None) -> AuditEntry:
        """A triage note on the alert's audit trail."""
        if not text.strip():
            raise TriageError("an empty comment")
        now = time.time() if now is None else now
        with self._tx() as db:
            row = self._alert_row(db, alert_id, "state")
            _audit_alert(db, alert_id, "comment", row["state"], row["state"], who, now, text)
        return self.audit(alert_id=alert_id)[-1]

    # --- suppressions ------------------------------------------------------------------------

    def suppress(self, rule_id: str, field_name: str, value: str, duration_s: float, who: str,
                 comment: str = "", now: float | None = None,
                 conditions: list[tuple[str, str]] | None = None) -> Suppression:
        """Suppress `rule_id` where field_name=value (and every other of `conditions`, ANDed)."""
        now = time.time() if now is None else now
        if duration_s <= 0:
            raise TriageError("a suppression needs a positive duration")
        conds = list(conditions) if conditions else [(field_name, value)]
        field_name, value = conds[0]
        text = " and ".join(f"{f}={v}" for f, v in conds)
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO suppressions (rule_id, field, value, expires, created_by, created_at, comment, "
                "conditions) VALUES (?,?,?,?,?,?,?,?) RETURNING id",
                (rule_id, field_name, value, now + duration_s, who, now, comment,
                 json.dumps([list(c) for c in conds]) if len(conds) > 1 else ""))
            sid = int(cur.fetchone()["id"])
            db.execute("INSERT INTO audit (suppression_id, action, who, at, comment) VALUES (?,?,?,?,?)",
                       (sid, "suppress", who, now,
                        comment or f"{rule_id} where {text} for {duration_s:g}s"))
        return self.suppression(sid)

    def unsuppress(self, sid: int, who: str, comment: str = "", now: float | None = None) -> Suppression:
        now = time.time() if now is None else now
        with self._tx() as db:
            row = db.execute("SELECT removed_at FROM suppressions WHERE id = ?", (sid,)).fetchone()
            if row is None:
                raise TriageError(f"no suppression {sid} in {self.where}")
            if row["removed_at"] is not None:
                raise TriageError(f"suppression {sid} was already removed")
            db.execute("UPDATE suppressions SET removed_at = ? WHERE id = ?", (now, sid))
            db.execute("INSERT INTO audit (suppression_id, action, who, at, comment) VALUES (?,?,?,?,?)",
                       (sid, "unsuppress", who, now, comment))
        return self.suppression(sid)

    def suppression(self, sid: int) -> Suppression:
        with self._lock:
            row = self._db.execute("SELECT * FROM suppressions WHERE id = ?", (sid,)).fetchone()
        if row is None:
            raise TriageError(f"no suppression {sid} in {self.where}")
        return Suppression(**dict(row))

    def suppressions(self, include_inactive: bool = False, now: float | None = None) -> list[Suppression]:
        now = time.time() if now is None else now
        with self._lock:
            rows = [Suppression(**dict(r))
                    for r in self._db.execute("SELECT * FROM suppressions ORDER BY id")]
        return rows if include_inactive else [s for s in rows if s.active(now)]


def _audit_alert(db: Any, alert_id: int, action: str, from_state: str, to_state: str,
                 who: str, at: float, comment: str) -> None:
    """One line of an alert's triage trail (every change and note is audited)."""
    db.execute("INSERT INTO audit (alert_id, action, from_state, to_state, who, at, comment) "
               "VALUES (?,?,?,?,?,?,?)", (alert_id, action, from_state, to_state, who, at, comment))
