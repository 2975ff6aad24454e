"""Log archive: ingestion and writer cost per line, disk per line, and searches over a day.
Lines: 200,000 parsed syslog lines of a mix (sshd failures and successes from 5,000 sources,
firewall denies, cron, web access), made once by nocsoc's own parser. `add()` is what the log
pipeline's engine thread pays per line (ns, process CPU); the writer's CPU per line covers
building the columns, the Parquet (zstd) write and the hour's compaction. Search: a day of
such lines at 1,000 lines/s (86.4 M lines would not fit this bench's time: the day is 24
hours of 100,000 lines each, 2.4 M lines) searched for one source address and for a host
over 2 hours. Wall time, best of 3.

Run: `python -m bench archive`.
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from nocsoc.collectors.logs.parsers import LineParser  # noqa: E402
from nocsoc.events import LogEvent  # noqa: E402
from nocsoc.history.config import HistoryConfig  # noqa: E402
from nocsoc.history.logs import LogArchiveWriter, search_logs  # noqa: E402
from nocsoc.history.store import Dataset  # noqa: E402

T0 = 1_780_000_000 - 1_780_000_000 % 86400
N = 200_000
PER_HOUR = 100_000
REPEAT = 3
# `python -m bench --quick`: the same code paths at sizes that take seconds (figures meaningless)
QUICK = {"N": 4000, "PER_HOUR": 2000, "REPEAT": 1}


def _lines(n: int, rnd: random.Random) -> list[str]:
    out = []
    for i in range(n):
        ip = f"198.51.{rnd.randrange(20)}.{rnd.randrange(250)}"
        k = i % 5
        if k == 0:
            out.append(f"<38>Dec  6 10:00:{i % 60:02d} bastion-{i % 7} sshd[{i}]: Failed password for "
                       f"user{rnd.randrange(100)} from {ip} port {rnd.randrange(1024, 65535)} ssh2")
        elif k == 1:
            out.append(f"<38>Dec  6 10:00:{i % 60:02d} bastion-{i % 7} sshd[{i}]: Accepted publickey for "
                       f"admin from {ip} port {rnd.randrange(1024, 65535)} ssh2: RSA SHA256:abc")
        elif k == 2:
            out.append(f"<4>Dec  6 10:00:{i % 60:02d} fw-{i % 3} kernel: [12345.678] DROP IN=eth0 OUT= "
                       f"SRC={ip} DST=10.0.{rnd.randrange(10)}.{rnd.randrange(250)} LEN=60 PROTO=TCP "
                       f"SPT={rnd.randrange(1024, 65535)} DPT={rnd.choice([22, 23, 445, 3389])}")
        elif k == 3:
            out.append(f"<78>Dec  6 10:00:{i % 60:02d} app-{i % 11} CRON[{i}]: (root) CMD "
                       "(run-parts /etc/cron.hourly)")
        else:
            out.append(f"<190>Dec  6 10:00:{i % 60:02d} web-{i % 4} nginx: {ip} - - "
                       f"[06/Dec/2026:10:00:00 +0000] \"GET /item/{i} HTTP/1.1\" 200 "
                       f"{rnd.randrange(100, 90000)} \"-\" \"Mozilla/5.0\"")
    return out


def _events(rnd: random.Random) -> list[LogEvent]:
    parser = LineParser(ZoneInfo("UTC"))
    return [parser.parse_syslog(line, sender="127.0.0.1") for line in _lines(N, rnd)]


def run() -> dict[str, Any]:
    import duckdb  # noqa: F401 - imported before the timing (the writer imports them lazily)
    import pyarrow.parquet  # noqa: F401

    rnd = random.Random(3)
    events = _events(rnd)
    tmp = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    try:
        cfg = HistoryConfig(queue_lines=N + 1, compact_after_s=0)
        w = LogArchiveWriter(cfg, tmp / "cost", clock=lambda: T0 + 86400)
        for i, ev in enumerate(events):  # one hour a 100k lines
            ev.time = T0 + (i // PER_HOUR) * 3600 + (i % PER_HOUR) * 3600 / PER_HOUR
        t = time.process_time()
        for ev in events:
            w.add(ev)
        add_ns = (time.process_time() - t) / N * 1e9
        t = time.process_time()
        w.sync()
        writer_us = (time.process_time() - t) / N * 1e6
        size = Dataset(tmp / "cost", "logs").size()
        rows = [{"lines": N, "add() ns/line (ingestion thread)": round(add_ns, 1),
                 "writer CPU µs/line": round(writer_us, 2), "disk bytes/line": round(size / N, 1),
                 "writer at 10k lines/s (% of a core)": round(writer_us * 1e4 / 1e6 * 100, 1)}]
        # a day: 24 hours of the same lines (the first hour's file, its times moved to each hour)
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        day = tmp / "day"
        first = pq.read_table(Dataset(tmp / "cost", "logs").partitions()[0].parquet_files()[0])
        for h in range(24):
            part = Dataset(day, "logs").partition(T0 + h * 3600)
            part.path.mkdir(parents=True)
            moved = first.set_column(0, "time", pc.add(first["time"], float(h * 3600)))
            half = moved.num_rows // 2  # two parts, compacted as the writer does (DuckDB COPY)
            for i, piece in enumerate((moved.slice(0, half), moved.slice(half))):
                pq.write_table(piece, part.path / f"p-{i + 1:020d}.parquet", compression="zstd")
            Dataset(day, "logs").compact(part, "time")
        probe = next(e.fields["src_ip"] for e in events if e.fields.get("src_ip"))
        searches = []
        for what, kw in (("one source address, 24 h", {"ip": probe, "since": T0, "until": T0 + 86400}),
                         ("one host, 2 h", {"host": "bastion-3", "since": T0 + 3600, "until": T0 + 3 * 3600}),
                         ("text, 24 h", {"text": "user42 from", "since": T0, "until": T0 + 86400})):
            best, n = 1e9, 0
            for _ in range(REPEAT):
                t0 = time.perf_counter()
                n = len(search_logs(day, limit=100_000, **kw))  # type: ignore[arg-type]
                best = min(best, time.perf_counter() - t0)
            searches.append({"search": what, "lines in the store": 24 * PER_HOUR, "lines found": n,
                             "s": round(best, 3)})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"rows": rows, "extra_tables": [searches]}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
