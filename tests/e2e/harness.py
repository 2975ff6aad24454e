"""The moving parts of the end-to-end test: a nocsoc installation in a temp dir, `nocsoc run` as a
real subprocess, its status files, its on-disk spool, and a reader of what landed in influxd.

Kept apart from the test so each piece has one job and the test reads as the story it proves.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from nocsoc.inventory.sample import SAMPLE_INVENTORY
from nocsoc.schema import REGISTRY
from nocsoc.service.status import WorkerStatus, read_statuses
from tests.servers.base import wait_until

# The sample backbone lives on 127.10.x.y:16100; the test moves it to its own /16 and a free port
# so it never collides with a `nocsoc simulate`/`make demo` someone runs on the same machine.
SAMPLE_NET = "127.10."
TEST_NET = "127.61."


# --- the installation --------------------------------------------------------------------------


def lab_inventory(port: int, fast: dict[str, float], default_interval_s: float,
                   hold_back: str | None = None) -> dict[str, Any]:
    """The sample inventory moved to TEST_NET:port, every device polled every `default_interval_s`
    (those in `fast` at their own interval), optionally without device `hold_back` (and its links)."""
    text = SAMPLE_INVENTORY.read_text(encoding="utf-8").replace(SAMPLE_NET, TEST_NET)
    inv: dict[str, Any] = yaml.safe_load(text)
    for profile in inv["snmp_profiles"]:
        # tries that fit a short interval's deadline: a silent device is then reported
        # unreachable, not just as an overrun (see the report on deadline_fraction)
        profile.update(port=port, timeout_s=1.5, retries=1)
    for dev in inv["devices"]:
        dev["poll_interval_s"] = fast.get(dev["name"], default_interval_s)
    if hold_back is not None:
        inv["devices"] = [d for d in inv["devices"] if d["name"] != hold_back]
        inv["links"] = [ln for ln in inv["links"]
                        if hold_back not in (ln["a"]["device"], ln["b"]["device"])]
    return inv


def write_yaml(path: Path, data: dict[str, Any]) -> None:
    """Atomically, so a SIGHUP never reads half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    tmp.replace(path)


@dataclass
class InstallPaths:
    """Where a nocsoc installation under `root` keeps nocsoc.yaml, inventory.yaml and its state."""

    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / "nocsoc.yaml"

    @property
    def inventory_path(self) -> Path:
        return self.root / "inventory.yaml"

    @property
    def state_dir(self) -> Path:
        return self.root / "var"


@dataclass
class Install(InstallPaths):
    """One nocsoc installation writing to a real influxd, fed by the simulator."""

    influx_url: str = ""
    database: str = ""
    flows_port: int = 0
    syslog_port: int = 0
    snmp_interval_s: float = 5.0
    flows_interval_s: float = 5.0

    @property
    def spool_root(self) -> Path:
        return self.state_dir / "spool"

    @property
    def alerts_db(self) -> Path:
        return self.state_dir / "alerts.db"

    @property
    def sqlite_db(self) -> Path:
        return self.state_dir / "nocsoc.db"

    def write_config(self) -> None:
        cfg = {
            "inventory": "inventory.yaml",
            "sinks": [
                # quick to give up on a dead influxd (so the test sees the spool within seconds)
                {"type": "influxdb1", "url": self.influx_url, "database": self.database,
                 "flush_interval_s": 0.5, "max_retries": 1, "retry_backoff_s": 0.2,
                 "retry_backoff_max_s": 1.0, "timeout_s": 3.0, "spool_dir": "./var/spool"},
                {"type": "sqlite", "path": "./var/nocsoc.db", "flush_interval_s": 0.5,
                 "spool_dir": "./var/spool"},
            ],
            "snmp": {"interval_s": self.snmp_interval_s},
            "flows": {"bind": f"127.0.0.1:{self.flows_port}", "sflow_bind": None,
                      "interval_s": self.flows_interval_s, "state_dir": "./var/flows",
                      # no destination folded into `other`: top talkers comparable to the manifest
                      "top_n": 1000},
            "logs": {"syslog_udp": f"127.0.0.1:{self.syslog_port}", "syslog_tcp": None},
            "detections": {"alerts_db": "./var/alerts.db", "flush_interval_s": 0.1},
            "dashboards": {"locale": "en"},
            "run": {"state_dir": "./var", "status_interval_s": 0.5, "self_metrics_interval_s": 2.0,
                    "stop_timeout_s": 10.0, "restart_backoff_s": 0.5},
        }
        write_yaml(self.config_path, cfg)


# --- `nocsoc run` as a real process --------------------------------------------------------------


class Installation(Protocol):
    """What running nocsoc needs to know of an installation (Install, or a smaller test's own)."""

    @property
    def root(self) -> Path: ...

    @property
    def config_path(self) -> Path: ...

    @property
    def state_dir(self) -> Path: ...


class NocsocRun:
    """`python -m nocsoc -c CFG run` in its own session; its log goes to a file."""

    def __init__(self, install: Installation, env: dict[str, str], name: str = "run") -> None:
        self.install = install
        self.env = {**os.environ, **env}
        self.log_path = install.root / f"{name}.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in wait()/kill9()
        self.started = time.time()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nocsoc", "-c", str(install.config_path), "run", "--log-format", "json"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, env=self.env,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, n: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def statuses(self) -> dict[str, WorkerStatus]:
        """Status files written by this run's workers (newer than its start)."""
        return {s.worker: s for s in read_statuses(self.install.state_dir) if s.started >= self.started - 1}

    def workers_running(self, names: Iterable[str]) -> bool:
        st = self.statuses()
        return all(n in st and st[n].state == "running" and not st[n].stale() for n in names)

    def wait_running(self, names: Iterable[str], timeout: float = 60.0) -> dict[str, WorkerStatus]:
        names = list(names)
        try:
            wait_until(lambda: self.workers_running(names), timeout=timeout, interval=0.2,
                       what=f"workers {names} running")
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\n--- nocsoc run log ---\n{self.log_tail()}") from None
        return self.statuses()

    def service(self, worker: str) -> dict[str, Any]:
        st = self.statuses().get(worker)
        return st.services.get(worker, {}) if st else {}

    def await_service(self, worker: str, check: Callable[[dict[str, Any]], bool], what: str,
                      timeout: float = 30.0) -> None:
        """Wait until `check(counters of worker's service)`; on timeout say what they were."""
        try:
            wait_until(lambda: check(self.service(worker)), timeout=timeout, interval=0.2, what=what)
        except TimeoutError as exc:
            raise AssertionError(f"{exc}; {worker}: {self.service(worker)}") from None

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is not None:
                self._log.close()

    def kill9(self) -> list[int]:
        """kill -9 the supervisor and every worker at once (as a power cut of the service would);
        returns the pids killed."""
        pids = [self.pid] + [s.pid for s in self.statuses().values()]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(10)
        wait_until(lambda: not any(alive(p) for p in pids), timeout=30, what=f"pids {pids} gone")
        self._log.close()
        return pids

    def stop(self) -> None:
        """Test teardown: never leave the process group behind."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        if not self._log.closed:
            self._log.close()


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def status_json(install: Installation, env: dict[str, str]) -> list[dict[str, Any]]:
    """`nocsoc status --json`, as an operator would run it."""
    out = subprocess.run(
        [sys.executable, "-m", "nocsoc", "-c", str(install.config_path), "status", "--json"],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=60, check=True,
    )
    data: list[dict[str, Any]] = json.loads(out.stdout)
    return data


# --- line protocol read back -----------------------------------------------------------------------

_UNESCAPE = re.compile(r"\\(.)")


def _split(text: str, sep: str) -> list[str]:
    """Split on `sep` outside backslash escapes and double-quoted strings."""
    out, cur, i, quoted = [], [], 0, False
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            cur.append(text[i:i + 2])
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        if c == sep and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    out.append("".join(cur))
    return out


def _unescape(s: str) -> str:
    return _UNESCAPE.sub(r"\1", s)


def _field_value(v: str) -> Any:
    if v.startswith('"'):
        return _unescape(v[1:-1])
    if v in ("true", "false"):
        return v == "true"
    if v.endswith(("i", "u")):
        return int(v[:-1])
    return float(v)


@dataclass(frozen=True)
class LineKey:
    measurement: str
    tags: tuple[tuple[str, str], ...]
    time_ns: int


@dataclass
class Line:
    key: LineKey
    fields: dict[str, Any] = field(default_factory=dict)


def parse_line(line: str) -> Line:
    """One line of nocsoc's line protocol (what the spool holds), back into its parts."""
    series, fields_text, ts = _split(line, " ")
    head, *tag_parts = _split(series, ",")
    tags = tuple(sorted((_unescape(k), _unescape(v)) for k, v in (_split(t, "=") for t in tag_parts)))
    fields = {}
    for part in _split(fields_text, ","):
        k, v = part.split("=", 1) if not part.startswith("\\") else _split(part, "=")
        fields[_unescape(k)] = _field_value(v)
    return Line(LineKey(_unescape(head), tags, int(ts)), fields)


def spooled_lines(spool_dir: Path) -> list[str]:
    """Every line in a sink's spool, including the `proc-*` spools of its other processes."""
    lines: list[str] = []
    for path in sorted(spool_dir.rglob("*.lp")):
        lines += [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln]
    return lines


def influx_lines(influxd: Any, database: str, measurement: str, t0: int,
                 t1: int) -> dict[LineKey, dict[str, Any]]:
    """What influxd holds for `measurement` in [t0, t1] ns, keyed like `parse_line`."""
    tag_names = {t.name for t in REGISTRY[measurement].tags}
    out: dict[LineKey, dict[str, Any]] = {}
    q = f'SELECT * FROM "{measurement}" WHERE time >= {t0} AND time <= {t1}'
    for row in influxd.rows(q, database):
        tags = tuple(sorted((k, v) for k, v in row.items() if k in tag_names and v not in (None, "")))
        fields = {k: v for k, v in row.items() if k not in tag_names and k != "time" and v is not None}
        key = LineKey(measurement, tags, int(row["time"]))
        assert key not in out, f"influxd returned {key} twice"
        out[key] = fields
    return out
