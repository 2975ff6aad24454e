"""`nocsoc run` with the traps and icmp services only, as real processes: a real `snmptrap`
linkDown becomes an event, the interface's status and an alert; every device is pinged."""

from __future__ import annotations

import os
import signal
import socket
import subprocess

import pytest

from nocsoc.detections.alerts import AlertStore
from nocsoc.schema import INTERFACE, PING, SNMP_TRAP
from nocsoc.sinks.sqlite import SqliteReader
from tests.e2e.harness import InstallPaths, NocsocRun, alive, write_yaml
from tests.servers.base import free_port, require_binary

ENV = {"NOCSOC_TEST_RUN_TRAP_COMMUNITY": "run-trap-community"}


def test_traps_and_icmp_under_nocsoc_run(tmp_path: os.PathLike[str]) -> None:
    snmptrap = require_binary("snmptrap", "snmp")
    inst = InstallPaths(tmp_path)  # type: ignore[arg-type]
    port = free_port(socket.SOCK_DGRAM)
    write_yaml(inst.inventory_path, {
        "version": 1, "sites": [{"id": "dc1", "name": "DC 1"}],
        "snmp_profiles": [{"name": "v2", "version": "2c", "community": "env:NOCSOC_TEST_RUN_TRAP_COMMUNITY"}],
        "devices": [
            {"name": "core-01", "address": "127.0.0.1", "role": "core", "site": "dc1", "profile": "v2"},
            {"name": "sw-02", "address": "127.0.0.2", "role": "access", "site": "dc1", "profile": "v2"}],
    })
    write_yaml(inst.config_path, {
        "inventory": "inventory.yaml",
        "sinks": [{"type": "sqlite", "path": "./var/nocsoc.db", "flush_interval_s": 0.2}],
        "snmp": {"enabled": False}, "flows": {"enabled": False}, "logs": {"enabled": False},
        "traps": {"enabled": True, "bind": f"127.0.0.1:{port}", "flush_interval_s": 0.2,
                  "communities": ["env:NOCSOC_TEST_RUN_TRAP_COMMUNITY"]},
        "icmp": {"enabled": True, "interval_s": 0.5, "count": 1, "timeout_s": 0.5},
        "detections": {"alerts_db": "./var/alerts.db"},
        "run": {"state_dir": "./var", "status_interval_s": 0.3, "self_metrics_interval_s": 1.0,
                "stop_timeout_s": 8.0, "restart_backoff_s": 0.3},
    })
    run = NocsocRun(inst, ENV, "run")
    try:
        run.wait_running(["traps", "icmp"])
        community = ENV["NOCSOC_TEST_RUN_TRAP_COMMUNITY"]
        subprocess.run([snmptrap, "-v", "2c", "-c", community, f"127.0.0.1:{port}",
                        "100", "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.2.1.2.2.1.1.4", "i", "4",
                        "1.3.6.1.2.1.2.2.1.8.4", "i", "2", "1.3.6.1.2.1.31.1.1.1.1.4", "s", "Te1/0/4"],
                       check=True, capture_output=True, timeout=30,
                       env={**os.environ, "MIBS": "", "SNMPCONFPATH": str(tmp_path),
                            "SNMP_PERSISTENT_DIR": str(tmp_path)})
        run.await_service("traps", lambda c: c.get("traps", 0) == 1, "the trap handled")
        run.await_service("icmp", lambda c: c.get("rounds", 0) >= 2, "two ping rounds")
        run.signal(signal.SIGTERM)
        assert run.wait(20) == 0
    finally:
        run.stop()
        for s in run.statuses().values():
            if alive(s.pid):
                os.kill(s.pid, signal.SIGKILL)
    reader = SqliteReader(inst.state_dir / "nocsoc.db")
    [trap] = reader.query(SNMP_TRAP.name, ["trap_oid", "ifindex"])
    assert (trap.tags["device"], trap.tags["event"], trap.tags["ifname"], trap.fields["ifindex"]) == (
        "core-01", "link_down", "Te1/0/4", 4)
    [iface] = reader.query(INTERFACE.name, ["oper_status"])
    got = (iface.tags["device"], iface.tags["ifname"], iface.fields["oper_status"])
    assert got == ("core-01", "Te1/0/4", 2)
    pings = reader.query(PING.name, ["reachable"])
    assert {r.tags["device"] for r in pings} == {"core-01", "sw-02"}
    assert all(r.fields["reachable"] == 1 for r in pings)
    with AlertStore(inst.state_dir / "alerts.db") as store:
        assert [(a.rule_id, a.group_key) for a in store.list_alerts()] == [
            ("snmp-trap-link-down", "core-01|Te1/0/4")]
    assert reader.query("trap_receiver", ["traps"])[-1].fields["traps"] == 1  # self-metrics written


pytestmark = pytest.mark.timeout(180)
