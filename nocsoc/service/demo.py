"""`nocsoc demo`: the whole platform on the simulated backbone, on the embedded SQLite sink.

It writes a demo workspace (config + the sample inventory), starts `nocsoc run` (supervisor and
workers, as in production), then the simulated backbone once the collectors listen, lets them
run for a bounded time, builds the Grafana provisioning, and reads back what was collected.
Nothing here needs a server or root; only 127.0.0.0/8 is used. Demo secrets are random per run
and live only in the environment of the processes that need them.

The alert store is the one thing a second run keeps: a trainee's acknowledgements and comments
live there. `fresh` starts it empty, after a timestamped backup (SQLite's online backup, so
a WAL not yet checkpointed is included).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nocsoc.inventory.model import Inventory
from nocsoc.inventory.sample import init_project
from nocsoc.service.status import WorkerStatus, read_statuses
from nocsoc.simulate.events import Script, default_script
from nocsoc.simulate.topology import build_topology

DEMO_SECRETS = ("NOCSOC_SNMP_COMMUNITY", "NOCSOC_SNMP_AUTH", "NOCSOC_SNMP_PRIV")
ALERTS_DB = "alerts.db"  # in the workspace's var/, where the config below puts it
BACKUPS = "backups"  # in the workspace: alert stores set aside by `--fresh`


@dataclass
class DemoOptions:
    workdir: Path = Path("demo")
    duration_s: float = 120.0
    speed: float = 30.0
    seed: int = 7
    snmp_interval_s: float = 10.0
    flow_interval_s: float = 10.0
    influx_url: str | None = None  # NOCSOC_INFLUX_URL: also write to this InfluxDB 1.x
    fresh: bool = False  # start the alert store empty (after a backup) instead of keeping it


@dataclass
class DemoResult:
    config_path: Path
    db_path: Path
    alerts_db: Path
    manifest: dict[str, Any]
    grafana_dir: Path
    dashboards: int
    run_exit: int
    started_ns: int
    inventory: Inventory
    optics_min_dbm: float
    statuses: list[WorkerStatus] = field(default_factory=list)
    console_url: str = ""
    console_user: str = ""
    console_password_file: Path | None = None
    started: float = 0.0  # wall clock when `nocsoc run` started: alerts touched since are this run's
    workspace: Workspace | None = None


@dataclass
class Workspace:
    """What prepare_workspace did to a previous run's alerts."""

    config_path: Path
    kept_alerts: int = 0  # alerts of earlier runs kept in var/alerts.db
    backup: Path | None = None  # where --fresh put the previous alert store


def _free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def demo_console_user(config_path: Path, users_db: Path) -> tuple[str, Path]:
    """An analyst `demo` with a random password, written 0600 to var/console-password (never
    printed: the terminal scrollback and CI logs would keep it)."""
    from nocsoc.web.auth import AuthStore

    password = secrets.token_urlsafe(12)
    pw_file = config_path.parent / "var" / "console-password"
    with AuthStore(users_db) as auth:
        if auth.user("demo") is None:
            auth.add_user("demo", "analyst", password)
        else:
            auth.set_password("demo", password)
    pw_file.touch(mode=0o600)
    pw_file.write_text(password + "\n", encoding="utf-8")
    return "demo", pw_file


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _count_alerts(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM alerts").fetchone()[0])


def backup_alerts(db: Path, backups: Path) -> Path:
    """A consistent copy of the alert store `db` in `backups/alerts-<UTC time>.db`."""
    backups.mkdir(parents=True, exist_ok=True)
    target = backups / f"alerts-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.db"
    n = 1
    while target.exists():  # two --fresh runs within one second
        target = backups / f"alerts-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{n}.db"
        n += 1
    src = sqlite3.connect(db)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return target


def _clear_state(var: Path, keep: set[str]) -> None:
    """Everything of a previous run in var/ (status files, flow state, spool, logs, metrics
    database) except the names in `keep`."""
    if not var.is_dir():
        return
    for p in var.iterdir():
        if p.name in keep:
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def prepare_workspace(opts: DemoOptions) -> Workspace:
    """Config and inventory in `workdir`; `workdir/var` cleared so the summary is this run's,
    except the alert store (kept, or with `fresh` backed up to `workdir/backups` and removed)."""
    wd = opts.workdir
    wd.mkdir(parents=True, exist_ok=True)
    if not (wd / "inventory.yaml").exists():
        init_project(wd, force=True)
    var = wd / "var"
    db = var / ALERTS_DB
    store_files = {ALERTS_DB + suffix for suffix in ("", "-wal", "-shm", "-journal")}
    workspace = Workspace(config_path=wd / "nocsoc.yaml")
    if db.exists() and opts.fresh:
        workspace.backup = backup_alerts(db, wd / BACKUPS)
        _clear_state(var, keep=set())
    else:
        _clear_state(var, keep=store_files)
        if db.exists():
            workspace.kept_alerts = _count_alerts(db)
    sinks: list[dict[str, Any]] = [{"type": "sqlite", "path": "./var/nocsoc.db"}]
    if opts.influx_url:
        sinks.append({"type": "influxdb1", "url": opts.influx_url, "database": "nocsoc"})
    logs_port = _free_udp_port()
    config = {
        "inventory": "inventory.yaml",
        "sinks": sinks,
        "snmp": {"interval_s": opts.snmp_interval_s},
        "flows": {"bind": f"127.0.0.1:{_free_udp_port()}", "sflow_bind": None,
                  "interval_s": opts.flow_interval_s, "state_dir": "./var/flows"},
        "logs": {"syslog_udp": f"127.0.0.1:{logs_port}", "syslog_tcp": f"127.0.0.1:{logs_port}"},
        "detections": {"alerts_db": "./var/alerts.db"},
        "dashboards": {"out_dir": "./grafana"},
        "run": {"state_dir": "./var", "status_interval_s": 1.0, "self_metrics_interval_s": 5.0},
        "web": {"enabled": True, "bind": f"127.0.0.1:{_free_tcp_port()}"},
    }
    workspace.config_path.write_text(
        "# Written by `nocsoc demo` for the simulated backbone; rewritten on every demo run.\n"
        + yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return workspace


def demo_environment() -> dict[str, str]:
    """Random demo credentials for the simulated agents and the poller (never written to a file)."""
    return {name: secrets.token_urlsafe(12) for name in DEMO_SECRETS}


def poll_interval_s(inventory: Inventory, device: str, default_s: float) -> float:
    """How often `nocsoc run` polls `device`: its own `poll_interval_s`, else the config's."""
    try:
        return inventory.device(device).poll_interval_s or default_s
    except KeyError:
        return default_s


def demo_script(inventory: Inventory, opts: DemoOptions, optics_min_dbm: float | None = None) -> Script:
    """The simulator's default script, with each link flap lasting two poll intervals (real time)
    of the slower of its two ends, so that both ends' pollers see it at any --speed (the core
    routers poll every 30 s: a flap timed on the 10-s default was missed at the core end), and the
    degrading optics reaching their end two SNMP intervals before the demo does, so that a poll
    reads them there whatever the phase of the poller against the simulation. The simulated
    optics alarm at `optics_min_dbm` (nocsoc.yaml's `dashboards.optics_rx_min_dbm`), the threshold
    the dashboards, alert rules and summary use."""
    script = default_script(build_topology(inventory, opts.seed))
    links = {link.name: link for link in inventory.links}

    def visible_s(link_name: str) -> float:
        link = links.get(link_name)
        ends = (link.a.device, link.b.device) if link else ()
        slowest = max((poll_interval_s(inventory, d, opts.snmp_interval_s) for d in ends),
                      default=opts.snmp_interval_s)
        return 2 * slowest * opts.speed

    last_s = opts.duration_s * opts.speed - 2 * opts.snmp_interval_s * opts.speed
    first_s = min(2 * opts.snmp_interval_s * opts.speed, last_s / 2)  # the pollers' baseline first
    flaps = []
    for f in script.link_flaps:
        # as long as both ends need, and over before the demo is: a short demo (the tests' 60 s)
        # cannot hold two 30-s core polls after the scripted start, so the flap moves earlier and,
        # where even that is not enough, lasts what is left
        down_s = max(f.down_s, visible_s(f.link))
        at_s = max(first_s, min(f.at_s, last_s - down_s))
        flaps.append(f.model_copy(update={"at_s": at_s, "down_s": max(f.down_s, min(down_s, last_s - at_s))}))
    optics = []
    for o in script.optics:
        ramp_s = min(o.ramp_s, max(last_s, 1.0))
        update: dict[str, float] = {"at_s": max(0.0, min(o.at_s, last_s - ramp_s)), "ramp_s": ramp_s}
        if optics_min_dbm is not None:
            update["threshold_dbm"] = optics_min_dbm
        optics.append(o.model_copy(update=update))
    return script.model_copy(update={"link_flaps": flaps, "optics": optics})


def run_demo(opts: DemoOptions, on_tick: Callable[[float, list[WorkerStatus], dict[str, Any]], None]
             | None = None) -> DemoResult:
    """Run the demo; `on_tick(elapsed_s, statuses, simulator_counters)` drives a progress display."""
    from nocsoc.config import load_config
    from nocsoc.dashboards.provisioning import build_tree
    from nocsoc.inventory.store import load_inventory
    from nocsoc.simulate.scenario import Scenario, SimulateConfig

    workspace = prepare_workspace(opts)
    config_path = workspace.config_path
    config = load_config(config_path)
    wd = config_path.parent
    inventory = load_inventory(wd / config.inventory)
    state = wd / "var"
    state.mkdir(parents=True, exist_ok=True)
    for k, v in demo_environment().items():
        os.environ.setdefault(k, v)
    started_ns = time.time_ns()
    started = time.time()
    log = open(state / "run.log", "wb")  # noqa: SIM115 - closed below
    run = subprocess.Popen(
        [sys.executable, "-m", "nocsoc", "--config", str(config_path), "run",
         # A safety net only: the demo stops `run` with SIGTERM when the simulation ends. A
         # duration that ran out at that same moment would race with the signal.
         "--duration", f"{opts.duration_s + 120:.0f}"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    scenario: Scenario | None = None
    try:
        # The simulator starts once the collectors listen, so no injected line is sent to nobody.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and run.poll() is None:
            ready = {s.worker for s in read_statuses(state) if s.state == "running"}
            if {"flows", "logs", "snmp"} <= ready:
                break
            time.sleep(0.2)
        if run.poll() is not None:
            raise RuntimeError(f"`nocsoc run` exited with {run.returncode}: see {state / 'run.log'}")
        scenario = Scenario(inventory, SimulateConfig(
            seed=opts.seed, speed=opts.speed, duration_s=opts.duration_s,
            flows_to=config.flows.bind, syslog_to=config.logs.syslog_udp,
            script=demo_script(inventory, opts, config.dashboards.optics_rx_min_dbm),
        ))
        scenario.start()
        t0 = time.monotonic()
        while run.poll() is None and not scenario.finished.is_set():
            if on_tick is not None:
                on_tick(time.monotonic() - t0, read_statuses(state), scenario.counters.snapshot())
            time.sleep(0.5)
        scenario.stop()
        run.terminate()  # flush and stop now that the simulation is over
        run_exit = run.wait(60)
    finally:
        if scenario is not None:
            scenario.stop()
        if run.poll() is None:
            run.kill()
            run.wait()
        log.close()
    manifest = scenario.manifest() if scenario is not None else {}
    (state / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    grafana = wd / config.dashboards.out_dir
    report = build_tree(grafana, config.dashboards, inventory=inventory)
    user, pw_file = demo_console_user(config_path, wd / config.web.users_db)
    return DemoResult(
        console_url=f"http://{config.web.bind}/", console_user=user, console_password_file=pw_file,
        config_path=config_path, db_path=state / "nocsoc.db", alerts_db=state / "alerts.db",
        manifest=manifest, grafana_dir=grafana, dashboards=len(report.dashboards), run_exit=run_exit,
        started_ns=started_ns, inventory=inventory, optics_min_dbm=config.dashboards.optics_rx_min_dbm,
        statuses=read_statuses(state), started=started, workspace=workspace,
    )
