"""The whole path on real sockets: syslog over UDP and TCP (127.0.0.1) and file tail with rotation
-> parsers -> engine -> alert store and sink. Exact alerts, counts, dedup."""

from __future__ import annotations

import errno
import os
import socket
import threading
from pathlib import Path

import pytest

from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.logs.pipeline import LogPipeline
from nocsoc.component import component_points
from nocsoc.detections.alerts import Alert, AlertStore
from nocsoc.detections.config import DetectionsConfig
from nocsoc.sinks.memory import MemorySink
from tests.servers.base import free_port, wait_until

SSH_FAIL = "<38>Nov 25 04:01:{s:02d} dns1 sshd[5{i}]: Failed password for root from 192.0.2.77 port 4{i} ssh2"
SSH_OK = "<38>Nov 25 04:05:00 dns1 sshd[600]: Accepted password for root from 192.0.2.77 port 40600 ssh2"
WEB = (
    "<190>Nov 25 08:12:0{i} portal nginx: 203.0.113.9 - - [25/Nov/2026:08:12:0{i} +0700] "
    '"GET /dichvucong/../../../../etc/passwd HTTP/1.1" 404 162 "-" "Mozilla/5.0"'
)
CISCO = (
    "<188>22{i}: core-dx1: Nov 25 12:00:0{i}.123 ICT: %SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: admin] "
    "[Source: 203.0.113.70] [localport: 22] [Reason: Login Authentication Failed]"
)
AUDIT = (
    '<14>Nov 25 06:00:0{i} srv1 audispd: type=EXECVE msg=audit(1795586400.{i}:9{i}): argc=3 a0="bash" '
    'a1="-c" a2="echo ok"'
)


@pytest.fixture
def pipeline(tmp_path: Path):
    port = free_port(socket.SOCK_DGRAM)
    while True:  # same number free for TCP too
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))
            break
        except OSError:
            port = free_port(socket.SOCK_DGRAM)
    bind = f"127.0.0.1:{port}"
    logs = LogsConfig(
        syslog_udp=bind,
        syslog_tcp=bind,
        files=[str(tmp_path / "auth.log")],
        poll_interval_s=0.05,
    )
    det = DetectionsConfig(alerts_db=str(tmp_path / "alerts.db"), flush_interval_s=0.05)
    sink = MemorySink()
    (tmp_path / "auth.log").write_text("")
    p = LogPipeline(logs, det, sink, base_dir=tmp_path)
    p.start()
    yield p, port, sink, tmp_path
    p.stop()


def _settle(p: LogPipeline, n: int) -> None:
    wait_until(lambda: p.processed() >= n and p.idle(), timeout=20, what=f"{n} messages processed")


def test_syslog_udp_and_tcp_raise_exact_deduplicated_alerts(pipeline) -> None:
    p, port, sink, _ = pipeline
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = 0
    for i in range(10, 22):  # 12 failures: brute force fires at the 10th, the rest extend it
        udp.sendto(SSH_FAIL.format(s=i * 2, i=i).encode(), ("127.0.0.1", port))
        sent += 1
    _settle(p, sent)
    with socket.create_connection(("127.0.0.1", port)) as tcp:
        # octet-counted success after the brute force, then newline-framed web and Cisco lines
        ok = SSH_OK.encode()
        tcp.sendall(f"{len(ok)} ".encode() + ok)
        for i in range(1, 4):
            tcp.sendall((WEB.format(i=i) + "\n").encode())
        for i in range(1, 3):
            tcp.sendall((CISCO.format(i=i) + "\n").encode())
        tcp.sendall((AUDIT.format(i=1) + "\n").encode())
        sent += 7
    # An unparsed line is dated when it arrives (now), which moves the engine's clock past these
    # fixed dates and frees their correlation windows: send it only once the success is in.
    _settle(p, sent)
    udp.sendto(b"\x00\xff garbage that no parser knows", ("127.0.0.1", port))
    sent += 1
    udp.close()
    _settle(p, sent)
    alerts = {a.rule_title: a for a in p.store.list_alerts()}
    assert sorted(alerts) == [
        "Failed Login on Network Device",
        "Path Traversal Attempt on the Public-Service Portal",
        "SSH Brute Force From One Source",
        "SSH Login Success After Brute Force",
    ]
    bf = alerts["SSH Brute Force From One Source"]
    assert (bf.count, bf.src_ip, bf.host, bf.level, bf.state, bf.group_key) == (
        12,
        "192.0.2.77",
        "dns1",
        "high",
        "new",
        "src_ip=192.0.2.77",
    )
    succ = alerts["SSH Login Success After Brute Force"]
    assert (succ.level, succ.user, succ.samples[-1]["raw"]) == ("critical", "root", SSH_OK)
    assert succ.first_seen == bf.last_seen  # the chain: the brute force's last attempt, then success
    web = alerts["Path Traversal Attempt on the Public-Service Portal"]
    assert (web.count, web.src_ip, web.host) == (3, "203.0.113.9", "portal")  # 3 requests, one alert
    cisco = alerts["Failed Login on Network Device"]
    assert (cisco.count, cisco.user, cisco.src_ip, cisco.host) == (2, "admin", "203.0.113.70", "core-dx1")
    c = p.counters.snapshot()
    assert (c["received"], c["parsed"], c["unparsed"], c["dropped"], c["alerts"]) == (sent, sent - 1, 1, 0, 4)
    assert p.udp is not None and p.udp.counters.get("received") == 13
    assert p.tcp is not None and p.tcp.counters.get("received") == 7
    # alerts went through the schema to the sink, counts adding up to each alert's count
    pts = sink.of("alert")
    per_alert: dict[str, int] = {}
    for pt in pts:
        per_alert[str(pt.fields["alert_id"])] = per_alert.get(str(pt.fields["alert_id"]), 0) + int(
            pt.fields["count"]
        )
    assert per_alert == {str(a.id): a.count for a in alerts.values()}
    assert {pt.tags["tactic"] for pt in pts} == {"credential-access", "initial-access"}
    names = {(pt.measurement, pt.tags.get("component")) for pt in component_points(p)}
    assert ("log_collector", "engine") in names and ("log_collector", "syslog_udp") in names
    ev = [pt for pt in p.self_points() if pt.measurement == "log_event"]
    assert ev == []  # per-interval counts were taken by the previous call


def test_file_tail_with_rotation_raises_one_portscan_alert(pipeline) -> None:
    p, _, _, tmp = pipeline
    log = tmp / "auth.log"
    line = (
        "Nov 25 11:00:{s:02d} fw-dc1 kernel: [8812.{s}] NOCSOC-DROP IN=eth0 OUT=eth1 SRC=203.0.113.66 "
        "DST=10.10.0.5 LEN=44 PROTO=TCP SPT=61000 DPT={port} WINDOW=1024 SYN URGP=0\n"
    )
    with open(log, "a") as f:
        for s in range(0, 12):
            f.write(line.format(s=s, port=1000 + s))
    _settle(p, 12)
    os.rename(log, tmp / "auth.log.1")
    with open(log, "w") as f:
        for s in range(12, 30):
            f.write(line.format(s=s, port=1000 + s))
    _settle(p, 30)
    alerts = p.store.list_alerts()
    assert [(a.rule_title, a.count, a.src_ip, a.host) for a in alerts] == [
        ("Port Scan Seen in Firewall Logs", 30, "203.0.113.66", "fw-dc1")
    ]  # the whole incident
    assert p.tailers[0].counters.get("rotations") == 1


def test_correlation_windows_survive_a_restart(tmp_path: Path) -> None:
    """6 failed logins, a graceful stop, 4 more after the restart: the brute force (10 in 5 min)
    fires on the 10th, counted across both runs, as if nothing had stopped."""
    log = tmp_path / "auth.log"
    log.write_text("")
    logs = LogsConfig(syslog_udp=None, syslog_tcp=None, files=[str(log)], poll_interval_s=0.02)
    det = DetectionsConfig(alerts_db=str(tmp_path / "alerts.db"), flush_interval_s=0.02)

    def run(lines: range) -> LogPipeline:
        p = LogPipeline(logs, det, MemorySink(), base_dir=tmp_path)
        p.start()
        with open(log, "a") as f:
            f.writelines(SSH_FAIL.format(s=i * 2, i=i)[4:] + "\n" for i in lines)  # file lines: no <PRI>
        _settle(p, len(lines))
        p.stop()
        return p

    def alerts() -> list[Alert]:
        with AlertStore(tmp_path / "alerts.db") as store:
            return store.list_alerts()

    assert run(range(10, 16)).restored_windows == 0
    assert alerts() == []
    # the source's window in the brute force (event_count) and the password spraying (value_count)
    assert run(range(16, 20)).restored_windows == 2
    (bf,) = [a for a in alerts() if a.rule_title == "SSH Brute Force From One Source"]
    assert (bf.count, bf.src_ip, bf.group_key) == (10, "192.0.2.77", "src_ip=192.0.2.77")
    assert bf.first_seen < bf.last_seen and bf.samples[0]["raw"] == SSH_FAIL.format(s=20, i=10)[4:]


def test_a_tcp_port_in_use_leaves_nothing_bound_or_running(tmp_path: Path) -> None:
    """The TCP port taken: start() raises one line naming the address, and the UDP listener it
    had already bound is closed again, its engine thread gone (a restart can bind them all)."""
    before = set(threading.enumerate())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        tcp_port = taken.getsockname()[1]
        logs = LogsConfig(syslog_udp="127.0.0.1:0", syslog_tcp=f"127.0.0.1:{tcp_port}")
        p = LogPipeline(logs, DetectionsConfig(alerts_db=str(tmp_path / "alerts.db")), MemorySink(),
                        base_dir=tmp_path)
        with pytest.raises(OSError) as exc:
            p.start()
    assert (exc.value.errno, exc.value.strerror) == (
        errno.EADDRINUSE, f"cannot listen on tcp 127.0.0.1:{tcp_port}: address already in use")
    assert p.udp is not None
    udp_port = p.udp.address[1]  # the kernel's pick, bound before the TCP bind failed
    wait_until(lambda: not [t for t in threading.enumerate() if t not in before],
               timeout=30, what="the threads start() began to end")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(("127.0.0.1", udp_port))  # free again: raises EADDRINUSE if still held
