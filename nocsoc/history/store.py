"""The on-disk layout of the history: one directory per dataset, one per hour, Parquet files.

    <dir>/<dataset>/<YYYY-MM-DDTHH>/p-<ns>.parquet   parts written by the writer (a minute of
                                                    flows, or a few seconds of log lines)
    <dir>/<dataset>/<YYYY-MM-DDTHH>/c-<ns>.parquet   the hour compacted: every part up to <ns>,
                                                    sorted so row-group statistics prune queries

Hours make the lifecycle cheap: retention and the disk budget delete whole hour directories,
and a query over 24 h opens 24 directories (`files()` returns only the hours of its window).
Files appear by rename (a reader never sees half a file); a reader that lists a part just
before compaction deletes it retries (`run_query`). Parts with a name <= the compacted file's
are covered by it, so a reader never counts a row twice.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

HOUR_S = 3600
_HOUR_FMT = "%Y-%m-%dT%H"
_seq_lock = threading.Lock()
_last_seq = 0


def hour_of(t: float) -> int:
    """Start (epoch s) of the hour holding time `t`."""
    return int(t // HOUR_S) * HOUR_S


def hour_name(hour: int) -> str:
    return datetime.fromtimestamp(hour, UTC).strftime(_HOUR_FMT)


def parse_hour(name: str) -> int | None:
    try:
        return int(datetime.strptime(name, _HOUR_FMT).replace(tzinfo=UTC).timestamp())
    except ValueError:
        return None


def next_seq() -> int:
    """A file sequence number, increasing within this process and across restarts (wall ns)."""
    global _last_seq
    with _seq_lock:
        _last_seq = max(_last_seq + 1, time.time_ns())
        return _last_seq


@dataclass(frozen=True)
class Partition:
    dataset: str
    hour: int
    path: Path

    def parquet_files(self) -> list[Path]:
        """The files a reader must read: the newest compacted file and the parts after it."""
        try:
            names = sorted(n for n in os.listdir(self.path) if n.endswith(".parquet"))
        except FileNotFoundError:
            return []
        compacted = [n for n in names if n.startswith("c-")]
        covered = _seq_of(compacted[-1]) if compacted else -1
        out = [self.path / compacted[-1]] if compacted else []
        out += [self.path / n for n in names if n.startswith("p-") and _seq_of(n) > covered]
        return out

    def size(self) -> int:
        total = 0
        try:
            with os.scandir(self.path) as it:
                for e in it:
                    with contextlib.suppress(FileNotFoundError):
                        total += e.stat().st_size
        except FileNotFoundError:
            pass
        return total


def _seq_of(name: str) -> int:
    try:
        return int(name[2:].split(".", 1)[0])
    except ValueError:
        return -1


class Dataset:
    """One dataset's directory (`flows`, `logs`): partitions, atomic writes, lifecycle."""

    def __init__(self, root: Path, name: str) -> None:
        self.name = name
        self.path = root / name

    def partitions(self) -> list[Partition]:
        """Hour partitions, oldest first (directories that are not hours are left alone)."""
        try:
            names = os.listdir(self.path)
        except FileNotFoundError:
            return []
        out = []
        for n in names:
            h = parse_hour(n)
            if h is not None:
                out.append(Partition(self.name, h, self.path / n))
        return sorted(out, key=lambda p: p.hour)

    def partition(self, hour: int) -> Partition:
        return Partition(self.name, hour, self.path / hour_name(hour))

    def files(self, since: float | None = None, until: float | None = None) -> list[Path]:
        """The files of the hours overlapping [since, until)."""
        out: list[Path] = []
        for p in self.partitions():
            if since is not None and p.hour + HOUR_S <= since:
                continue
            if until is not None and p.hour >= until:
                continue
            out.extend(p.parquet_files())
        return out

    def write_part(self, hour: int, write: Callable[[Path], None]) -> Path:
        """Write a part of `hour` with `write(tmp_path)`, then rename it into place."""
        part = self.partition(hour)
        part.path.mkdir(parents=True, exist_ok=True)
        final = part.path / f"p-{next_seq():020d}.parquet"
        tmp = final.with_suffix(".tmp")
        try:
            write(tmp)
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return final

    def size(self) -> int:
        return sum(p.size() for p in self.partitions())

    def expire(self, now: float, retention_s: float) -> int:
        """Delete the hours wholly older than the retention; returns how many."""
        n = 0
        for p in self.partitions():
            if p.hour + HOUR_S <= now - retention_s:
                shutil.rmtree(p.path, ignore_errors=True)
                n += 1
        return n

    def enforce_budget(self, max_bytes: int) -> int:
        """Delete the oldest hours until the dataset fits `max_bytes` (the newest hour is kept
        even alone over budget: it is being written). Returns how many were deleted."""
        parts = self.partitions()
        sizes = [p.size() for p in parts]
        total = sum(sizes)
        n = 0
        for p, s in zip(parts[:-1], sizes[:-1], strict=True):
            if total <= max_bytes:
                break
            shutil.rmtree(p.path, ignore_errors=True)
            total -= s
            n += 1
        return n

    def compactable(self, now: float, after_s: float) -> list[Partition]:
        """Closed hours (ended `after_s` ago) with more than one file to read."""
        return [p for p in self.partitions()
                if p.hour + HOUR_S + after_s <= now and len(p.parquet_files()) > 1]

    def compact(self, part: Partition, order_by: str, memory_limit: str = "256MB") -> bool:
        """Merge an hour's files into one, sorted by `order_by` (row-group min/max statistics
        then let a query skip most of the file). DuckDB does it: it sorts beyond memory by
        spilling, so an hour of a busy network does not need its size in RAM."""
        import duckdb

        files = part.parquet_files()
        if len(files) <= 1:
            return False
        seq = max(_seq_of(f.name) for f in files)
        final = part.path / f"c-{seq:020d}.parquet"
        tmp = part.path / f"c-{seq:020d}.tmp"
        con = duckdb.connect(config={"memory_limit": memory_limit, "threads": 1,
                                     "temp_directory": str(part.path / ".spill")})
        try:
            con.execute(f"COPY (SELECT * FROM read_parquet(?) ORDER BY {order_by}) TO '{_sql_path(tmp)}' "
                        "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 65536)",
                        [[str(f) for f in files]])
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        finally:
            con.close()
            shutil.rmtree(part.path / ".spill", ignore_errors=True)
        for f in files:
            if f != final:
                f.unlink(missing_ok=True)
        return True


def _sql_path(p: Path) -> str:
    return str(p).replace("'", "''")


class StoreError(RuntimeError):
    """The store cannot answer (an unreadable file): one line naming the dataset's directory."""


def run_query(dataset: Dataset, since: float | None, until: float | None,
              query: Callable[[Any, list[str]], list[Any]], attempts: int = 3) -> list[Any]:
    """Run `query(connection, files)` over the files of [since, until). A file deleted under
    the reader (compaction, retention) makes it list the files again and retry; a file that
    cannot be read raises StoreError naming the directory and DuckDB's reason."""
    import duckdb

    for attempt in range(attempts):
        files = [str(f) for f in dataset.files(since, until)]
        if not files:
            return []
        con = duckdb.connect(config={"threads": 2})
        try:
            return query(con, files)
        except duckdb.IOException as exc:
            if attempt == attempts - 1:
                raise StoreError(f"history {dataset.path}: {_first_line(exc)}") from None
        except duckdb.Error as exc:
            raise StoreError(f"history {dataset.path}: {_first_line(exc)}") from None
        finally:
            con.close()
    return []


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def total_size(datasets: Iterable[Dataset]) -> int:
    return sum(d.size() for d in datasets)
