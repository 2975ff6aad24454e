"""InfluxDB 1.x sink against Debian's influxd 1.6.7: exact values back through InfluxQL,
a 4xx batch split, the spool across an outage, a restart and a full spool."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nocsoc.schema import INTERFACE, Point
from nocsoc.sinks.influxdb1 import InfluxDB1Sink
from tests.servers.base import free_port, wait_until
from tests.servers.influx import InfluxD
from tests.sinks.conftest import T0, fast_settings

ROOT = Path(__file__).resolve().parents[2]


def dead_url() -> str:
    """A loopback URL where nothing listens: connection refused at once."""
    return f"http://127.0.0.1:{free_port()}"


def series_points(n: int, start: int = 0, measurement: str = "stream") -> list[Point]:
    return [Point(measurement, {"device": f"dx-core-{i % 3}", "site": "Đồng Xoài"},
                  {"seq": i, "value": i / 4}, T0 + i * 1_000_000_000)
            for i in range(start, start + n)]


def stored(influxd: InfluxD, db: str, measurement: str = "stream") -> list[tuple[Any, ...]]:
    rows = influxd.rows(f'SELECT "seq", "value", "device", "site" FROM "{measurement}"', db)
    return [(r["time"], r["seq"], r["value"], r["device"], r["site"]) for r in rows]


def expected(points: list[Point]) -> list[tuple[Any, ...]]:
    return sorted((p.time_ns, p.fields["seq"], p.fields["value"], p.tags["device"], p.tags["site"])
                  for p in points)


@pytest.mark.parametrize("use_gzip", [True, False])
def test_write_and_read_back_exact_values(influxd: InfluxD, influx_db: str, tmp_path: Path,
                                          closing: Callable[[Any], Any], use_gzip: bool) -> None:
    sink = closing(InfluxDB1Sink("influx1", influxd.url, influx_db, fast_settings(tmp_path / "spool"),
                                 use_gzip=use_gzip))
    tags = {"device": "dx-core-1", "site": "dong-xoai", "role": "core", "ifname": "Gi0/0/1",
            "ifalias": "to Bình Long, ring=1"}
    points = [INTERFACE.point(T0 + i, tags, {"in_bps": 1e9 / (i + 3), "in_octets": 2**40 + i,
                                             "oper_status": 1 + i % 2, "out_util_pct": 0.0})
              for i in range(1200)]
    points.append(Point("odd name", {"tag key": 'v"a\\l,ue='}, {"f=1": 'say "hi" \\o/', "ok": True,
                                                                 "neg": -5}, T0))
    sink.write(points)
    assert sink.flush(30)
    rows = influxd.rows('SELECT * FROM "interface"', influx_db)
    assert len(rows) == 1200
    for i, r in enumerate(rows):
        assert r == {"time": T0 + i, "in_bps": 1e9 / (i + 3), "in_octets": 2**40 + i,
                     "oper_status": 1 + i % 2, "out_util_pct": 0.0, **tags}
    odd = influxd.rows('SELECT * FROM "odd name"', influx_db)
    assert odd == [{"time": T0, "tag key": 'v"a\\l,ue=', "f=1": 'say "hi" \\o/', "ok": True, "neg": -5}]
    c = sink.counters()
    assert (c["written"], c["rejected"], c["spooled"], c["queue"]) == (1201, 0, 0, 0)


def test_batch_with_one_bad_point_drops_only_that_point(influxd: InfluxD, influx_db: str, tmp_path: Path,
                                                        closing: Callable[[Any], Any],
                                                        caplog: pytest.LogCaptureFixture) -> None:
    influxd.write(influx_db, f"conflict,device=a v=1.5 {T0 - 1}")  # v is a float from now on
    sink = closing(InfluxDB1Sink("influx1", influxd.url, influx_db,
                                 fast_settings(tmp_path / "spool", batch_size=1000)))
    good = [Point("conflict", {"device": "a"}, {"v": float(i)}, T0 + i) for i in range(999)]
    bad = Point("conflict", {"device": "a"}, {"v": 7}, T0 + 10_000)  # an integer: a type conflict
    batch = [*good[:613], bad, *good[613:]]
    sink.write(batch)
    assert sink.flush(30)
    rows = influxd.rows('SELECT "v" FROM "conflict" WHERE time >= 1700000000000000000', influx_db)
    assert [(r["time"], r["v"]) for r in rows] == [(p.time_ns, p.fields["v"]) for p in good]
    c = sink.counters()
    assert c["rejected"] == 1
    assert c["written"] == 999
    assert c["spooled"] == 0
    refused = [r.getMessage() for r in caplog.records if "the database refused" in r.getMessage()]
    assert len(refused) == 1  # logged once, naming the line and InfluxDB's reason
    assert "field type conflict" in refused[0] and f"conflict,device=a v=7i {T0 + 10_000}" in refused[0]


def test_outage_mid_stream_every_point_exactly_once(influxd: InfluxD, influx_db: str, tmp_path: Path,
                                                    closing: Callable[[Any], Any]) -> None:
    sink = closing(InfluxDB1Sink("influx1", influxd.url, influx_db,
                                 fast_settings(tmp_path / "spool", batch_size=200)))
    sent: list[Point] = []
    stop = threading.Event()

    def writer() -> None:  # a collector: 20 points at a time, as fast as the sink takes them
        i = 0
        while not stop.is_set():
            pts = series_points(20, i)
            sink.write(pts)
            sent.extend(pts)
            i += 20
            stop.wait(0.002)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_until(lambda: sink.counters()["written"] >= 1000, what="1000 points written live")
        influxd.stop()
        wait_until(lambda: sink.counters()["spooled"] >= 2000, what="2000 points spooled during the outage")
        assert sink.counters()["retries"] >= 2
        influxd.start()
        wait_until(lambda: sink.spool is not None and len(sink.spool) == 0
                   and sink.counters()["replayed"] >= 2000, what="spool replayed")
        mark = len(sent)
        wait_until(lambda: sink.counters()["written"] >= mark + 1000, timeout=30,
                   what="1000 more points written live after the replay")
    finally:
        stop.set()
        thread.join()
    assert sink.flush(30)
    assert stored(influxd, influx_db) == expected(sent)
    c = sink.counters()
    # every point accepted exactly once by the database: the live ones plus the replayed ones
    assert c["written"] == len(sent)
    assert c["replayed"] == c["spooled"]
    assert (c["rejected"], c["spool_dropped"], c["spool_bytes"], c["queue"]) == (0, 0, 0, 0)


def test_spool_replayed_by_a_new_process_after_restart(influxd: InfluxD, influx_db: str,
                                                       tmp_path: Path,
                                                       closing: Callable[[Any], Any]) -> None:
    spool = tmp_path / "spool"
    # another process writes while the database is unreachable and exits: its points stay spooled
    script = textwrap.dedent(f"""
        from pathlib import Path
        from nocsoc.schema import Point
        from nocsoc.sinks.influxdb1 import InfluxDB1Sink
        from tests.sinks.conftest import fast_settings
        from tests.sinks.test_influxdb1 import series_points
        sink = InfluxDB1Sink("influx1", {dead_url()!r}, {influx_db!r},
                             fast_settings(Path({str(spool)!r}), batch_size=300))
        for i in range(0, 1500, 100):
            sink.write(series_points(100, i))
        sink.close()
        c = sink.counters()
        assert (c["spooled"], c["written"]) == (1500, 0), c
    """)
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=60)
    assert sorted(p.name for p in spool.iterdir() if p.suffix == ".lp")  # batches on disk
    sink = closing(InfluxDB1Sink("influx1", influxd.url, influx_db, fast_settings(spool)))
    sink.write(series_points(100, 1500))  # new points queue behind the spooled ones
    wait_until(lambda: sink.flush(1), what="spool of the earlier process replayed")
    assert stored(influxd, influx_db) == expected(series_points(1600))
    c = sink.counters()
    assert (c["replayed"], c["written"], c["rejected"]) == (1500, 1600, 0)
    assert not [p for p in spool.iterdir() if p.suffix == ".lp"]


def test_full_spool_drops_oldest_loudly_and_keeps_the_newest(influxd: InfluxD, influx_db: str,
                                                            tmp_path: Path,
                                                            closing: Callable[[Any], Any],
                                                            caplog: pytest.LogCaptureFixture) -> None:
    spool = tmp_path / "spool"
    one_batch = len(("\n".join(_lines(series_points(100))) + "\n").encode())
    settings = fast_settings(spool, batch_size=100, spool_max_bytes=int(one_batch * 5.5), max_retries=0)
    down = InfluxDB1Sink("influx1", dead_url(), influx_db, settings)
    for i in range(0, 1000, 100):
        down.write(series_points(100, i))
        assert not down.flush(30)  # one batch per flush: each goes to the spool on its own
    c = down.counters()
    down.close()
    assert (c["spooled"], c["spool_dropped"]) == (1000, 500)
    assert c["spool_bytes"] <= settings.spool_max_bytes
    assert "DROPPED 100 oldest spooled points because the spool is full" in caplog.text
    sink = closing(InfluxDB1Sink("influx1", influxd.url, influx_db, settings))
    wait_until(lambda: sink.flush(1), what="replay of the surviving spool")
    assert stored(influxd, influx_db) == expected(series_points(500, 500))


def test_unreachable_database_never_raises_into_the_writer(tmp_path: Path,
                                                           closing: Callable[[Any], Any]) -> None:
    sink = closing(InfluxDB1Sink("influx1", dead_url(), "nocsoc", fast_settings(tmp_path / "s")))
    sink.write(series_points(10))
    assert sink.flush(30) is False
    c = sink.counters()
    assert (c["spooled"], c["written"], c["retries"]) == (10, 0, 2)


def _lines(points: list[Point]) -> list[str]:
    from nocsoc.lineproto import encode_many

    return encode_many(points)


class FlakyProxy:
    """A loopback HTTP proxy in front of influxd that answers the first `failures` requests with
    `status` (or, with status 0, holds them past the client timeout), then forwards."""

    def __init__(self, upstream: str, failures: int, status: int) -> None:
        import http.server
        import urllib.request

        proxy = self
        self.failures = failures
        self.requests = 0
        self.release = threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                proxy.requests += 1
                if proxy.requests <= proxy.failures:
                    if status == 0:
                        proxy.release.wait(5)  # longer than the sink's timeout
                        return
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                req = urllib.request.Request(upstream + self.path, data=body, method="POST",
                                             headers={k: v for k, v in self.headers.items()
                                                      if k.lower() in ("content-encoding", "content-type")})
                with urllib.request.urlopen(req, timeout=10) as resp:
                    self.send_response(resp.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(("status", "what"), [(503, "5xx"), (0, "timeout")])
def test_retries_with_backoff_on_5xx_and_timeouts(influxd: InfluxD, influx_db: str, tmp_path: Path,
                                                  closing: Callable[[Any], Any], status: int,
                                                  what: str) -> None:
    proxy = FlakyProxy(influxd.url, failures=2, status=status)
    try:
        sink = InfluxDB1Sink("influx1", proxy.url, influx_db,
                             fast_settings(tmp_path / "spool", max_retries=3), timeout_s=0.3)
        sink.write(series_points(250))
        assert sink.flush(20)
        sink.close()
    finally:
        proxy.close()
    assert stored(influxd, influx_db) == expected(series_points(250))
    c = sink.counters()
    assert (c["retries"], c["written"], c["spooled"], c["rejected"]) == (2, 250, 0, 0), what
    assert proxy.requests == 3


def test_a_small_batch_goes_out_after_flush_interval_without_flush(influxd: InfluxD, influx_db: str,
                                                                   tmp_path: Path,
                                                                   closing: Callable[[Any], Any]) -> None:
    sink = closing(InfluxDB1Sink("influx1", influxd.url, influx_db,
                                 fast_settings(tmp_path / "spool", batch_size=5000, flush_interval_s=0.2)))
    sink.write(series_points(7))
    assert sink.counters()["queue"] == 7
    wait_until(lambda: sink.counters()["written"] == 7, timeout=30, what="the interval flush")
    assert stored(influxd, influx_db) == expected(series_points(7))
    assert sink.counters()["batches"] == 1


def test_two_processes_with_one_spool_dir_lose_nothing(influxd: InfluxD, influx_db: str, tmp_path: Path,
                                                       closing: Callable[[Any], Any]) -> None:
    """`nocsoc run` holds the spool; a one-shot command with the same config gets a `proc-*`
    subdirectory, and its leftovers are adopted and replayed by whoever opens the spool next."""
    spool = tmp_path / "spool"
    url = dead_url()
    service = InfluxDB1Sink("influx1", url, influx_db, fast_settings(spool))
    oneshot = InfluxDB1Sink("influx1", url, influx_db, fast_settings(spool))
    assert service.spool is not None and service.spool.directory == spool
    assert oneshot.spool is not None and oneshot.spool.directory.parent == spool
    assert oneshot.spool.directory.name.startswith("proc-")
    service.write(series_points(30))
    oneshot.write(series_points(20, 30))
    assert not service.flush(30) and not oneshot.flush(30)
    oneshot.close()
    service.close()
    sink = closing(InfluxDB1Sink("influx1", influxd.url, influx_db, fast_settings(spool)))
    wait_until(lambda: sink.flush(1), what="both spools replayed")
    assert stored(influxd, influx_db) == expected(series_points(50))
    assert [p.name for p in spool.iterdir() if p.name != ".lock"] == []


def test_missing_database_is_created_like_telegraf_does(influxd: InfluxD, influx_db: str, tmp_path: Path,
                                                        closing: Callable[[Any], Any]) -> None:
    db = influx_db + "_fresh"
    influxd.drop_database(db)
    try:
        sink = closing(InfluxDB1Sink("influx1", influxd.url, db, fast_settings(tmp_path / "spool")))
        sink.write(series_points(5))
        assert sink.flush(30)
        assert stored(influxd, db) == expected(series_points(5))
        off = closing(InfluxDB1Sink("off", influxd.url, db + "_x", fast_settings(tmp_path / "s2"),
                                    create_database=False))
        off.write(series_points(5))
        assert not off.flush(30)  # 404 database not found: kept (spooled) for when it exists
        assert off.counters()["spooled"] == 5
    finally:
        influxd.drop_database(db)


def test_running_sink_adopts_a_departed_oneshot_spool_when_the_database_returns(
        influxd: InfluxD, influx_db: str, tmp_path: Path, closing: Callable[[Any], Any]) -> None:
    spool = tmp_path / "spool"
    service = closing(InfluxDB1Sink("influx1", influxd.url, influx_db, fast_settings(spool)))
    influxd.stop()
    service.write(series_points(30))
    assert not service.flush(30)
    oneshot = InfluxDB1Sink("influx1", influxd.url, influx_db, fast_settings(spool))
    oneshot.write(series_points(20, 30))
    assert not oneshot.flush(30)
    oneshot.close()  # exits with its 20 points spooled in a proc-* directory
    influxd.start()
    wait_until(lambda: service.flush(1), what="the service's spool and the adopted one replayed")
    assert stored(influxd, influx_db) == expected(series_points(50))
    assert service.counters()["replayed"] == 50
    assert [p.name for p in spool.iterdir() if p.name != ".lock"] == []
