"""The log archive: every received line with its time, host, program, addresses and user, in
hourly Parquet files (zstd), and the search the CLI and the SOC console ask ("the lines around
this alert").

The indexed columns are read from the event's fields under the names the parsers use (Sigma
names first, then the vendors' own); the raw line is kept verbatim. Files are sorted by time.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from nocsoc.events import LogEvent
from nocsoc.history.config import HistoryConfig
from nocsoc.history.flows import maintain, write_table
from nocsoc.history.store import HOUR_S, Dataset, hour_of, run_query
from nocsoc.history.writer import BackgroundWriter
from nocsoc.sqlwhere import Where

DATASET = "logs"
ORDER_BY = "time"
# where each indexed column comes from, first present wins (parsers differ; see parsers/)
SRC_FIELDS = ("src_ip", "SourceIp", "srcip", "c-ip", "IpAddress", "source.ip", "rhost")
DST_FIELDS = ("dst_ip", "DestinationIp", "dstip", "destination.ip", "DestinationHostname")
USER_FIELDS = ("user", "User", "TargetUserName", "SubjectUserName", "user.name", "username", "usrName")
PROGRAM_FIELDS = ("program", "Image", "process.name")
MAX_RAW = 65536  # a line longer than this is cut in the archive (the logs input caps at 64 KiB too)
COLUMNS = ("time", "host", "program", "src_ip", "dst_ip", "user", "parser", "source", "raw")


def log_schema() -> Any:
    import pyarrow as pa

    return pa.schema([("time", pa.float64()), ("host", pa.string()), ("program", pa.string()),
                      ("src_ip", pa.string()), ("dst_ip", pa.string()), ("user", pa.string()),
                      ("parser", pa.string()), ("source", pa.string()), ("raw", pa.string())])


def _first(fields: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    for n in names:
        v = fields.get(n)
        if v is not None and v != "" and v != "-":
            return str(v)
    return None


def _clean(text: str) -> str:
    """Text Parquet can hold: lone surrogates (undecodable bytes kept by the inputs) replaced."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:  # bytes the inputs kept as surrogates (0xff -> \udcff) become U+FFFD, as a reader would
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def event_row(ev: LogEvent) -> tuple[Any, ...]:
    """The archived columns of one event (ValueError when its time is not a time)."""
    t = float(ev.time)
    if not t == t or t < 0 or t > 1e11:  # NaN, negative or absurd
        raise ValueError(f"event time {ev.time!r} from host {ev.host!r} is not a time")
    f = ev.fields if isinstance(ev.fields, Mapping) else {}  # EVTX events: a lazy mapping
    raw = ev.raw if len(ev.raw) <= MAX_RAW else ev.raw[:MAX_RAW]
    return (t, _clean(ev.host or ""), _opt(_first(f, PROGRAM_FIELDS)), _address(_first(f, SRC_FIELDS)),
            _address(_first(f, DST_FIELDS)), _opt(_first(f, USER_FIELDS)), ev.parser, ev.source, _clean(raw))


def _address(v: str | None) -> str | None:
    """IPv6 in its canonical text (2001:DB8:0::1 -> 2001:db8::1), as `search_logs` normalises
    the address it looks for; anything else as written."""
    if v is not None and ":" in v:
        try:
            return str(ipaddress.ip_address(v.strip("[]")))
        except ValueError:
            pass
    return _opt(v)


def _opt(v: str | None) -> str | None:
    return None if v is None else _clean(v)


class LogArchiveWriter(BackgroundWriter[LogEvent]):
    """Takes every processed event; writes a part every `flush_interval_s` (per hour)."""

    dataset = DATASET

    def __init__(self, config: HistoryConfig, root: Path, clock: Callable[[], float] = time.time) -> None:
        super().__init__(config, config.queue_lines, clock)
        self.store = Dataset(root, DATASET)
        self.rows: list[tuple[Any, ...]] = []
        self._last_flush = time.monotonic()

    def add(self, ev: LogEvent) -> None:
        """The log pipeline's hook: queue, never wait (a length check and an append)."""
        if len(self._queue) < self.max_queue:
            self._queue.append(ev)
        else:
            self.offer(ev)  # counts the drop

    def accept(self, item: LogEvent) -> None:
        self.rows.append(event_row(item))

    def flush(self, now: float, final: bool = False) -> None:
        due = time.monotonic() - self._last_flush >= self.config.flush_interval_s
        if not self.rows or not (final or due or len(self.rows) >= 100_000):
            return
        rows, self.rows = self.rows, []
        self._last_flush = time.monotonic()
        try:
            self.write(rows)
        except Exception:
            self.counters.add("dropped", len(rows))
            raise

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        import pyarrow as pa

        by_hour: dict[int, list[tuple[Any, ...]]] = {}
        for r in rows:
            by_hour.setdefault(hour_of(r[0]), []).append(r)
        for hour, part in sorted(by_hour.items()):
            part.sort(key=lambda r: r[0])
            cols = list(zip(*part, strict=True))
            table = pa.table({name: pa.array(col, type=f.type)
                              for name, col, f in zip(COLUMNS, cols, log_schema(), strict=True)},
                             schema=log_schema())
            self.store.write_part(hour, partial(write_table, table=table))
            self.counters.add("rows", len(part))
            self.counters.add("files")
        self.counters.add("written", len(rows))

    def maintain(self, now: float) -> None:
        maintain(self.store, self.counters, now, self.config.logs_retention_days * 86400,
                 self.config.logs_max_bytes, self.config.compact_after_s, ORDER_BY)


@dataclass(frozen=True)
class LogLine:
    time: float
    host: str
    program: str | None
    src_ip: str | None
    dst_ip: str | None
    user: str | None
    parser: str
    source: str
    raw: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _like(text: str) -> str:
    """`text` as a LIKE pattern matching it literally anywhere."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_logs(root: Path, *, ip: str | None = None, host: str | None = None, user: str | None = None,
                text: str | None = None, since: float | None = None, until: float | None = None,
                limit: int = 1000, newest_first: bool = False) -> list[LogLine]:
    """Archived lines matching every given filter, in time order (or newest first).

    `ip`: source or destination address (normalised: 2001:DB8::1 finds 2001:db8::1); `host` and
    `user`: exact, case-insensitive; `text`: a substring of the raw line, case-insensitive."""
    w = Where()
    if ip is not None:
        try:
            ip = str(ipaddress.ip_address(ip.strip()))
        except ValueError:
            raise ValueError(f"--ip {ip!r}: not an IP address") from None
        w.add("(src_ip = ? OR dst_ip = ?)", ip, ip)
    w.unless_none(host, "lower(host) = lower(?)")
    w.unless_none(user, "lower(\"user\") = lower(?)")
    if text is not None:
        w.add("raw ILIKE ? ESCAPE '\\'", _like(text))
    if since is not None:
        w.add("time >= ?", float(since))
    if until is not None:
        w.add("time < ?", float(until))
    sql = (f"SELECT {', '.join(repr_col(c) for c in COLUMNS)} FROM read_parquet(?)"
           + (" WHERE " + w.sql() if w.clauses else "")
           + f" ORDER BY time {'DESC' if newest_first else 'ASC'} LIMIT ?")

    def run(con: Any, files: list[str]) -> list[Any]:
        return con.execute(sql, [files, *w.args, limit]).fetchall()

    rows = run_query(Dataset(root, DATASET), since, until, run)
    return [LogLine(float(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]) for r in rows]


def repr_col(name: str) -> str:
    return f'"{name}"'


def lines_around(root: Path, at: float, *, host: str | None = None, ip: str | None = None,
                 before_s: float = 300.0, after_s: float = 300.0, limit: int = 1000) -> list[LogLine]:
    """The lines of `host` (and/or mentioning address `ip`) from `before_s` before `at` to
    `after_s` after it: what the console shows beside an alert."""
    return search_logs(root, ip=ip, host=host, since=at - before_s, until=at + after_s, limit=limit)


__all__ = ["HOUR_S", "LogArchiveWriter", "LogLine", "event_row", "lines_around", "search_logs"]
