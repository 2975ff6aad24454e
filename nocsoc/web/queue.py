"""The alert queue's reads: filters, sort and pages as SQL over the alert store, and incidents.

Reads go through their own connection (one per thread: pages are served from a thread pool)
so a long page never holds the store's write lock; writes (triage) go through `AlertStore`.
An incident is the alerts of one attack: the same source (address, or host when there is none)
against the same target (destination address, or host), chained while each alert starts
within `window_s` of the previous one's last event.
"""

from __future__ import annotations

import heapq
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from nocsoc.detections.alerts.store import FTS_TABLE, OPEN_STATES, STATES, Alert, AlertStore, _alert
from nocsoc.sqlwhere import Where

LEVELS = ("critical", "high", "medium", "low", "informational")
_LEVEL_RANK = (
    "CASE level WHEN 'critical' THEN 5 WHEN 'high' THEN 4 WHEN 'medium' THEN 3 WHEN 'low' THEN 2 ELSE 1 END"
)
SORTS = {
    "last_seen": "last_seen",
    "first_seen": "first_seen",
    "level": _LEVEL_RANK,
    "count": "count",
    "id": "id",
    "rule": "rule_title",
    "host": "host",
    "src_ip": "src_ip",
}


@dataclass
class QueueFilter:
    state: str = ""  # "" = any; "open" = new or acknowledged
    level: str = ""
    rule: str = ""  # id, or part of the title
    rule_exact: bool = False  # `rule` is a rule id (resolved from an id, name or title): indexed
    host: str = ""
    site: str = ""
    src: str = ""
    user: str = ""
    q: str = ""
    since: float | None = None
    until: float | None = None
    sort: str = "last_seen"
    desc: bool = True
    page: int = 1
    per_page: int = 50

    def problems(self) -> list[str]:
        out = []
        if self.state and self.state not in (*STATES, "open"):
            out.append(f"state {self.state!r}")
        if self.level and self.level not in LEVELS:
            out.append(f"level {self.level!r}")
        if self.sort not in SORTS:
            out.append(f"sort {self.sort!r}")
        return out


@dataclass
class Page:
    alerts: list[Alert]
    total: int
    page: int
    pages: int
    by_state: dict[str, int] = field(default_factory=dict)


_WORD = re.compile(r'"([^"]*)"?|(\S+)')
_INDEXED = re.compile(r"[^\W_]")  # a character unicode61 keeps in a token (letters, digits)


def fts_query(text: str) -> str | None:
    """What an analyst typed as an FTS5 query that only ever means "these words": every word, or
    "quoted phrase", becomes an FTS5 string (its quotes doubled), so user text is data, never
    FTS5 syntax (AND, OR, NOT, NEAR, column filters, parentheses). The one operator a user can
    intend is a trailing `*`: a prefix (`adm*`). Words are ANDed. None: nothing indexable in the
    text (only punctuation), which the caller searches by substring instead."""
    parts = []
    for m in _WORD.finditer(text):
        word = m[1] if m[1] is not None else m[2]
        prefix = m[1] is None and word.endswith("*")
        word = word.rstrip("*") if prefix else word
        if not _INDEXED.search(word):
            continue
        parts.append('"' + word.replace('"', '""') + '"' + ("*" if prefix else ""))
    return " AND ".join(parts) or None


MANY_MATCHES = 2000


def _hinted(db: sqlite3.Connection, sql: str, hint: str, args: list[Any]) -> list[Any]:
    """`sql` with `hint` (an INDEXED BY clause, or "") put in its `{}`; without the hint when
    SQLite cannot plan the query with it."""
    if hint:
        try:
            return db.execute(sql.format(hint), args).fetchall()
        except sqlite3.OperationalError as exc:  # "no query solution": the plain plan then
            if "no query solution" not in str(exc):
                raise
    return db.execute(sql.format(""), args).fetchall()


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class QueueQueries:
    """The queue's reads, shared by the SQLite and the PostgreSQL readers: every query is
    written once here, in SQL both run (`?` placeholders, quoted "user"); a backend supplies its
    connection (`_rows`) and the few conditions their SQL spells differently (case-insensitive
    equality, substrings, free text), and may hint its planner (`_hints`, `_select`)."""

    def __init__(self, site_hosts: dict[str, set[str]] | None = None, max_per_page: int = 500) -> None:
        self.max_per_page = max_per_page  # the console's; the CLI lists up to its --limit
        self.site_hosts = site_hosts or {}  # site -> host names and addresses in it

    # --- what a backend supplies --------------------------------------------------------------

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> list[Any]:
        """Rows of `sql`, each indexable by position and by column name (and `dict(row)`)."""
        raise NotImplementedError

    def _tuples(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of `sql` as plain tuples (many rows, read by position only)."""
        return [tuple(r) for r in self._rows(sql, args)]

    def _ci_equal(self, column: str) -> str:
        """`column` equals the parameter, case-insensitively."""
        raise NotImplementedError

    def _contains(self, column: str) -> str:
        """`column` contains the parameter (`_like` of the text), case-insensitively."""
        raise NotImplementedError

    def _text_match(self, text: str) -> tuple[str, Any] | None:
        """The free-text condition on the backend's word index and its one parameter; None when
        the text has no word in it (or there is no index), which `_where` searches by substring."""
        return None

    def _bytewise(self, expr: str) -> str:
        """`expr` compared byte by byte where the backend's default is slower (a locale's
        collation): for sorts whose order only needs equal values side by side."""
        return expr

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Reads inside see one state of the store (several queries that must agree)."""
        yield

    def _hints(self, f: QueueFilter) -> tuple[str, str]:
        """Planner hints for the by-state count and for the page's ids (put in the `{}` of
        their SQL by `_select`): none unless the backend has a reason."""
        return "", ""

    def _select(self, sql: str, hint: str, args: list[Any]) -> list[Any]:
        return self._rows(sql.format(""), args)

    # --- the queries ------------------------------------------------------------------------

    def _where(self, f: QueueFilter) -> tuple[str, list[Any]]:
        w = Where("1=1")
        if f.state == "open":
            w.add("state IN ('new', 'acknowledged')")
        elif f.state:
            w.add("state = ?", f.state)
        w.if_given(f.level, "level = ?")
        if f.rule and f.rule_exact:
            w.add("rule_id = ?", f.rule)
        elif f.rule:
            w.add(f"(rule_id = ? OR {self._contains('rule_title')})", f.rule, _like(f.rule))
        if f.host:
            w.add(f"({self._ci_equal('host')} OR dst_ip = ?)", f.host, f.host)
        if f.site:
            members = sorted(self.site_hosts.get(f.site, set()))
            marks = ",".join("?" * len(members)) or "NULL"
            w.add(f"(host IN ({marks}) OR dst_ip IN ({marks}))", *members, *members)
        w.if_given(f.src, "src_ip = ?")
        w.if_given(f.user, self._ci_equal('"user"'))
        match = self._text_match(f.q) if f.q else None
        if match is not None:  # words: the backend's index
            w.add(*match)
        elif f.q:  # punctuation only, or a store without the index: substrings, by scan
            cols = ("rule_title", "host", "src_ip", "dst_ip", '"user"', "assignee", "samples")
            w.add("(" + " OR ".join(self._contains(c) for c in cols) + ")", *[_like(f.q)] * len(cols))
        w.unless_none(f.since, "last_seen >= ?")
        w.unless_none(f.until, "first_seen < ?")
        return w.sql(), w.args

    def page(self, f: QueueFilter) -> Page:
        where, args = self._where(f)
        state_hint, page_hint = self._hints(f)
        by_state_sql = f"SELECT state, count(*) FROM alerts{{}} WHERE {where} GROUP BY state"
        by_state = {r[0]: int(r[1]) for r in self._select(by_state_sql, state_hint, args)}
        total = sum(by_state.values())
        per = max(1, min(f.per_page, self.max_per_page))
        pages = max(1, -(-total // per))
        page = max(1, min(f.page, pages))
        order = f"{SORTS[f.sort]} {'DESC' if f.desc else 'ASC'}, id {'DESC' if f.desc else 'ASC'}"
        # ids first, then their rows: a deep page skips index entries, not whole rows
        rows = self._select(
            f"SELECT * FROM alerts WHERE id IN (SELECT id FROM alerts{{}} WHERE {where} ORDER BY {order} "
            f"LIMIT ? OFFSET ?) ORDER BY {order}",
            page_hint,
            [*args, per, (page - 1) * per],
        )
        return Page([_alert(r) for r in rows], total, page, pages, by_state)

    def get(self, alert_id: int) -> Alert | None:
        rows = self._rows("SELECT * FROM alerts WHERE id = ?", (alert_id,))
        return _alert(rows[0]) if rows else None

    def alerts(
        self,
        since: float | None = None,
        rule_id: str | None = None,
        limit: int = 100_000,
        open_only: bool = False,
        evidence: bool = True,
    ) -> list[Alert]:
        """Alerts, newest first; `evidence=False` leaves the samples out (their JSON is most of
        the cost of a row: incidents and KPIs do not need it)."""
        cols = "*"
        if not evidence:
            cols = ", ".join(c if c != "samples" else "'[]' AS samples" for c in ALERT_COLUMNS)
        sql, args = f"SELECT {cols} FROM alerts WHERE 1=1", []  # type: tuple[str, list[Any]]
        if since is not None:
            sql += " AND last_seen >= ?"
            args.append(since)
        if rule_id:
            sql += " AND rule_id = ?"
            args.append(rule_id)
        if open_only:
            sql += " AND state IN ('new', 'acknowledged')"
        sql += " ORDER BY last_seen DESC LIMIT ?"
        args.append(limit)
        return [_alert(r) for r in self._rows(sql, args)]

    def briefs(
        self, since: float | None = None, open_only: bool = False, key: tuple[str, str] | None = None
    ) -> list[AlertBrief]:
        """Alerts as briefs; `key`: only those of one attack (source, target as `attack_key`)."""
        sql, args = f"SELECT {BRIEF_COLUMNS} FROM alerts WHERE 1=1", []  # type: tuple[str, list[Any]]
        if key is not None:
            sql += (
                " AND (src_ip = ? OR (src_ip = '' AND host = ?))"
                " AND CASE WHEN dst_ip != '' THEN dst_ip ELSE host END = ?"
            )
            args += [key[0], key[0], key[1]]
        if since is not None:
            sql += " AND last_seen >= ?"
            args.append(since)
        if open_only:
            sql += " AND state IN ('new', 'acknowledged')"
        return [AlertBrief(*r) for r in self._tuples(sql, args)]

    def related(self, a: Alert, window_s: float, limit: int = 50) -> list[Alert]:
        """Alerts sharing the source, the target or the host within `window_s` of `a`."""
        keys = [k for k in (a.src_ip, a.dst_ip) if k]
        conds, args = ["host = ?"], [a.host]
        for k in keys:
            conds.append("src_ip = ? OR dst_ip = ?")
            args += [k, k]
        rows = self._rows(
            f"SELECT * FROM alerts WHERE id != ? AND ({' OR '.join(conds)}) "
            "AND last_seen >= ? AND first_seen <= ? "
            "ORDER BY first_seen, id LIMIT ?",  # ties by id: the same order on every backend
            [a.id, *args, a.first_seen - window_s, a.last_seen + window_s, limit],
        )
        return [_alert(r) for r in rows]

    def recent_incidents(
        self, since: float, window_s: float, open_only: bool = True, limit: int = 500
    ) -> list[Incident]:
        """The `limit` most recent incidents of the alerts seen since `since`, open ones only when
        `open_only`: what `incidents(self.briefs(since=since), window_s)` gives, filtered and cut
        (the console's list), read in two steps instead of every alert as a brief: each alert's
        attack key and times (alerts_incident: the index alone) chained in one pass as SQL sorts
        them, then the briefs of the members of the incidents kept (24k alerts in 7 days:
        ~0.75 s -> ~0.1 s on SQLite and PostgreSQL)."""
        sql = (
            f"SELECT {self._bytewise(_SOURCE)} AS s, {self._bytewise(_TARGET)} AS d, first_seen, last_seen, "
            "id, CASE WHEN state IN ('new', 'acknowledged') THEN 1 ELSE 0 END "
            "FROM alerts WHERE last_seen >= ? ORDER BY s, d, first_seen, id"
        )
        with self._snapshot():
            rows = self._tuples(sql, (since,))
            # one pass: each incident as (last seen, id, its first row, the row after its last,
            # open); plain locals and tuples, as 24k alerts make up to 24k incidents
            found: list[tuple[float, int, int, int, int]] = []
            src: str | None = None
            dst, end, low, is_open, start = "", 0.0, 0, 0, 0
            for k, (s, d, first, last, aid, op) in enumerate(rows):
                if s == src and d == dst and first <= end + window_s:  # the same incident
                    end = last if last > end else end
                    low = aid if aid < low else low
                    is_open |= op
                    continue
                if k:
                    found.append((end, low, start, k, is_open))
                src, dst, end, low, is_open, start = s, d, last, aid, op, k
            if rows:
                found.append((end, low, start, len(rows), is_open))
            # most recent first (then the higher id), as incidents() sorts them
            kept = heapq.nlargest(max(0, limit), (f for f in found if f[4] or not open_only),
                                  key=lambda f: (f[0], f[1]))
            briefs = self._briefs_of([rows[j][4] for f in kept for j in range(f[2], f[3])])
        return [
            Incident(low, rows[start][0], rows[start][1], rows[start][2], end,
                     [briefs[rows[j][4]] for j in range(start, stop)])
            for end, low, start, stop, _ in kept
        ]

    def _briefs_of(self, ids: list[int]) -> dict[int, AlertBrief]:
        """Briefs of the alerts `ids`, by id."""
        out: dict[int, AlertBrief] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            sql = f"SELECT {BRIEF_COLUMNS} FROM alerts WHERE id IN ({','.join('?' * len(chunk))})"
            out.update((r[0], AlertBrief(*r)) for r in self._tuples(sql, chunk))
        return out

    def open_incident_levels(self, since: float, window_s: float) -> dict[str, int]:
        """Open incidents of alerts seen since `since`, by level: what `incidents()` of the open
        briefs gives, counted without building them (the IOC's tile: SQL sorts by attack and
        time, one pass chains; 24k open alerts in ~60 ms instead of ~250)."""
        rank = {lv: i for i, lv in enumerate(LEVELS)}
        sql = (
            f"SELECT {self._bytewise(_SOURCE)} AS s, {self._bytewise(_TARGET)} AS d, first_seen, last_seen, "
            "level FROM alerts WHERE state IN ('new', 'acknowledged') AND last_seen >= ? "
            "ORDER BY s, d, first_seen, id"
        )
        out = dict.fromkeys(LEVELS, 0)
        key: tuple[str, str] | None = None
        end, best = 0.0, 99
        for s, d, first, last, level in self._tuples(sql, (since,)):
            if (s, d) != key or first > end + window_s:  # a new incident starts
                if key is not None and best < len(LEVELS):
                    out[LEVELS[best]] += 1
                key, end, best = (s, d), last, rank.get(level, 99)
            else:
                end, best = max(end, last), min(best, rank.get(level, 99))
        if key is not None and best < len(LEVELS):
            out[LEVELS[best]] += 1
        return out

    def open_by_level(self) -> dict[str, int]:
        return {
            r[0]: int(r[1])
            for r in self._rows(
                "SELECT level, count(*) FROM alerts WHERE state IN ('new', 'acknowledged') GROUP BY level"
            )
        }

    def triage_kpis(self, since: float, open_alerts: int | None = None) -> dict[str, float | int | None]:
        """Alerts raised since `since`; mean time to acknowledge and to close (s), from the audit;
        the open alerts (`open_alerts` when the caller has counted them: the sum of
        `open_by_level`)."""
        raised = self._rows("SELECT count(*) FROM alerts WHERE created_at >= ?", (since,))[0][0]

        def mean(action: tuple[str, ...]) -> float | None:
            marks = ",".join("?" * len(action))
            row = self._rows(
                f"SELECT avg(first_at - a.created_at) FROM (SELECT alert_id, min(at) AS first_at FROM audit "
                f"WHERE action IN ({marks}) AND at >= ? GROUP BY alert_id) t "
                "JOIN alerts a ON a.id = t.alert_id",
                (*action, since),
            )[0]
            return None if row[0] is None else float(row[0])

        return {
            "raised": int(raised),
            "mtta_s": mean(("ack",)),
            "mttr_s": mean(("close", "false_positive")),
            "open": int(
                self._rows("SELECT count(*) FROM alerts WHERE state IN ('new', 'acknowledged')")[0][0]
            ) if open_alerts is None else open_alerts,
        }

    # top_targets/top_sources: the WHERE and the grouped expression are those of the partial
    # indexes alerts_open_targets/alerts_open_sources (nocsoc.detections.alerts.store), which
    # SQLite uses only when they are written the same: 300 -> 25-80 ms at 100k open alerts
    def top_targets(self, limit: int = 10) -> list[tuple[str, int]]:
        return self._top(
            "SELECT CASE WHEN dst_ip != '' THEN dst_ip ELSE host END AS t, count(*) FROM alerts "
            "WHERE state IN ('new', 'acknowledged') GROUP BY t ORDER BY 2 DESC, 1 LIMIT ?",
            limit,
        )

    def top_sources(self, limit: int = 10) -> list[tuple[str, int]]:
        return self._top(
            "SELECT src_ip, count(*) FROM alerts WHERE state IN ('new', 'acknowledged') AND src_ip != '' "
            "GROUP BY src_ip ORDER BY 2 DESC, 1 LIMIT ?",
            limit,
        )

    def _top(self, sql: str, limit: int) -> list[tuple[str, int]]:
        """(key, count) rows of a `... LIMIT ?` count query, most first."""
        return [(r[0], int(r[1])) for r in self._rows(sql, (limit,))]


class QueueReader(QueueQueries):
    """The queue's reads on the SQLite store, through their own read-only connection (one per
    thread: pages are served from a thread pool) so a long page never holds the store's write
    lock; free text through the store's FTS5 index."""

    def __init__(
        self, path: Path, site_hosts: dict[str, set[str]] | None = None, max_per_page: int = 500
    ) -> None:
        super().__init__(site_hosts, max_per_page)
        self.path = path
        self._local = threading.local()
        self._fts: bool | None = None  # the store has the free-text index (looked up once)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False, timeout=30)
            db.row_factory = sqlite3.Row
            self._local.db = db
        return db

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> list[Any]:
        return self._db().execute(sql, list(args)).fetchall()

    def _tuples(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self._db().cursor()
        cur.row_factory = None  # plain tuples: no sqlite3.Row per row
        return cur.execute(sql, list(args)).fetchall()

    def _ci_equal(self, column: str) -> str:
        return f"{column} = ? COLLATE NOCASE"  # as the index alerts_host is declared

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        db = self._db()
        if db.in_transaction:  # already inside one
            yield
            return
        db.execute("BEGIN")  # a read transaction: WAL keeps its snapshot until the end
        try:
            yield
        finally:
            db.execute("COMMIT")  # reads only: nothing to roll back, even after an error

    def _contains(self, column: str) -> str:
        return f"{column} LIKE ? ESCAPE '\\'"

    def _text_match(self, text: str) -> tuple[str, Any] | None:
        match = fts_query(text) if self._has_fts() else None
        if match is None:
            return None
        return f"id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?)", match

    def _hints(self, f: QueueFilter) -> tuple[str, str]:
        many = self._many_match(f)
        return (" INDEXED BY alerts_state" if many else "",
                " INDEXED BY alerts_last" if many and f.sort == "last_seen" else "")

    def _select(self, sql: str, hint: str, args: list[Any]) -> list[Any]:
        return _hinted(self._db(), sql, hint, args)

    def _has_fts(self) -> bool:
        if self._fts is None:
            self._fts = bool(
                self._db().execute("SELECT 1 FROM sqlite_master WHERE name = ?", (FTS_TABLE,)).fetchone()
            )
        return self._fts

    def _many_match(self, f: QueueFilter) -> bool:
        """Whether the free text matches so many alerts (more than MANY_MATCHES) that walking an
        index in the wanted order and probing the matches beats looking each match up: SQLite's
        planner, which cannot see how many rows an FTS5 query returns, always does the latter
        (a word in 30% of 100k alerts: 60 ms of row lookups against 10 ms)."""
        match = fts_query(f.q) if f.q and self._has_fts() else None
        if match is None or f.src or f.host or f.user or f.rule_exact:
            return False  # no free text, or a filter of its own index narrows the rows more
        sql = f"SELECT count(*) FROM (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? LIMIT ?)"
        return int(self._db().execute(sql, (match, MANY_MATCHES + 1)).fetchone()[0]) > MANY_MATCHES


@dataclass(slots=True)
class AlertBrief:
    """An alert without its evidence and tags: what grouping and lists need, read without JSON
    decoding (24k alerts: 0.15 s instead of 1.2 s as full `Alert`s)."""

    id: int
    rule_id: str
    rule_title: str
    level: str
    host: str
    src_ip: str
    dst_ip: str
    user: str
    first_seen: float
    last_seen: float
    count: int
    state: str
    assignee: str


BRIEF_COLUMNS = ", ".join('"user"' if c == "user" else c for c in AlertBrief.__slots__)
# every column of `alerts`, in Alert's order (the store's rows are Alerts)
ALERT_COLUMNS = tuple('"user"' if f.name == "user" else f.name for f in fields(Alert))


@dataclass
class Incident:
    id: int  # the first alert's id
    source: str
    target: str
    first_seen: float
    last_seen: float
    alerts: list[Any]  # Alert or AlertBrief

    @property
    def level(self) -> str:
        return min((a.level for a in self.alerts), key=lambda lv: LEVELS.index(lv) if lv in LEVELS else 9)

    @property
    def open(self) -> bool:
        return any(a.state in OPEN_STATES for a in self.alerts)

    @property
    def events(self) -> int:
        return sum(a.count for a in self.alerts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "target": self.target,
            "level": self.level,
            "open": self.open,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "events": self.events,
            "alerts": [a.id for a in self.alerts],
            "rules": sorted({a.rule_title for a in self.alerts}),
        }


# an alert's attack as SQL (`attack_key`): its source and its target
_SOURCE = "CASE WHEN src_ip != '' THEN src_ip ELSE host END"
_TARGET = "CASE WHEN dst_ip != '' THEN dst_ip ELSE host END"


def attack_key(a: Any) -> tuple[str, str]:
    return (a.src_ip or a.host, a.dst_ip or a.host)


def incidents(alerts: Iterable[Any], window_s: float) -> list[Incident]:
    """Group alerts into incidents (see the module doc), most recent first."""
    by_key: dict[tuple[str, str], list[Any]] = {}
    for a in sorted(alerts, key=lambda x: (x.first_seen, x.id)):
        by_key.setdefault(attack_key(a), []).append(a)
    out: list[Incident] = []
    for (src, dst), items in by_key.items():
        cur: Incident | None = None
        for a in items:
            if cur is not None and a.first_seen <= cur.last_seen + window_s:
                cur.alerts.append(a)
                cur.last_seen = max(cur.last_seen, a.last_seen)
                cur.id = min(cur.id, a.id)
                continue
            cur = Incident(a.id, src, dst, a.first_seen, a.last_seen, [a])
            out.append(cur)
    out.sort(key=lambda i: (-i.last_seen, -i.id))
    return out


def reader_for(store: AlertStore, site_hosts: dict[str, set[str]] | None = None,
               max_per_page: int = 500) -> QueueQueries:
    """The queue reader for `store`'s backend: its own connections to the same database."""
    from nocsoc.detections.alerts.postgres import PostgresAlertStore

    if isinstance(store, PostgresAlertStore):
        from nocsoc.web.queue_postgres import PostgresQueueReader

        return PostgresQueueReader(store.connect, site_hosts, max_per_page)
    return QueueReader(store.path, site_hosts, max_per_page)
