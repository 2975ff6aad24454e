"""SQLite sink: the embedded default, so that nocsoc (and `make demo`) runs without a server.

One file (WAL, so readers never block the writer), two tables:

    series(id, measurement, tags)             tags: JSON object with sorted keys
    points(series_id, field, time_ns, value)  one row per field value; PRIMARY KEY
                                              (series_id, field, time_ns)

The primary key gives InfluxDB's rule for free: a value written twice for the same series, field
and time is stored once (the later replaces the earlier). Booleans are stored as 0/1 (SQLite has
no boolean) and come back as bool for fields the schema declares BOOL. Values older than
`retention_days` are deleted at start and then once a minute.

`SqliteReader` (also `SqliteSink.query`/`summary`) is the small query API behind the demo
summary; it opens its own read-only connection, so another process can read while nocsoc writes.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nocsoc.schema import REGISTRY, FieldType, FieldValue, Point
from nocsoc.sinks.base import SinkError
from nocsoc.sinks.batching import BatchingSink, BatchSettings, Unavailable
from nocsoc.sqlwhere import Where

log = logging.getLogger("nocsoc.sinks")

SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    measurement TEXT NOT NULL,
    tags TEXT NOT NULL,
    UNIQUE (measurement, tags)
);
CREATE TABLE IF NOT EXISTS points (
    series_id INTEGER NOT NULL REFERENCES series(id),
    field TEXT NOT NULL,
    time_ns INTEGER NOT NULL,
    value,
    PRIMARY KEY (series_id, field, time_ns)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS points_time ON points (time_ns);
"""

RETENTION_INTERVAL_S = 60.0

# (measurement, tags JSON, time_ns, fields): one point as the worker inserts it
Row = tuple[str, str, int, dict[str, FieldValue]]


@dataclass(frozen=True)
class QueryRow:
    """One series at one time: its tags and the fields asked for."""

    time_ns: int
    tags: dict[str, str]
    fields: dict[str, FieldValue]


@dataclass(frozen=True)
class MeasurementSummary:
    measurement: str
    series: int
    values: int
    first_ns: int
    last_ns: int


def _connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10.0, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, timeout=10.0, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    return conn


def _bool_fields(measurement: str) -> frozenset[str]:
    m = REGISTRY.get(measurement)
    return frozenset(f.name for f in m.fields if f.type is FieldType.BOOL) if m else frozenset()


class SqliteReader:
    """Read what a SqliteSink wrote (any process; read-only connection per call)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _conn(self) -> sqlite3.Connection:
        if not self.path.exists():
            raise SinkError(f"sqlite database {self.path} does not exist (nothing written yet?)")
        return _connect(self.path, readonly=True)

    def query(self, measurement: str, fields: Sequence[str] | None = None,
              where_tags: Mapping[str, str] | None = None, since_ns: int | None = None,
              until_ns: int | None = None) -> list[QueryRow]:
        """Rows of one measurement ordered by time (then series), optionally filtered by exact
        tag values and a time range [since_ns, until_ns)."""
        w = Where()
        w.add("s.measurement = ?", measurement)
        for k, v in (where_tags or {}).items():
            w.add("json_extract(s.tags, ?) = ?", f'$."{k}"', v)
        if fields:
            w.add(f"p.field IN ({','.join('?' * len(fields))})", *fields)
        w.unless_none(since_ns, "p.time_ns >= ?")
        w.unless_none(until_ns, "p.time_ns < ?")
        sql = ("SELECT p.time_ns, s.id, s.tags, p.field, p.value FROM series s "
               f"JOIN points p ON p.series_id = s.id WHERE {w.sql()} ORDER BY p.time_ns, s.id, p.field")
        bools = _bool_fields(measurement)
        out: list[QueryRow] = []
        key: tuple[int, int] | None = None
        with self._conn() as conn:
            for t, sid, tags, field, value in conn.execute(sql, w.args):
                if (t, sid) != key:
                    key = (t, sid)
                    out.append(QueryRow(t, json.loads(tags), {}))
                out[-1].fields[field] = bool(value) if field in bools else value
        return out

    def summary(self) -> list[MeasurementSummary]:
        """Per measurement: series, stored values, first and last time."""
        sql = ("SELECT s.measurement, COUNT(DISTINCT s.id), COUNT(*), MIN(p.time_ns), MAX(p.time_ns) "
               "FROM series s JOIN points p ON p.series_id = s.id GROUP BY s.measurement "
               "ORDER BY s.measurement")
        with self._conn() as conn:
            return [MeasurementSummary(*row) for row in conn.execute(sql)]


class SqliteSink(BatchingSink[Row]):
    def __init__(self, name: str, path: Path, settings: BatchSettings,
                 retention_days: float = 30.0) -> None:
        self.path = path
        self.retention_ns = int(retention_days * 86400 * 1e9)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = _connect(path)
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable at checkpoints
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise SinkError(f"sink {name}: cannot open sqlite database {path}: {exc}") from None
        self._series: dict[tuple[str, str], int] = {}
        self._last_retention = 0.0
        self._apply_retention()
        self.reader = SqliteReader(path)
        # no spool: the database is a local file; if it fails, a spool on the same disk would too
        super().__init__(name, BatchSettings(**{**settings.__dict__, "spool_dir": None}))

    def _prepare(self, points: Sequence[Point]) -> list[Row]:
        rows: list[Row] = []
        tags_cache: dict[int, str] = {}
        for p in points:
            tags = tags_cache.get(id(p.tags))
            if tags is None:
                tags = tags_cache[id(p.tags)] = json.dumps(
                    {k: v for k, v in sorted(p.tags.items()) if v != ""}, ensure_ascii=False,
                    separators=(",", ":"))
            rows.append((p.measurement, tags, p.time_ns, p.fields))
        return rows

    def _series_id(self, measurement: str, tags: str) -> int:
        key = (measurement, tags)
        sid = self._series.get(key)
        if sid is None:
            self._db.execute("INSERT OR IGNORE INTO series (measurement, tags) VALUES (?, ?)", key)
            sid = self._db.execute("SELECT id FROM series WHERE measurement = ? AND tags = ?",
                                   key).fetchone()[0]
            self._series[key] = sid
        return sid

    def _send(self, lines: list[Row]) -> None:
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO points (series_id, field, time_ns, value) VALUES (?, ?, ?, ?)",
                    [(self._series_id(m, tags), f, t, v) for m, tags, t, fields in lines
                     for f, v in fields.items()
                     if not (type(v) is float and not math.isfinite(v))])  # as line protocol
        except sqlite3.Error as exc:
            self._series.clear()  # a rolled-back transaction may have dropped new series ids
            raise Unavailable(f"sqlite {self.path}: {exc}") from None
        if time.monotonic() - self._last_retention >= RETENTION_INTERVAL_S:
            self._apply_retention()

    def _apply_retention(self) -> None:
        self._last_retention = time.monotonic()
        cutoff = time.time_ns() - self.retention_ns
        try:
            with self._db:
                deleted = self._db.execute("DELETE FROM points WHERE time_ns < ?", (cutoff,)).rowcount
                if deleted:
                    self._db.execute("DELETE FROM series WHERE id NOT IN (SELECT series_id FROM points)")
                    self._series.clear()
        except sqlite3.Error as exc:
            log.warning("sqlite %s: retention cleanup failed: %s", self.path, exc)
            return
        if deleted:
            log.info("sqlite %s: retention removed %d values older than %.1f days", self.path,
                     deleted, self.retention_ns / 86400e9)

    def query(self, measurement: str, fields: Sequence[str] | None = None,
              where_tags: Mapping[str, str] | None = None, since_ns: int | None = None,
              until_ns: int | None = None) -> list[QueryRow]:
        return self.reader.query(measurement, fields, where_tags, since_ns, until_ns)

    def summary(self) -> list[MeasurementSummary]:
        return self.reader.summary()

    def _release(self) -> None:
        self._db.close()
