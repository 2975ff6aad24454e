"""Real InfluxDB 1.6.7 (Debian's influxd) and VictoriaMetrics for tests, on 127.0.0.1 only.

influxd's packaged config binds HTTP on all interfaces and its RPC port on 8088, so the fixture
writes its own config: loopback-only free ports, every directory inside a temp dir, no usage
reporting, no `_internal` monitor database. VictoriaMetrics implements InfluxDB's `/write` and
`/api/v2/write`, which is how the influxdb-client path (the `influxdb` sink) is tested for real:
no InfluxDB 2.x can be installed here.

Both are session-scoped (a start costs ~1 s); tests isolate themselves with their own database
(influxd) or their own measurement/tag values (VictoriaMetrics).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers.base import LOOPBACK, ServerProcess, free_port, require_binary, wait_until

INFLUXD_CONFIG = """\
reporting-enabled = false
bind-address = "{loopback}:{rpc_port}"

[meta]
  dir = "{root}/meta"
  retention-autocreate = true
  logging-enabled = false

[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  wal-fsync-delay = "0s"
  query-log-enabled = false
  index-version = "inmem"

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false

[http]
  enabled = true
  bind-address = "{loopback}:{http_port}"
  auth-enabled = false
  log-enabled = false
  max-body-size = 0

[logging]
  level = "warn"
"""


def _http(method: str, url: str, data: bytes | None = None, timeout: float = 10.0) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class InfluxD:
    """A running influxd 1.6.7; `stop()`/`start()` keep the data dir and ports (for spool tests)."""

    def __init__(self, binary: str, root: Path) -> None:
        self.binary = binary
        self.root = root
        self.port = free_port()
        self.rpc_port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.config_path = root / "influxd.conf"
        self.config_path.write_text(INFLUXD_CONFIG.format(
            loopback=LOOPBACK, rpc_port=self.rpc_port, http_port=self.port, root=root))
        self._proc: ServerProcess | None = None

    def start(self, timeout: float = 30.0) -> None:
        if self._proc is not None and self._proc.alive():
            return
        self._proc = ServerProcess("influxd", [self.binary, "-config", str(self.config_path)],
                                   self.root / "influxd.log")
        try:
            wait_until(self.ping, timeout=timeout, what=f"influxd on {self.url}/ping")
        except TimeoutError:
            log = self._proc.log_tail()
            self._proc.stop()
            raise RuntimeError(f"influxd did not answer on {self.url}; log:\n{log}") from None

    def stop(self) -> None:
        """Stop the server; afterwards its port refuses connections (waited for, not assumed)."""
        if self._proc is not None:
            self._proc.stop()
            self._proc = None
        wait_until(lambda: not self.ping(), timeout=30, what=f"influxd on {self.url} to go away")

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.alive()

    def ping(self) -> bool:
        try:
            status, _ = _http("GET", f"{self.url}/ping", timeout=1.0)
        except OSError:
            return False
        return status == 204

    def query(self, influxql: str, db: str = "") -> dict[str, Any]:
        """The JSON of `/query` (times as integer ns); raises on an HTTP or statement error."""
        params = {"q": influxql, "epoch": "ns"}
        if db:
            params["db"] = db
        status, body = _http("POST", f"{self.url}/query?" + urllib.parse.urlencode(params))
        result: dict[str, Any] = json.loads(body)
        if status != 200:
            raise RuntimeError(f"influxd /query {influxql!r}: HTTP {status}: {body[:300]!r}")
        for stmt in result.get("results", []):
            if "error" in stmt:
                raise RuntimeError(f"influxd /query {influxql!r}: {stmt['error']}")
        return result

    def rows(self, influxql: str, db: str) -> list[dict[str, Any]]:
        """Query rows as dicts (column -> value), tags of GROUP BY included, all series joined."""
        out: list[dict[str, Any]] = []
        for stmt in self.query(influxql, db).get("results", []):
            for series in stmt.get("series", []):
                cols = series["columns"]
                tags = series.get("tags", {})
                for values in series["values"]:
                    out.append({**tags, **dict(zip(cols, values, strict=True))})
        return out

    def create_database(self, name: str) -> None:
        self.query(f'CREATE DATABASE "{name}"')

    def drop_database(self, name: str) -> None:
        self.query(f'DROP DATABASE "{name}"')

    def write(self, db: str, lines: str, precision: str = "ns") -> None:
        """Write raw line protocol (for test set-up; sinks under test use their own path)."""
        url = f"{self.url}/write?" + urllib.parse.urlencode({"db": db, "precision": precision})
        status, body = _http("POST", url, lines.encode())
        if status != 204:
            raise RuntimeError(f"influxd /write: HTTP {status}: {body[:300]!r}")


class VictoriaMetrics:
    """A running victoria-metrics: Influx line protocol in, `/api/v1/export` (JSON lines) out.

    VictoriaMetrics names series `{measurement}_{field}`, stores every value as float64 (strings as
    0) and keeps duplicate samples. Fresh writes become searchable after `flush()` plus the
    `-search.latencyOffset=1s` the fixture sets; use `wait_export()` to await them.
    """

    def __init__(self, binary: str, root: Path) -> None:
        self.binary = binary
        self.root = root
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self._proc: ServerProcess | None = None

    def start(self, timeout: float = 30.0) -> None:
        argv = [self.binary, f"-httpListenAddr={LOOPBACK}:{self.port}",
                f"-storageDataPath={self.root / 'data'}", "-search.latencyOffset=1s",
                "-loggerLevel=WARN", "-search.disableCache",
                # the default 1-month retention silently drops fixed test timestamps from 2023
                "-retentionPeriod=100y"]
        self._proc = ServerProcess("victoria-metrics", argv, self.root / "vm.log")
        try:
            wait_until(self.ready, timeout=timeout, what=f"victoria-metrics on {self.url}/health")
        except TimeoutError:
            log = self._proc.log_tail()
            self._proc.stop()
            raise RuntimeError(f"victoria-metrics did not answer on {self.url}; log:\n{log}") from None

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stop()
            self._proc = None

    def ready(self) -> bool:
        try:
            status, _ = _http("GET", f"{self.url}/health", timeout=1.0)
        except OSError:
            return False
        return status == 200

    def flush(self) -> None:
        """Make buffered samples searchable (`/internal/force_flush`)."""
        _http("GET", f"{self.url}/internal/force_flush")

    def export(self, match: str) -> list[dict[str, Any]]:
        """`/api/v1/export?match[]=...`: one dict per series: metric (labels), values, timestamps (ms)."""
        self.flush()
        url = f"{self.url}/api/v1/export?" + urllib.parse.urlencode({"match[]": match})
        status, body = _http("GET", url)
        if status != 200:
            raise RuntimeError(f"victoria-metrics export {match!r}: HTTP {status}: {body[:300]!r}")
        return [json.loads(line) for line in body.splitlines() if line.strip()]

    def wait_export(self, match: str, done: Callable[[list[dict[str, Any]]], bool],
                    timeout: float = 20.0) -> list[dict[str, Any]]:
        """Export `match` until `done(series)` holds (writes take ~1 s to become searchable)."""
        box: list[list[dict[str, Any]]] = [[]]

        def check() -> bool:
            box[0] = self.export(match)
            return done(box[0])

        try:
            wait_until(check, timeout=timeout, interval=0.2, what=f"victoria-metrics series {match}")
        except TimeoutError as exc:
            raise AssertionError(f"{exc}; last export: {box[0]!r:.2000}") from None
        return box[0]


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxD]:
    """Debian's influxd 1.6.7 on a free loopback port with a temp data dir."""
    binary = require_binary("influxd", "influxdb")
    server = InfluxD(binary, tmp_path_factory.mktemp("influxd"))
    server.start()
    try:
        yield server
    finally:
        if server.running:
            server.stop()


@pytest.fixture
def influx_db(influxd: InfluxD, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database on the session influxd for one test (dropped after); also restarts a
    server a previous test left stopped."""
    if not influxd.running:
        influxd.start()
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:60]
    influxd.drop_database(name)
    influxd.create_database(name)
    yield name
    if not influxd.running:
        influxd.start()
    influxd.drop_database(name)


@pytest.fixture(scope="session")
def victoria_metrics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetrics]:
    """Debian's victoria-metrics on a free loopback port with a temp storage dir."""
    binary = require_binary("victoria-metrics", "victoria-metrics")
    server = VictoriaMetrics(binary, tmp_path_factory.mktemp("victoria-metrics"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
