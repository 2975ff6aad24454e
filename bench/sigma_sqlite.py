"""Events into one SQLite table, as pySigma's SQLite backend (Zircolite's method) queries them.

Shared by the detections and Windows benches: one TEXT column per field name, deduplicated
case-insensitively (SQLite's names are), NOCASE collation, and a `regexp` function for `|re`.
"""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any


def load_events(events: list[Any], timestamp: bool = False) -> tuple[sqlite3.Connection, float]:
    """An in-memory database holding `events` in table `logs`, and the CPU seconds the load took
    (with `timestamp`, a `timestamp` column for correlation rules)."""
    cols: dict[str, str] = {}
    for ev in events:
        for k in ev.fields:
            cols.setdefault(k.lower(), k)
    if timestamp:  # the correlation queries' time column: an event field of that name yields
        cols.pop("timestamp", None)
    names = list(cols)
    db = sqlite3.connect(":memory:")
    db.create_function("regexp", 2, lambda p, v: v is not None and re.search(p, str(v)) is not None,
                       deterministic=True)
    t0 = time.process_time()
    head = ["timestamp"] if timestamp else []
    db.execute("CREATE TABLE logs (row_id INTEGER PRIMARY KEY, "
               + ", ".join([*(f"{h} TEXT" for h in head), *(f'"{c}" TEXT COLLATE NOCASE' for c in names)])
               + ")")
    rows: list[list[str | None]] = []
    for ev in events:
        low = {k.lower(): v for k, v in ev.fields.items()}
        row: list[str | None] = (
            [datetime.fromtimestamp(ev.time, UTC).strftime("%Y-%m-%dT%H:%M:%S")] if timestamp else [])
        row += [None if (v := low.get(c)) is None else str(v) for c in names]
        rows.append(row)
    columns = ", ".join([*head, *(f'"{c}"' for c in names)])
    ph = ", ".join("?" for _ in range(len(head) + len(names)))
    db.executemany(f"INSERT INTO logs ({columns}) VALUES ({ph})", rows)
    db.commit()
    return db, time.process_time() - t0
