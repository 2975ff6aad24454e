"""The alert queue's reads on the PostgreSQL store (several detectors sharing one queue).

The queries are `QueueQueries`' (the SQLite reader's); only the connection and three conditions
differ. Case-insensitive equality is `lower(x) = lower(?)` (the store's index alerts_host is on
lower(host)); substrings are ILIKE (backslash is PostgreSQL's default LIKE escape, as `_like`
writes it). Free text uses the store's GIN index over each alert's words (`alerts_words`, see
nocsoc.detections.alerts.postgres) with the 'simple' configuration instead of SQLite's FTS5, with
the same user-visible rules: every word, or "quoted phrase", must appear (a phrase: its words in
order); a trailing `*` makes the last word a prefix; words are runs of letters and digits, so an
address or a path is a phrase of its parts; nothing typed is ever query syntax. What differs:
- diacritics count: "nhap" does not find "nhập" (FTS5's remove_diacritics does; PostgreSQL's
  unaccent is an extension a store's owner may not be allowed to create);
- the columns are one text, so a phrase may run from the end of one (the title) into the next;
- JSON booleans in the evidence are not words (FTS5 indexes `true` as 1);
- text sorts and ties follow the database's collation (the same order as SQLite's with the C
  collation, which the tests' cluster uses).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row

from nocsoc.detections.alerts.postgres import TEXT_COUNT, TEXT_MATCH, TEXT_MATCH_FEW, _Connection
from nocsoc.web import queue
from nocsoc.web.queue import _WORD, QueueQueries

_TOKEN = re.compile(r"[^\W_]+")  # a word as the index splits text: letters and digits


def tsquery(text: str) -> str | None:
    """What an analyst typed as a to_tsquery text meaning only "these words" (as `fts_query`
    does for FTS5): each word or "quoted phrase" split into its letter-and-digit runs, each run
    a quoted lexeme, the runs of one phrase adjacent (<->), a trailing `*` a prefix of the last
    run, phrases ANDed (&). None: no letter or digit in the text."""
    parts = []
    for m in _WORD.finditer(text):
        word = m[1] if m[1] is not None else m[2]
        prefix = m[1] is None and word.endswith("*")
        runs = _TOKEN.findall(word.rstrip("*") if prefix else word)
        if not runs:
            continue
        lexemes = ["'" + r.lower() + "'" for r in runs]  # letters and digits only: nothing to escape
        if prefix:
            lexemes[-1] += ":*"
        parts.append("(" + " <-> ".join(lexemes) + ")")
    return " & ".join(parts) or None


def _row_factory(cursor: psycopg.Cursor[Any]) -> Callable[[Sequence[Any]], _Row]:
    names = tuple(c.name for c in cursor.description or ())
    index = {n: i for i, n in enumerate(names)}
    return lambda values: _Row(values, names, index)


class _Row(tuple):
    """A row by position and by column name, and `dict(row)`: what sqlite3.Row gives the shared
    queries (psycopg's row factories give one or the other)."""

    names: tuple[str, ...]
    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], names: tuple[str, ...], index: dict[str, int]) -> _Row:
        row = super().__new__(cls, values)
        row.names, row._index = names, index
        return row

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self._index[key] if isinstance(key, str) else key)

    def keys(self) -> tuple[str, ...]:
        return self.names


class PostgresQueueReader(QueueQueries):
    """Reads through their own connections (one per thread, as the SQLite reader), opened by
    `connect` (the store's `connect`), read-only."""

    def __init__(
        self,
        connect: Callable[..., psycopg.Connection[Any]],
        site_hosts: dict[str, set[str]] | None = None,
        max_per_page: int = 500,
    ) -> None:
        super().__init__(site_hosts, max_per_page)
        self._connect = connect
        self._local = threading.local()

    def _db(self) -> _Connection:
        db: _Connection | None = getattr(self._local, "db", None)
        if db is None or db.conn.closed or db.conn.broken:  # a lost server: a new connection
            db = _Connection(self._connect(row_factory=_row_factory))
            db.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            self._local.db = db
        return db

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> list[Any]:
        return self._db().execute(sql, list(args)).fetchall()

    def _tuples(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        # no _Row per row, values in binary (no number parsed from text): 24k rows ~25% faster
        with self._db().conn.cursor(row_factory=tuple_row) as cur:
            return cur.execute(_Connection._sql(sql), list(args), binary=True).fetchall()

    def _ci_equal(self, column: str) -> str:
        return f"lower({column}) = lower(?)"

    def _bytewise(self, expr: str) -> str:
        return f'({expr}) COLLATE "C"'  # no locale's comparison per pair of rows in a sort

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        db = self._db()
        if db.conn.info.transaction_status != TransactionStatus.IDLE:  # already inside one
            yield
            return
        db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")  # read-only: the session's default
        try:
            yield
        finally:
            if not db.conn.closed and not db.conn.broken:
                db.execute("COMMIT")  # reads only: an aborted one is ended (rolled back) as well

    def _contains(self, column: str) -> str:
        return f"{column} ILIKE ?"

    def _text_match(self, text: str) -> tuple[str, Any] | None:
        """The matches planned first when they are few (at most queue.MANY_MATCHES); else left to
        the planner, which then walks the wanted order (see TEXT_MATCH_FEW)."""
        query = tsquery(text)
        if query is None:
            return None
        many = int(self._rows(TEXT_COUNT, (query, queue.MANY_MATCHES + 1))[0][0]) > queue.MANY_MATCHES
        return (TEXT_MATCH if many else TEXT_MATCH_FEW), query
