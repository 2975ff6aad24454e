"""Syslog as received on a real UDP socket: every line, from each device's own address, with the
injected attacks exactly as the manifest says."""

from __future__ import annotations

import re
import socket
from collections import Counter

from nocsoc.simulate.scenario import Scenario, SimulateConfig
from tests.simulate.conftest import small_inventory

RFC5424 = re.compile(r"^<(\d{1,3})>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (\S+) (\S+) (\d+) - - (.*)$")
RFC3164 = re.compile(r"^<(\d{1,3})>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d (\S+) (.*)$")


def test_syslog_lines_and_injected_attacks(community_env: str) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # x600: the default script's ~55 simulated minutes pass in about 6 real seconds
    sc = Scenario(
        small_inventory(16100),
        SimulateConfig(
            seed=8, speed=600, duration_s=7, flows_to=None, syslog_to=f"127.0.0.1:{port}", snmp=False
        ),
    )
    sc.start()
    got: list[tuple[str, str]] = []
    sock.settimeout(0.2)
    try:
        while True:
            try:
                data, (src, _) = sock.recvfrom(65535)
                got.append((src, data.decode("utf-8")))
            except TimeoutError:
                if sc.finished.is_set():
                    break
    finally:
        sock.close()
        sc.stop()
    m = sc.manifest()
    assert len(got) == m["syslog"]["lines"] > 200
    addr = {d.name: d.device.address for d in sc.lab.topo.devices}
    for src, text in got:
        match = RFC5424.match(text) or RFC3164.match(text)
        assert match, text
        host = match.group(2)
        assert src == addr[host], f"{host} sent from {src}"

    attacks = {a["kind"]: a for a in m["attacks"]}
    assert all(a["complete"] for a in m["attacks"])
    lines = [t for _, t in got]
    brute = [t for t in lines if "Failed password" in t and "from 203.0.113.45 " in t]
    assert len(brute) == attacks["ssh_brute_force"]["count"] == 30
    assert all(" srv-db-01 sshd " in t for t in brute)
    assert sum("Accepted password for admin from 203.0.113.45" in t for t in lines) == 1
    sqli = [t for t in lines if t.startswith("<190>1") and "198.51.100.77 - -" in t]
    assert len(sqli) == attacks["web_sqli"]["count"] == 10
    assert (
        sum("198.51.100.78 - -" in t and ".." in t for t in lines) == attacks["web_traversal"]["count"] == 8
    )
    ports = Counter(g.group(1) for t in lines if "SRC=192.0.2.66 " in t and (g := re.search(r"DPT=(\d+)", t)))
    assert len(ports) == attacks["port_scan"]["ports"] == 50 and set(ports.values()) == {1}
    router = [t for t in lines if "%SEC_LOGIN-4-LOGIN_FAILED" in t]
    assert len(router) == attacks["router_login_failed"]["count"] == 8
    assert all(" core-01 " in t and "[Source: 203.0.113.99]" in t for t in router)
    flap = [t for t in lines if "%LINK-3-UPDOWN" in t and "Te0/0/0/1" in t and " core-01 " in t]
    assert [t.rsplit(" ", 1)[1] for t in flap] == ["down", "up"]
    assert sum("%SYS-5-RESTART" in t and " acc-dongphu-01 " in t for t in lines) == 1
    # everyday noise is there too
    assert sum("CRON" in t for t in lines) >= 3 and sum('"GET /' in t and "100." in t for t in lines) > 20
