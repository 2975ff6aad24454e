"""What an operator meets when something is misconfigured: `nocsoc check`, `nocsoc run` refusing
to start (one clear line, exit 2, within seconds), one instance per state dir, `nocsoc reload`,
`nocsoc status` naming a failed worker's reason, and SNMP devices whose secret cannot be
resolved (a configuration error, never an outage)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nocsoc.collectors.snmp.config import SnmpConfig
from nocsoc.collectors.snmp.poller import SnmpPoller
from nocsoc.context import load_context
from nocsoc.inventory.store import load_inventory
from nocsoc.service.status import read_statuses
from nocsoc.service.supervisor import Supervisor
from nocsoc.service.worker import EXIT_CONFIG, Worker, WorkerSpec
from nocsoc.sinks.memory import MemorySink
from tests.e2e.harness import InstallPaths, alive, write_yaml
from tests.servers.base import free_port, wait_until

ENV = {"NOCSOC_TEST_CHECK_COMMUNITY": "check-community"}


def _inventory(community: str = "env:NOCSOC_TEST_CHECK_COMMUNITY") -> dict[str, Any]:
    return {
        "version": 1,
        "sites": [{"id": "lab", "name": "Lab"}],
        "snmp_profiles": [{"name": "v2", "version": "2c", "community": community,
                           "port": free_port(socket.SOCK_DGRAM), "timeout_s": 0.3, "retries": 0}],
        "devices": [{"name": "dev-0", "address": "127.0.0.10", "role": "access", "site": "lab",
                     "profile": "v2"}],
    }


def _config(flows_port: int, sinks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "inventory": "inventory.yaml",
        "sinks": sinks or [{"type": "sqlite", "path": "./var/nocsoc.db", "flush_interval_s": 0.2}],
        "snmp": {"interval_s": 2.0},
        "flows": {"bind": f"127.0.0.1:{flows_port}", "sflow_bind": None, "interval_s": 2.0},
        "logs": {"syslog_udp": f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}", "syslog_tcp": None},
        "detections": {"alerts_db": "./var/alerts.db"},
        "run": {"state_dir": "./var", "status_interval_s": 0.3, "self_metrics_interval_s": 1.0,
                "stop_timeout_s": 8.0, "restart_backoff_s": 0.3},
    }


@pytest.fixture
def install(tmp_path: Path) -> InstallPaths:
    inst = InstallPaths(tmp_path)
    write_yaml(inst.inventory_path, _inventory())
    write_yaml(inst.config_path, _config(free_port(socket.SOCK_DGRAM)))
    return inst


def nocsoc(inst: InstallPaths, *args: str, env: dict[str, str] | None = None,
           timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nocsoc", "-c", str(inst.config_path), *args],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **ENV, **(env or {})})


def errors(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("error:")]


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_check_passes_a_good_installation(install: InstallPaths) -> None:
    out = nocsoc(install, "check")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{install.config_path}: ok (1 devices; services snmp, flows, logs)"


def test_an_unset_sink_secret_is_fatal_for_check_and_run(install: InstallPaths) -> None:
    write_yaml(install.config_path, _config(free_port(socket.SOCK_DGRAM), sinks=[
        {"type": "sqlite", "path": "./var/nocsoc.db"},
        {"type": "influxdb1", "url": "http://127.0.0.1:9", "password": "env:NOCSOC_TEST_UNSET_PASSWORD"},
    ]))
    line = line_of(install.config_path, "NOCSOC_TEST_UNSET_PASSWORD")
    want = (f"error: {install.config_path}:{line}: sinks[1].password: environment variable "
            "NOCSOC_TEST_UNSET_PASSWORD is not set")
    check = nocsoc(install, "check", "--no-probe")
    assert check.returncode == 2
    assert errors(check.stderr)[0].startswith(want), check.stderr
    run = nocsoc(install, "run")  # refused before any worker: no wait for one
    assert run.returncode == 2 and "Traceback" not in run.stderr + run.stdout
    assert errors(run.stderr)[0].startswith(want), run.stderr
    assert errors(run.stderr)[-1].startswith("error: 1 problem(s) in the configuration: not starting")
    assert read_statuses(install.state_dir) == []  # no worker was started


def test_a_port_in_use_is_fatal_and_named_with_its_key(install: InstallPaths) -> None:
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    port = busy.getsockname()[1]
    try:
        write_yaml(install.config_path, _config(port))
        line = line_of(install.config_path, f"127.0.0.1:{port}")
        want = (f"error: {install.config_path}:{line}: flows.bind: cannot listen on udp 127.0.0.1:{port}: "
                "address already in use")
        check = nocsoc(install, "check", "--no-probe")
        assert (check.returncode, errors(check.stderr)) == (2, [want])
        run = nocsoc(install, "run")
        assert run.returncode == 2 and errors(run.stderr)[0] == want, run.stderr
        assert read_statuses(install.state_dir) == []  # refused up front: no worker was started
    finally:
        busy.close()


def test_an_unresolvable_snmp_secret_is_named_where_it_is_written(install: InstallPaths) -> None:
    write_yaml(install.inventory_path, _inventory("env:NOCSOC_TEST_UNSET_COMMUNITY"))
    line = line_of(install.inventory_path, "NOCSOC_TEST_UNSET_COMMUNITY")
    check = nocsoc(install, "check", "--no-probe", "--json")
    assert check.returncode == 2
    import json

    problems = json.loads(check.stdout)["problems"]
    assert [(p["severity"], p["file"], p["line"], p["key"]) for p in problems] == [
        ("fatal", str(install.inventory_path), line, "snmp_profiles[0].community")]
    assert "NOCSOC_TEST_UNSET_COMMUNITY is not set" in problems[0]["message"]


@pytest.fixture
def running(install: InstallPaths) -> Iterator[subprocess.Popen[bytes]]:
    log = open(install.root / "run.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "nocsoc", "-c", str(install.config_path), "run"],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, **ENV}, start_new_session=True)
    try:
        wait_until(lambda: {s.worker for s in read_statuses(install.state_dir) if s.state == "running"}
                   == {"snmp", "flows", "logs"}, timeout=60, what="three running workers")
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def test_a_second_run_refuses_naming_the_first_and_reload_reports_each_worker(
        install: InstallPaths, running: subprocess.Popen[bytes]) -> None:
    second = nocsoc(install, "run")
    assert second.returncode == 2
    assert errors(second.stderr) == [
        f"error: another `nocsoc run` (pid {running.pid}) is using {install.state_dir}: stop it first, or "
        "use `nocsoc reload` to apply inventory changes"]
    # check knows the instance runs and does not try its ports
    check = nocsoc(install, "check", "--no-probe")
    assert check.returncode == 0 and f"(pid {running.pid}) is running" in check.stderr
    # reload: every worker answers with what changed
    inv = _inventory()
    inv["devices"].append({"name": "dev-1", "address": "127.0.0.11", "role": "access", "site": "lab",
                           "profile": "v2"})
    write_yaml(install.inventory_path, inv)
    reload = nocsoc(install, "reload")
    assert reload.returncode == 0, reload.stderr
    assert sorted(reload.stdout.splitlines()) == sorted(
        f"{w}: ok devices +1 -0 ~0, snmp_profiles +0 -0 ~1" for w in ("snmp", "flows", "logs"))
    # a broken edit is refused, with file:line, by every worker; exit 2
    install.inventory_path.write_text("version: 1\nsites: [\n", encoding="utf-8")
    refused = nocsoc(install, "reload")
    assert refused.returncode == 2
    lines = refused.stdout.splitlines()
    assert len(lines) == 3 and all(
        re.fullmatch(rf"\w+: refused keeping the running inventory: {re.escape(str(install.inventory_path))}"
                     r":\d+: invalid YAML.*", line) for line in lines), lines
    status = nocsoc(install, "status")
    assert status.returncode == 0 and "last reload" in status.stdout
    assert alive(running.pid)


def test_reload_without_a_running_instance_says_so(install: InstallPaths) -> None:
    out = nocsoc(install, "reload")
    assert out.returncode == 1 and errors(out.stderr) == [
        f"error: no `nocsoc run` is running on {install.state_dir}"]


def test_a_worker_failing_for_a_config_reason_is_named_and_not_restarted(install: InstallPaths) -> None:
    """A port taken between the check and the start: the worker exits 2 with the reason in its
    status file; `nocsoc status` shows it and exits 1; the supervisor does not restart it."""
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    port = busy.getsockname()[1]
    try:
        write_yaml(install.config_path, _config(port))
        ctx = load_context(install.config_path)
        worker = Worker(WorkerSpec("flows", ctx, ["flows"]))
        assert worker.run() == EXIT_CONFIG
        (st,) = read_statuses(install.state_dir)
        assert (st.worker, st.state, st.config_error) == ("flows", "failed", True)
        assert st.error == f"flows: cannot listen on udp 127.0.0.1:{port}: address already in use"
        status = nocsoc(install, "status")
        assert status.returncode == 1
        assert f"flows failed (configuration): {st.error}" in " ".join(status.stdout.split())
    finally:
        busy.close()
    # no duration: the supervisor must return on its own once its only worker failed this way
    sup = Supervisor({"bad": [sys.executable, "-c", f"raise SystemExit({EXIT_CONFIG})"]},
                     restart_backoff_s=0.1)
    result: list[int] = []
    t = threading.Thread(target=lambda: result.append(sup.run()), name="test-supervisor", daemon=True)
    t.start()
    t.join(60)
    if t.is_alive():  # a hang: stop it before failing
        sup.request_stop()
        t.join(60)
        pytest.fail("the supervisor kept running with its only worker failed")
    assert result == [EXIT_CONFIG]
    assert sup.children["bad"].restarts == 0 and sup.children["bad"].failed


def test_an_unresolvable_snmp_secret_is_a_config_error_not_an_outage(install: InstallPaths) -> None:
    write_yaml(install.inventory_path, _inventory("env:NOCSOC_TEST_UNSET_COMMUNITY"))
    sink = MemorySink()
    poller = SnmpPoller(SnmpConfig(interval_s=2.0), load_inventory(install.inventory_path), sink,
                        secrets_dir=install.root)
    results = poller.run_once(samples=1)
    assert [(r.ok, r.error_kind) for r in results] == [(False, "config")]
    assert "NOCSOC_TEST_UNSET_COMMUNITY is not set" in (results[0].error or "")
    assert sink.of("device") == []  # no reachable=0: nothing says the device is down
    (event,) = sink.of("device_event")
    assert event.tags["event"] == "config_error"
    c = poller.counter_sets()[0].snapshot()
    assert (c["config_errors"], c["polls_failed"], c["timeouts"]) == (1, 0, 0)


def test_a_missing_rules_directory_is_fatal_and_named(install: InstallPaths) -> None:
    """A misspelt `detections.rules` entry would run with none of its rules: a silent zero."""
    cfg = _config(free_port(socket.SOCK_DGRAM))
    cfg["detections"]["rules"] = ["./rulez"]
    write_yaml(install.config_path, cfg)
    line = line_of(install.config_path, "./rulez")
    out = nocsoc(install, "check", "--no-probe")
    assert out.returncode == 2
    assert errors(out.stderr) == [
        f"error: {install.config_path}:{line}: detections.rules[0]: "
        f"{install.root / 'rulez'}: no such rule file or directory",
    ], out.stderr


def test_a_rule_file_that_does_not_load_is_named_in_the_log(tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    from nocsoc.collectors.logs.config import LogsConfig
    from nocsoc.collectors.logs.pipeline import LogPipeline
    from nocsoc.detections.config import DetectionsConfig

    (tmp_path / "broken.yml").write_text("title: [unclosed\n")
    p = LogPipeline(LogsConfig(syslog_udp=None, syslog_tcp=None),
                    DetectionsConfig(rules=["broken.yml"], builtin_rules=False,
                                     alerts_db=str(tmp_path / "a.db")), None, base_dir=tmp_path)
    with caplog.at_level("WARNING", logger="nocsoc.collectors.logs.pipeline"):
        p.prepare()
    (msg,) = [r.getMessage() for r in caplog.records if "broken.yml" in r.getMessage()]
    assert msg.startswith(f"detections: {tmp_path / 'broken.yml'}: ") and msg.endswith("(not loaded)")
    p.stop()
