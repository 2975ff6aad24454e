"""The alert store on PostgreSQL, for several detectors sharing one queue.

Same tables, same SQL and the same triage, suppression and audit code as the SQLite store
(`AlertStore`): only the connection, the schema's types and the start of a write transaction
differ. SQLite serialises writers with its database lock (BEGIN IMMEDIATE); here every write
transaction takes one transaction-scoped advisory lock first, so two detectors ingesting the
same attack at the same moment cannot both miss the open alert and raise two: one waits for
the other's commit and then increments its alert. Alert rates are far below what one lock
serialises (thousands of ingests a second), and reads take no lock.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

from nocsoc.detections.alerts import partitions
from nocsoc.detections.alerts.store import AlertStore

# one key for every writer of the store (pg_advisory_xact_lock takes a bigint)
WRITE_LOCK_KEY = 0x6E6F63736F63  # "nocsoc"

# Free-text search (the console's queue, `alerts list --text`): what SQLite's FTS5 index holds
# (see nocsoc.detections.alerts.store), as a tsvector per alert in `alerts_words` with a GIN
# index, kept in step by triggers as FTS5's is (and filled once for a store written before it;
# a deleted alert's row goes with it). Its words: the title, hosts, users and every value of the
# evidence (not its JSON keys, nor the samples' own times), every run of characters other than
# letters and digits made a space first, so the 'simple' parser sees the words FTS5's unicode61
# tokenizer sees (an address, a path or a URL are words, not one lexeme). Strings and numbers
# only: JSON booleans are not words (SQLite indexes `true` as 1). An escaped NUL (\u0000, which
# attackers put in requests) is made a space before the evidence is read as jsonb, which refuses
# it: else one such line would make the alert's insert fail. Stored, not an expression index:
# the function costs ~0.1-0.5 ms an alert (jsonb, regex), which a phrase's recheck or a plan
# walking alerts by time would pay per row (1.2 s for a page at 100k alerts).
# Run on the connection itself: their `?` are regex and jsonpath syntax, not placeholders.
# TEXT_MATCH_FEW's OFFSET 0 keeps the matches a subquery of their own (the GIN index first, then
# a hashed set): flattened into a semi-join, the planner, which guesses how many alerts a word
# matches, walked alerts by time probing alerts_words per alert (100k probes, 0.45-0.7 s for a
# page at 100k alerts, against 3-110 ms). For a word in many alerts that walk is the better plan
# (the reader counts the matches first, as the SQLite reader does for its FTS5 plans).
TEXT_MATCH = "id IN (SELECT id FROM alerts_words WHERE words @@ to_tsquery('simple', ?))"
TEXT_MATCH_FEW = "id IN (SELECT id FROM alerts_words WHERE words @@ to_tsquery('simple', ?) OFFSET 0)"
TEXT_COUNT = ("SELECT count(*) FROM (SELECT 1 FROM alerts_words WHERE words @@ to_tsquery('simple', ?) "
              "LIMIT ?) t")
_WORDS_OF = ('nocsoc_alert_text({r}.rule_title, {r}.samples, {r}.host, {r}.src_ip, {r}.dst_ip, '
             '{r}."user", {r}.assignee)')
_TEXT_SCHEMA = (
    r"""CREATE OR REPLACE FUNCTION nocsoc_alert_text(title TEXT, samples TEXT, host TEXT, src_ip TEXT,
    dst_ip TEXT, usr TEXT, assignee TEXT) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT to_tsvector('simple', regexp_replace(concat_ws(' ', title,
    (SELECT string_agg(v #>> '{}', ' ')
     FROM jsonb_array_elements(regexp_replace(samples, '(?<!\\)((?:\\\\)*)\\u0000', '\1 ', 'g')::jsonb) s,
     jsonb_path_query(s - 'time', 'strict $.** ? (@.type() == "string" || @.type() == "number")') v),
    host, src_ip, dst_ip, usr, assignee), '[^[:alnum:]]+', ' ', 'g'))
$$""",
    "CREATE TABLE IF NOT EXISTS alerts_words (id BIGINT PRIMARY KEY REFERENCES alerts (id) "
    "ON DELETE CASCADE, words tsvector NOT NULL)",
    "CREATE INDEX IF NOT EXISTS alerts_words_gin ON alerts_words USING GIN (words)",
    f"""CREATE OR REPLACE FUNCTION nocsoc_alert_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO alerts_words (id, words) VALUES (NEW.id, {_WORDS_OF.format(r="NEW")})
    ON CONFLICT (id) DO UPDATE SET words = EXCLUDED.words;
    RETURN NULL;
END $$""",
)
# triggers: created when missing (a DROP + CREATE at every start would lock out readers)
_TRIGGERS = {
    "alerts_words_ai": "CREATE TRIGGER alerts_words_ai AFTER INSERT ON alerts FOR EACH ROW "
                       "EXECUTE FUNCTION nocsoc_alert_words()",
    # only when an indexed column really changed: ingest rewrites `samples` on every increment,
    # unchanged once an alert holds MAX_SAMPLES
    "alerts_words_au": "CREATE TRIGGER alerts_words_au AFTER UPDATE OF rule_title, samples, host, "
    'src_ip, dst_ip, "user", assignee ON alerts FOR EACH ROW '
    "WHEN (OLD.rule_title IS DISTINCT FROM NEW.rule_title OR "
    "OLD.samples IS DISTINCT FROM NEW.samples OR OLD.host IS DISTINCT FROM NEW.host OR "
    "OLD.src_ip IS DISTINCT FROM NEW.src_ip OR OLD.dst_ip IS DISTINCT FROM NEW.dst_ip OR "
    'OLD."user" IS DISTINCT FROM NEW."user" OR OLD.assignee IS DISTINCT FROM NEW.assignee) '
    "EXECUTE FUNCTION nocsoc_alert_words()",
}
# a store written before the words: every alert once, here
_WORDS_BACKFILL = (
    f"INSERT INTO alerts_words (id, words) SELECT a.id, {_WORDS_OF.format(r='a')} FROM alerts a "
    "WHERE NOT EXISTS (SELECT 1 FROM alerts_words w WHERE w.id = a.id)"
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id BIGSERIAL PRIMARY KEY,
    rule_id TEXT NOT NULL, rule_title TEXT NOT NULL, level TEXT NOT NULL, tags TEXT NOT NULL,
    tactic TEXT NOT NULL, kind TEXT NOT NULL, group_key TEXT NOT NULL,
    host TEXT NOT NULL, src_ip TEXT NOT NULL, dst_ip TEXT NOT NULL, "user" TEXT NOT NULL,
    first_seen DOUBLE PRECISION NOT NULL, last_seen DOUBLE PRECISION NOT NULL, count BIGINT NOT NULL,
    state TEXT NOT NULL, samples TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL, assignee TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS alerts_dedup ON alerts (rule_id, group_key, state);
CREATE INDEX IF NOT EXISTS alerts_last ON alerts (last_seen);
CREATE INDEX IF NOT EXISTS alerts_state ON alerts (state, last_seen);
CREATE INDEX IF NOT EXISTS alerts_src ON alerts (src_ip);
CREATE INDEX IF NOT EXISTS alerts_host ON alerts (lower(host));
CREATE INDEX IF NOT EXISTS alerts_level ON alerts (level, state, count);
CREATE INDEX IF NOT EXISTS alerts_created ON alerts (created_at);
-- the IOC's most targeted hosts and top sources (as on SQLite): open alerts only, in group order,
-- read by index-only scans (an expression is only returned from its columns: INCLUDE them), without
-- them, two scans of the whole table and a hash of 100k sources spilled to disk (0.35 s)
CREATE INDEX IF NOT EXISTS alerts_open_targets ON alerts ((CASE WHEN dst_ip != '' THEN dst_ip ELSE host END))
    INCLUDE (dst_ip, host) WHERE state IN ('new', 'acknowledged');
CREATE INDEX IF NOT EXISTS alerts_open_sources ON alerts (src_ip) WHERE state IN ('new', 'acknowledged');
CREATE TABLE IF NOT EXISTS audit (
    id BIGSERIAL PRIMARY KEY,
    alert_id BIGINT, suppression_id BIGINT, action TEXT NOT NULL,
    from_state TEXT, to_state TEXT, who TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,
    comment TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_alert ON audit (alert_id);
CREATE TABLE IF NOT EXISTS suppressions (
    id BIGSERIAL PRIMARY KEY,
    rule_id TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,
    expires DOUBLE PRECISION NOT NULL, created_by TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL, comment TEXT NOT NULL,
    removed_at DOUBLE PRECISION, hits BIGINT NOT NULL DEFAULT 0,
    conditions TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS input_offsets (
    owner TEXT NOT NULL DEFAULT '', input TEXT NOT NULL, inode BIGINT NOT NULL,
    "offset" BIGINT NOT NULL, updated_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (owner, input)
);
CREATE TABLE IF NOT EXISTS correlation_state (
    owner TEXT NOT NULL DEFAULT '', rule_id TEXT NOT NULL, state TEXT NOT NULL,
    saved_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (owner, rule_id)
);
CREATE TABLE IF NOT EXISTS partition_windows (
    input TEXT NOT NULL, rule_id TEXT NOT NULL, state TEXT NOT NULL,
    saved_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (input, rule_id)
);
""" + partitions.SCHEMA.format(real="DOUBLE PRECISION", bigint="BIGINT")

# `?` placeholders (SQLite's, in the shared SQL) -> psycopg's `%s`; the shared SQL has no `?`
# or `%` inside a string literal, and values are always passed as parameters
_PLACEHOLDER = re.compile(r"\?")


class _Connection:
    """The sqlite3.Connection subset the shared store code uses, over one psycopg connection
    in autocommit mode (the store issues BEGIN/COMMIT itself, as it does on SQLite)."""

    def __init__(self, conn: psycopg.Connection[dict[str, Any]]) -> None:
        self.conn = conn

    @staticmethod
    def _sql(sql: str) -> str:
        return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))

    def execute(self, sql: str, args: Sequence[Any] = ()) -> psycopg.Cursor[dict[str, Any]]:
        return self.conn.execute(self._sql(sql), list(args))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(self._sql(sql), [list(r) for r in rows])

    def close(self) -> None:
        self.conn.close()


def default_owner() -> str:
    """A detector's name in a shared store when the config gives none: its host."""
    return socket.gethostname()


class PostgresAlertStore(AlertStore):
    """`AlertStore` on a PostgreSQL database given by a libpq connection string (the password,
    a secret, comes separately: never inside the string)."""

    def __init__(self, dsn: str, dedup_window_s: float = 3600.0, *, password: str | None = None,
                 owner: str | None = None, connect_timeout_s: float = 10.0) -> None:
        self.dsn = dsn
        self._password = password
        self._connect_timeout_s = connect_timeout_s
        super().__init__(dsn, dedup_window_s, owner=default_owner() if owner is None else owner)

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        """A new autocommit connection to the store's database (the console's readers open
        their own, as they do on SQLite); `kwargs`: psycopg.connect's, e.g. a row_factory."""
        kwargs = {"autocommit": True, "connect_timeout": max(1, int(self._connect_timeout_s))} | kwargs
        if self._password is not None:
            kwargs["password"] = self._password
        return psycopg.connect(self.dsn, **kwargs)

    def _open(self, busy_timeout_s: float) -> Any:
        db = _Connection(self.connect(row_factory=dict_row))
        self._db = db
        with self._tx():  # the advisory lock: detectors starting together create the schema once
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    db.execute(stmt)
            for stmt in _TEXT_SCHEMA:
                db.conn.execute(stmt)
            for name, create in _TRIGGERS.items():
                if not db.conn.execute("SELECT 1 FROM pg_trigger WHERE tgname = %s AND tgrelid = "
                                       "'alerts'::regclass", (name,)).fetchone():
                    db.conn.execute(create)
            db.conn.execute(_WORDS_BACKFILL)
        return db

    @property
    def where(self) -> str:
        """The database named in messages: host, port and name, never the password."""
        info = self._db.conn.info
        return f"postgresql://{info.host}:{info.port}/{info.dbname}"

    def _begin(self) -> None:
        self._db.execute("BEGIN")
        self._db.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK_KEY,))

    def _suppressions_version(self, db: Any) -> object:
        """None: PostgreSQL has no cheap cross-connection change counter like SQLite's
        data_version, so the (few) active suppressions are read at every ingest."""
        return None

    def optimize(self) -> None:
        with self._lock:
            self._db.execute("ANALYZE alerts")
