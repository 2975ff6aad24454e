"""SOC console on the shared PostgreSQL store: pages over 100k alerts (server time, in-process ASGI)

The console bench (bench_console.py: the same alerts, pages and goals) over the PostgreSQL alert
store that several detectors share, on a fresh PostgreSQL cluster this bench starts on loopback
(the tests' server: Debian's postgresql, fsync=off). Free text goes through the store's
`alerts_words` GIN index where the SQLite store uses FTS5.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import Skipped, bench_console  # noqa: E402

ALERTS = bench_console.ALERTS
PIVOT_MINUTES = bench_console.PIVOT_MINUTES
PIVOT_LOGS = bench_console.PIVOT_LOGS
QUICK = {"ALERTS": 500, "PIVOT_MINUTES": 5, "PIVOT_LOGS": 500}


def run() -> dict[str, Any]:
    from tests.servers.postgres import create_database, postgres_server

    try:
        server = postgres_server()
        pg = server.__enter__()
    except BaseException as exc:  # pytest's skip when the server is not installed
        raise Skipped(f"postgresql: {exc}") from None
    try:
        dsn = create_database(pg, "nocsoc_bench_console")
        with mock.patch.dict(os.environ, {"NOCSOC_BENCH_PG_PASSWORD": pg.password}), \
                mock.patch.multiple(bench_console, PIVOT_MINUTES=PIVOT_MINUTES, PIVOT_LOGS=PIVOT_LOGS):
            result = bench_console.run(ALERTS, dsn)
    finally:
        server.__exit__(None, None, None)
    result["title"] = __doc__.splitlines()[0]
    return result
