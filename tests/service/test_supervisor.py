"""`nocsoc run` as real processes: the supervisor, one worker per service, and the signals an
operator (or a crash) sends them. No external server: the SNMP device is a silent loopback port,
flows and syslog listen on free ports, the sink is the embedded sqlite file."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nocsoc.service.supervisor import Supervisor
from tests.e2e.harness import InstallPaths, NocsocRun, alive, status_json, write_yaml
from tests.servers.base import free_port, wait_until

WORKERS = ("snmp", "flows", "logs")
STOP_TIMEOUT_S = 8.0


MiniInstall = InstallPaths  # config, inventory and state of a small installation


def inventory(devices: int) -> dict[str, Any]:
    """`devices` v2c devices on silent loopback ports (they only time out)."""
    return {
        "version": 1,
        "sites": [{"id": "lab", "name": "Lab"}],
        "snmp_profiles": [{"name": "v2", "version": "2c", "community": "env:NOCSOC_TEST_SVC_COMMUNITY",
                           "port": free_port(socket.SOCK_DGRAM), "timeout_s": 0.5, "retries": 0}],
        "devices": [{"name": f"dev-{i}", "address": f"127.0.0.{10 + i}", "role": "access", "site": "lab",
                     "profile": "v2"} for i in range(devices)],
    }


@pytest.fixture
def mini(tmp_path: Path) -> MiniInstall:
    inst = MiniInstall(tmp_path)
    write_yaml(inst.inventory_path, inventory(1))
    write_yaml(inst.config_path, {
        "inventory": "inventory.yaml",
        "sinks": [{"type": "sqlite", "path": "./var/nocsoc.db", "flush_interval_s": 0.2}],
        "snmp": {"interval_s": 2.0},
        "flows": {"bind": f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}", "sflow_bind": None, "interval_s": 2.0},
        "logs": {"syslog_udp": f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}", "syslog_tcp": None},
        "detections": {"alerts_db": "./var/alerts.db"},
        "run": {"state_dir": "./var", "status_interval_s": 0.3, "self_metrics_interval_s": 1.0,
                "stop_timeout_s": STOP_TIMEOUT_S, "restart_backoff_s": 0.3},
    })
    return inst


ENV = {"NOCSOC_TEST_SVC_COMMUNITY": "svc-test-community"}


@pytest.fixture
def run(mini: MiniInstall) -> Iterator[NocsocRun]:
    r = NocsocRun(mini, ENV, "run")
    try:
        r.wait_running(WORKERS)
        yield r
    finally:
        r.stop()
        for s in r.statuses().values():  # never leave a worker behind, whatever the test did
            if alive(s.pid):
                os.kill(s.pid, signal.SIGKILL)


def log_records(r: NocsocRun) -> list[dict[str, Any]]:
    out = []
    for line in r.log_path.read_text(errors="replace").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def test_sigterm_stops_every_worker_gracefully_with_exit_0(run: NocsocRun) -> None:
    pids = {n: s.pid for n, s in run.statuses().items()}
    run.signal(signal.SIGTERM)
    # exit 0 is the "in time": the supervisor kills a worker past stop_timeout_s and exits 1
    assert run.wait(STOP_TIMEOUT_S + 10) == 0
    final = run.statuses()
    assert {n: s.state for n, s in final.items()} == dict.fromkeys(WORKERS, "stopped")
    assert not any(alive(p) for p in pids.values())
    # the sinks were flushed: nothing queued or spooled when each worker wrote its last status
    for n, s in final.items():
        assert s.sinks["sqlite"]["queue"] == 0 and s.sinks["sqlite"]["spool_bytes"] == 0, n
        assert s.sinks["sqlite"]["written"] > 0, n  # at least the self-metrics of the stop


def test_status_json_lists_the_workers(run: NocsocRun, mini: MiniInstall) -> None:
    out = status_json(mini, ENV)
    by = {w["worker"]: w for w in out}
    assert set(by) == set(WORKERS)
    assert all(w["state"] == "running" and not w["stale"] and alive(w["pid"]) for w in out)
    assert by["snmp"]["services"]["snmp"]["devices"] == 1
    assert set(by["flows"]["sinks"]) == {"sqlite"}


def test_a_killed_worker_is_restarted_and_the_others_keep_running(run: NocsocRun) -> None:
    before = {n: s.pid for n, s in run.statuses().items()}
    os.kill(before["flows"], signal.SIGKILL)
    def restarted() -> bool:
        st = run.statuses().get("flows")
        return st is not None and st.pid != before["flows"] and st.state == "running"

    wait_until(restarted, timeout=30, what="flows restarted")
    after = {n: s.pid for n, s in run.statuses().items()}
    assert after["snmp"] == before["snmp"] and after["logs"] == before["logs"]
    assert alive(after["flows"]) and not alive(before["flows"])
    assert any("flows" in r.get("msg", "") and "restart" in r.get("msg", "") for r in log_records(run))
    run.signal(signal.SIGTERM)
    assert run.wait(STOP_TIMEOUT_S + 10) == 0


def test_kill9_of_the_supervisor_leaves_no_orphan_worker(run: NocsocRun) -> None:
    pids = [s.pid for s in run.statuses().values()]
    os.kill(run.pid, signal.SIGKILL)
    run.proc.wait(10)
    wait_until(lambda: not any(alive(p) for p in pids), timeout=STOP_TIMEOUT_S + 10,
               what="the orphaned workers to stop on their own")
    # ...gracefully: each noticed, stopped its services and flushed its sink
    assert {n: s.state for n, s in run.statuses().items()} == dict.fromkeys(WORKERS, "stopped")


def test_sighup_reloads_the_inventory_and_refuses_a_broken_one(run: NocsocRun, mini: MiniInstall) -> None:
    pids = {n: s.pid for n, s in run.statuses().items()}
    write_yaml(mini.inventory_path, inventory(3))
    sent = time.time()
    run.signal(signal.SIGHUP)
    run.await_service("snmp", lambda c: c.get("devices") == 3, "3 devices after the SIGHUP")
    # every worker reports the reload and what it changed in its status (`nocsoc reload` reads it)
    wait_until(lambda: all(s.reload.get("time", 0) >= sent for s in run.statuses().values()),
               timeout=20, what="every worker reporting the reload")
    assert {n: (s.reload["ok"], s.reload["message"]) for n, s in run.statuses().items()} == {
        w: (True, "devices +2 -0 ~0, snmp_profiles +0 -0 ~1") for w in WORKERS}  # a new port each time
    # a broken edit: refused with file and line, the running inventory kept, nobody restarted
    mini.inventory_path.write_text("version: 1\nsites: [\n  {id: lab\n", encoding="utf-8")
    run.signal(signal.SIGHUP)

    def refused() -> list[dict[str, Any]]:
        return [r for r in log_records(run) if "reload refused" in r.get("msg", "")]

    wait_until(lambda: len(refused()) == len(WORKERS), timeout=20, what="every worker refusing the reload")
    where = re.compile(re.escape(str(mini.inventory_path)) + r":\d+: invalid YAML")
    assert all(where.search(r["msg"]) for r in refused()), refused()
    assert {r["msg"].split(":", 1)[0] for r in refused()} == {f"worker {w}" for w in WORKERS}
    assert run.service("snmp")["devices"] == 3
    assert {n: s.pid for n, s in run.statuses().items()} == pids
    assert run.workers_running(WORKERS)
    run.signal(signal.SIGTERM)
    assert run.wait(STOP_TIMEOUT_S + 10) == 0


__all__ = ["sys"]


# --- the Supervisor class on its own, with throwaway child processes ---------------------------------


def _run_in_thread(sup: Supervisor) -> tuple[threading.Thread, list[int]]:
    """`sup.run()` on a thread (stopped by `sup.request_stop()`); its result lands in the list."""
    result: list[int] = []
    t = threading.Thread(target=lambda: result.append(sup.run()), name="test-supervisor", daemon=True)
    t.start()
    return t, result


def test_a_crash_looping_worker_is_restarted_with_growing_backoff(caplog: pytest.LogCaptureFixture) -> None:
    sup = Supervisor({"crasher": [sys.executable, "-c", "raise SystemExit(3)"]}, restart_backoff_s=0.1)
    child = sup.children["crasher"]
    with caplog.at_level(logging.ERROR, logger="nocsoc.supervisor"):
        t, result = _run_in_thread(sup)
        try:
            wait_until(lambda: child.restarts >= 4, timeout=60, what="4 restarts of the crashing worker")
        finally:
            sup.request_stop()
            t.join(60)
    assert not t.is_alive()
    # the delays the supervisor chose (the log line's arguments), whatever a Python start costs
    # on a loaded machine: doubling from restart_backoff_s, where a fixed delay would repeat 0.1
    delays = [r.args[3] for r in caplog.records
              if isinstance(r.args, tuple) and r.msg.startswith("worker %s exited with %d")]
    assert delays[:4] == [0.1, 0.2, 0.4, 0.8]
    assert set(child.exit_codes) == {3} and child.streak == child.restarts
    # 0, or the crasher's own 3 when it exits just as the stop reaches it
    assert result in ([0], [3])


def test_a_worker_ignoring_sigterm_is_killed_after_the_budget(tmp_path: Path) -> None:
    ready = tmp_path / "ignoring"
    # the stop comes once the child ignores SIGTERM (a slow start must not make it die of it)
    code = ("import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "pathlib.Path(sys.argv[1]).touch(); time.sleep(120)")
    sup = Supervisor({"stubborn": [sys.executable, "-c", code, str(ready)]}, stop_timeout_s=1.0)
    t, result = _run_in_thread(sup)
    try:
        wait_until(ready.exists, timeout=60, what="the child to ignore SIGTERM")
    finally:
        sup.request_stop()
        t.join(60)
    assert not t.is_alive()  # it did not wait out the child's 120 s sleep
    assert result == [1]  # reported: it had to be killed
    proc = sup.children["stubborn"].proc
    assert proc is not None and proc.returncode == -signal.SIGKILL


def test_sigterm_with_the_database_down_spools_and_stops_in_time(mini: MiniInstall) -> None:
    """A dead InfluxDB at stop time (default retries: 5, ~15 s of backoff) must not hold the stop
    past its budget, nor lose the points it was retrying: they go to the spool."""
    cfg = yaml.safe_load(mini.config_path.read_text())
    dead = free_port()  # nothing listens: connection refused
    cfg["sinks"].append({"type": "influxdb1", "url": f"http://127.0.0.1:{dead}", "database": "x",
                         "flush_interval_s": 0.2, "spool_dir": "./var/spool"})
    write_yaml(mini.config_path, cfg)
    r = NocsocRun(mini, ENV, "dead-db")
    try:
        r.wait_running(WORKERS)
        # the first batches are being retried (nothing spooled yet) when the stop comes
        r.await_service("snmp", lambda c: c.get("points", 0) > 0, "SNMP points written")
        r.signal(signal.SIGTERM)
        # exit 0 is the "in time": the supervisor kills a worker past stop_timeout_s and exits 1
        assert r.wait(STOP_TIMEOUT_S + 10) == 0
        final = r.statuses()
        assert {n: s.state for n, s in final.items()} == dict.fromkeys(WORKERS, "stopped")
        for n, s in final.items():
            c = s.sinks["influxdb1"]
            assert c["written"] == 0 and c["queue"] == 0 and c["rejected"] == 0, (n, c)
            # every point the sqlite sink took is waiting in the influxdb1 spool
            assert c["spooled"] == s.sinks["sqlite"]["written"] > 0, (n, c, s.sinks["sqlite"])
    finally:
        r.stop()
