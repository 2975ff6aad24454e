"""The log archive: every line kept with its indexed columns, searches return exactly the
lines asked for, retention and the disk budget hold, a stalled writer drops (counted) without
slowing ingestion, and lines an attacker wrote are stored and shown inert."""

from __future__ import annotations

import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from nocsoc.collectors.logs.parsers import LineParser
from nocsoc.events import LogEvent
from nocsoc.history.config import HistoryConfig
from nocsoc.history.logs import LogArchiveWriter, LogLine, event_row, lines_around, search_logs
from nocsoc.history.store import Dataset

T0 = 1_780_000_000.0 - 1_780_000_000.0 % 3600


def config(**kw: object) -> HistoryConfig:
    base: dict[str, object] = {"compact_after_s": 0.0, "maintenance_interval_s": 3600,
                               "flush_interval_s": 0.05}
    base.update(kw)
    return HistoryConfig.model_validate(base)


def ev(t: float, host: str, raw: str, **fields: object) -> LogEvent:
    return LogEvent(raw, dict(fields), host=host, time=t, parser="sshd" if fields else "unparsed",
                    source="syslog")


EVENTS = [
    ev(T0 + 1, "bastion", "Failed password for root from 203.0.113.45 port 4242 ssh2",
       program="sshd", src_ip="203.0.113.45", user="root"),
    ev(T0 + 2, "bastion", "Failed password for Admin from 203.0.113.45 port 4243 ssh2",
       program="sshd", src_ip="203.0.113.45", user="Admin"),
    ev(T0 + 3, "web-01", "GET /index.html 200", program="nginx", **{"c-ip": "198.51.100.7"}),
    ev(T0 + 4, "fw-01", "deny tcp 10.0.0.5 -> 203.0.113.45:443", SourceIp="10.0.0.5",
       DestinationIp="203.0.113.45"),
    ev(T0 + 3605, "bastion", "Accepted password for alice from 192.0.2.10 port 5000 ssh2",
       program="sshd", src_ip="192.0.2.10", user="alice"),
    ev(T0 + 5, "bastion", "pam_unix(sudo:session): 50%_done <script>alert(1)</script>"),
    ev(T0 + 6, "fw-02", "deny 2001:DB8:0::45 -> 2001:db8::1", SourceIp="2001:DB8:0::45",
       DestinationIp="[2001:db8::1]"),
]


def write_all(tmp_path: Path, events: list[LogEvent], **kw: object) -> LogArchiveWriter:
    w = LogArchiveWriter(config(**kw), tmp_path, clock=lambda: T0 + 7200)
    for e in events:
        w.add(e)
    w.sync()
    return w


def test_the_indexed_columns_come_from_the_parsers_fields() -> None:
    parser = LineParser(ZoneInfo("UTC"))
    e = parser.parse_syslog("<38>Dec  6 10:00:01 bastion sshd[811]: Failed password for invalid user "
                            "oracle from 203.0.113.45 port 51234 ssh2", sender="127.0.0.1")
    row = event_row(e)
    assert row[1:8] == ("bastion", "sshd", "203.0.113.45", None, "oracle", e.parser, "syslog")
    assert row[8] == e.raw


def test_search_returns_exactly_the_lines_asked_for(tmp_path: Path) -> None:
    w = write_all(tmp_path, EVENTS)
    assert (w.counters.get("written"), w.counters.get("files"), w.counters.get("dropped")) == (7, 2, 0)
    got = search_logs(tmp_path, ip="203.0.113.45")
    assert [(ln.time, ln.host, ln.src_ip, ln.dst_ip, ln.user) for ln in got] == [
        (T0 + 1, "bastion", "203.0.113.45", None, "root"),
        (T0 + 2, "bastion", "203.0.113.45", None, "Admin"),
        (T0 + 4, "fw-01", "10.0.0.5", "203.0.113.45", None),
    ]
    assert got[0] == LogLine(T0 + 1, "bastion", "sshd", "203.0.113.45", None, "root", "sshd", "syslog",
                             "Failed password for root from 203.0.113.45 port 4242 ssh2")
    assert [ln.time for ln in search_logs(tmp_path, user="admin")] == [T0 + 2]  # case-insensitive
    assert [ln.time for ln in search_logs(tmp_path, host="BASTION")] == [T0 + 1, T0 + 2, T0 + 5, T0 + 3605]
    assert [ln.time for ln in search_logs(tmp_path, host="bastion", since=T0 + 3600)] == [T0 + 3605]
    # LIKE's wildcards are literal in --text
    assert [ln.time for ln in search_logs(tmp_path, text="50%_d")] == [T0 + 5]
    assert search_logs(tmp_path, text="5_%d") == []
    assert [ln.time for ln in search_logs(tmp_path, text="failed PASSWORD", user="root")] == [T0 + 1]
    assert [ln.src_ip for ln in search_logs(tmp_path, host="web-01")] == ["198.51.100.7"]
    assert [ln.time for ln in lines_around(tmp_path, T0 + 3, host="bastion", before_s=2, after_s=2.5)] \
        == [T0 + 1, T0 + 2, T0 + 5]
    assert [ln.time for ln in search_logs(tmp_path, newest_first=True, limit=2)] == [T0 + 3605, T0 + 6]
    assert [(ln.src_ip, ln.dst_ip) for ln in search_logs(tmp_path, ip="2001:db8:0:0::45")] \
        == [("2001:db8::45", "2001:db8::1")]
    assert [ln.time for ln in search_logs(tmp_path, ip="2001:DB8::1")] == [T0 + 6]
    with pytest.raises(ValueError, match=r"--ip '203\.0\.113\.999': not an IP address"):
        search_logs(tmp_path, ip="203.0.113.999")


def test_odd_lines_are_kept_and_bad_times_refused(tmp_path: Path) -> None:
    odd = [ev(T0, "h\x00st", "nul \x00 bytes and \udcff invalid utf-8 and Tiếng Việt", user="người dùng"),
           ev(T0 + 1, "h", "x" * 200_000),
           ev(float("nan"), "clockless", "no time")]
    w = write_all(tmp_path, odd)
    assert (w.counters.get("written"), w.counters.get("rejected")) == (2, 1)
    got = search_logs(tmp_path)
    assert got[0].raw == "nul \x00 bytes and \ufffd invalid utf-8 and Tiếng Việt"
    assert (got[0].host, got[0].user) == ("h\x00st", "người dùng")
    assert len(got[1].raw) == 65536


def test_retention_and_disk_budget(tmp_path: Path) -> None:
    """48 hours of ~50 kB (compressed) each against a 1 MiB budget: the oldest hours go until
    it fits; a month later the retention (1 day) removes the rest."""
    import os

    lines = [ev(T0 + h * 3600, "h", os.urandom(50_000).hex()) for h in range(48)]
    w = write_all(tmp_path, lines, logs_retention_days=1, logs_max_bytes=1 << 20)
    store = Dataset(tmp_path, "logs")
    hours = [p.hour for p in store.partitions()]
    assert store.size() <= 1 << 20
    assert hours == [T0 + h * 3600 for h in range(48 - len(hours), 48)]  # the newest kept
    assert w.counters.get("evicted") == 48 - len(hours) > 0 and w.counters.get("expired") == 0
    assert w.counters.get("disk_bytes") == store.size()
    assert [ln.time for ln in search_logs(tmp_path)] == hours
    w.clock = lambda: T0 + 30 * 86400
    w.sync()
    assert store.partitions() == [] and w.counters.get("expired") == len(hours)


def test_a_stalled_archive_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    # the clock of the events' day: at today's date their hour is past the retention, and the
    # upkeep (whenever the thread reaches it) would delete what was written
    w = LogArchiveWriter(config(queue_lines=5), tmp_path, clock=lambda: T0 + 7200)
    release, gave_up = threading.Event(), threading.Event()
    original = w.accept

    def stalled(item: LogEvent) -> None:
        if not release.wait(60):
            gave_up.set()
        original(item)

    w.accept = stalled  # type: ignore[method-assign]
    w.start()
    try:
        for i in range(100):
            w.add(ev(T0 + i, "h", f"line {i}"))
        # not blocked on the stalled writer: the adds returned while it still waited for release
        assert not gave_up.is_set()
        dropped = w.counters.get("dropped")
        assert dropped in (100 - 6, 100 - 5)  # 5 queued, and 1 taken by the thread if it woke
    finally:
        release.set()
        w.stop()
    assert w.counters.get("received") == 100
    assert len(search_logs(tmp_path)) == w.counters.get("written") == 100 - dropped
