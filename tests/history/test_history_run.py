"""`nocsoc run` with the flows and logs services: what they receive lands in the history, and
`nocsoc flows query` / `nocsoc logs search` answer from it (as separate processes, as an
analyst would run them)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.collectors.flows.craft import v5
from tests.e2e.harness import InstallPaths, NocsocRun, write_yaml
from tests.servers.base import free_port

ATTACKER = "203.0.113.45"


def _config(flows_port: int, syslog_port: int) -> dict[str, Any]:
    return {
        "inventory": "inventory.yaml",
        "sinks": [{"type": "sqlite", "path": "./var/nocsoc.db", "flush_interval_s": 0.2}],
        "snmp": {"enabled": False},
        "flows": {"bind": f"127.0.0.1:{flows_port}", "sflow_bind": None, "interval_s": 2.0},
        "logs": {"syslog_udp": f"127.0.0.1:{syslog_port}", "syslog_tcp": None},
        "detections": {"alerts_db": "./var/alerts.db"},
        "history": {"dir": "./var/history", "flush_interval_s": 0.2, "minute_grace_s": 0},
        "run": {"state_dir": "./var", "status_interval_s": 0.3, "self_metrics_interval_s": 1.0,
                "stop_timeout_s": 8.0, "restart_backoff_s": 0.3},
    }


def nocsoc(inst: InstallPaths, *args: str) -> Any:
    out = subprocess.run([sys.executable, "-m", "nocsoc", "-c", str(inst.config_path), *args],
                         capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_flows_query_and_logs_search_answer_from_what_nocsoc_run_stored(tmp_path: Path) -> None:
    inst = InstallPaths(tmp_path)
    flows_port, syslog_port = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    write_yaml(inst.inventory_path, {"version": 1, "sites": [{"id": "lab", "name": "Lab"}], "devices": []})
    write_yaml(inst.config_path, _config(flows_port, syslog_port))
    run = NocsocRun(inst, {})
    try:
        run.wait_running(["flows", "logs"])
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.sendto(v5([
            {"src": ATTACKER, "dst": "10.0.0.1", "sport": 40000, "dport": 22, "proto": 6,
             "bytes": 1200, "packets": 10},
            {"src": ATTACKER, "dst": "10.0.0.1", "sport": 40000, "dport": 22, "proto": 6,
             "bytes": 300, "packets": 2},
            {"src": "10.0.0.1", "dst": ATTACKER, "sport": 22, "dport": 40000, "proto": 6,
             "bytes": 5000, "packets": 8},
            {"src": "10.0.0.7", "dst": "10.0.0.8", "sport": 5353, "dport": 53, "proto": 17,
             "bytes": 90, "packets": 1},
        ]), ("127.0.0.1", flows_port))
        now = datetime.now(UTC).replace(microsecond=0)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        for user, port in (("root", 4242), ("oracle", 4243)):
            sock.sendto(f"<38>1 {stamp} bastion sshd 811 - - Failed password for {user} from {ATTACKER} "
                        f"port {port} ssh2".encode(), ("127.0.0.1", syslog_port))
        sock.sendto(f"<38>1 {stamp} web-01 cron 12 - - (root) CMD (run-parts /etc/cron.hourly)".encode(),
                    ("127.0.0.1", syslog_port))
        sock.close()
        run.await_service("flows", lambda s: s.get("flows.received") == 4, "4 flow records to the history")
        run.await_service("logs", lambda s: s.get("logs.written") == 3, "3 lines archived")
        # while running: the archive answers
        got = nocsoc(inst, "logs", "search", "--ip", ATTACKER, "--since", "1h", "--json")["lines"]
        assert [(ln["time"], ln["host"], ln["program"], ln["src_ip"], ln["user"]) for ln in got] == [
            (now.timestamp(), "bastion", "sshd", ATTACKER, "root"),
            (now.timestamp(), "bastion", "sshd", ATTACKER, "oracle")]
        assert [ln["raw"] for ln in nocsoc(inst, "logs", "search", "--host", "web-01", "--json")["lines"]] \
            == [f"<38>1 {stamp} web-01 cron 12 - - (root) CMD (run-parts /etc/cron.hourly)"]
        # the minute is still open: stopping writes it (nothing received is lost)
        run.signal(signal.SIGTERM)
        assert run.wait(30) == 0
    finally:
        run.stop()
    peers = nocsoc(inst, "flows", "query", "--ip", ATTACKER, "--since", "1h", "--json")["peers"]
    minute = [p.pop("first_seen") for p in peers]
    assert all(m % 60 == 0 and time.time() - 3600 < m <= time.time() for m in minute)
    assert [p["last_seen"] - m for p, m in zip(peers, minute, strict=True)] == [60, 60]
    assert [{k: v for k, v in p.items() if k != "last_seen"} for p in peers] == [
        {"ip": ATTACKER, "peer": "10.0.0.1", "direction": "in", "proto": 6, "ip_port": 40000, "peer_port": 22,
         "bytes": 5000, "packets": 8, "flows": 1, "exporters": ["127.0.0.1"]},
        {"ip": ATTACKER, "peer": "10.0.0.1", "direction": "out", "proto": 6, "ip_port": 40000,
         "peer_port": 22, "bytes": 1500, "packets": 12, "flows": 2, "exporters": ["127.0.0.1"]},
    ]
    assert nocsoc(inst, "flows", "query", "--ip", ATTACKER, "--peer", "10.0.0.9", "--json")["peers"] == []
    dns = nocsoc(inst, "flows", "query", "--ip", "10.0.0.8", "--port", "53", "--json")["peers"]
    assert [(p["peer"], p["bytes"]) for p in dns] == [("10.0.0.7", 90)]
