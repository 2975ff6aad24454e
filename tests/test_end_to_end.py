"""The whole system, end to end: the simulated backbone, `nocsoc run` (a real supervisor with one
worker process per service) and a real influxd (plus the sqlite sink), in compressed time.

Act 1 runs one scripted exercise (attacks early, then a link flap and a reboot long enough for a
5 s poll to see) while the test sends SIGHUP with a new inventory, asks `nocsoc status --json`
and ends with SIGTERM; the tests compare what nocsoc stored with the simulator's ground-truth
manifest. Act 2 stops influxd so the sinks spool, kills the supervisor and every worker with
SIGKILL, restarts `nocsoc run`, brings influxd back, and proves that no spooled point and no alert
(nor its triage state) was lost, and that the spool was delivered exactly once.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.dashboards.proof import QueryResult, prove_all
from nocsoc.detections.alerts.store import Alert, AlertStore
from nocsoc.inventory.store import load_inventory
from nocsoc.service.status import WorkerStatus
from nocsoc.simulate.events import (
    LinkFlap,
    PortScan,
    Reboot,
    RouterLoginFailures,
    Script,
    SshBruteForce,
    WebAttack,
)
from nocsoc.simulate.scenario import Scenario, SimulateConfig
from tests.e2e.harness import (
    Install,
    LineKey,
    NocsocRun,
    alive,
    influx_lines,
    lab_inventory,
    parse_line,
    spooled_lines,
    status_json,
    write_yaml,
)
from tests.servers.base import free_port, wait_until

pytestmark = pytest.mark.servers

DB = "e2e"
SECRETS = {"NOCSOC_SNMP_COMMUNITY": "e2e-community", "NOCSOC_SNMP_AUTH": "e2e-auth-pass-1",
           "NOCSOC_SNMP_PRIV": "e2e-priv-pass-1"}
WORKERS = ("snmp", "flows", "logs")
INFLUX_SINK = "influxdb1"
SPEED = 10.0  # simulated seconds per real second
POLL_S = 5.0  # every device's SNMP interval
SLACK_S = 3.0  # a loaded 2-core machine: how late a poll may see a change
TICK_NS = 500_000_000  # an agent answers from the tick that boots it
# A poll is stamped when it starts: one started before the boot, whose retry the booted agent
# answers, is stamped up to one timeout (the harness's 1.5 s, 1 retry) plus a tick before boot_at.
EARLY_ANSWER_NS = int(1.5e9) + TICK_NS
SIM_DURATION_S = 52.0
FLAP_LINK = "ring-dongphu-budang"
FLAP_ENDS = {("dongphu-dist-01", "TenGigabitEthernet0/0/9"), ("budang-dist-01", "TenGigabitEthernet0/0/8")}
REBOOTED = "budang-acc-03"
REBOOT_UPLINK = ("budang-dist-01", "GigabitEthernet0/0/5")  # the distribution end goes down with it
HELD_BACK = "dongxoai-srv-dns-02"  # enters nocsoc's inventory by SIGHUP while it runs
OUTAGE_ATTACKER = "203.0.113.123"  # act 2: an attack while influxd is down
# act 2 kills once the spool holds what every service writes: SNMP, flows, alerts, self-metrics
SPOOL_MUST_HOLD = {"device", "device_event", "flow_total", "flow_top", "alert", "sink"}

# Attacks first, network events after; simulated seconds (x10 real).
SCRIPT = Script(
    ssh_brute_force=[SshBruteForce(target="dongxoai-srv-mail", source="203.0.113.45", at_s=20, attempts=30,
                                   interval_s=1.0, success_after_s=10.0)],
    web_attacks=[WebAttack(target="dongxoai-srv-portal", source="198.51.100.77", kind="sqli", at_s=60,
                           count=10, interval_s=1.0),
                 WebAttack(target="dongxoai-srv-portal", source="198.51.100.78", kind="traversal", at_s=80,
                           count=8, interval_s=1.0)],
    port_scans=[PortScan(target="dongxoai-fw-01", source="192.0.2.66", at_s=100, ports=50, interval_s=0.2)],
    router_login_failures=[RouterLoginFailures(target="dongxoai-core-01", source="203.0.113.99", at_s=120,
                                               count=8, interval_s=1.0)],
    link_flaps=[LinkFlap(link=FLAP_LINK, at_s=140, down_s=120)],  # 12 real seconds down
    reboots=[Reboot(device=REBOOTED, at_s=280, down_s=100)],  # 10 real seconds silent
)
BRUTE_FORCE_THRESHOLD = 10  # `gte: 10` of nocsoc_ssh_bruteforce

# attack kind (manifest) -> rule titles it must raise, one alert each, with the alert's count
# ("lines": the attack's emitted lines). Base rules only referenced by a correlation (SSH Failed
# Login, Firewall Blocked Connection, SSH Successful Login) raise nothing themselves (Sigma's
# `generate: false`).
EXPECTED: dict[str, dict[str, str]] = {
    "ssh_brute_force": {"SSH Brute Force From One Source": "lines",
                        "SSH Password Spraying From One Source": "lines"},
    "ssh_login_after_brute_force": {"SSH Login Success After Brute Force": "chain"},
    "web_sqli": {"SQL Injection Attempt on the Public-Service Portal": "lines"},
    "web_traversal": {"Path Traversal Attempt on the Public-Service Portal": "lines"},
    "port_scan": {"Port Scan Seen in Firewall Logs": "lines"},
    "router_login_failed": {"Failed Login on Network Device": "lines"},
}


def _udp_port() -> int:
    return free_port(socket.SOCK_DGRAM)


@dataclass
class Act1:
    install: Install
    manifest: dict[str, Any]
    sim_inventory: Path
    t0_ns: int  # before the simulation started
    sim_end_ns: int  # the simulation's last tick: SNMP answers stop after it
    sighup_ns: int
    running: dict[str, WorkerStatus]  # statuses just before the SIGHUP
    status_cli: list[dict[str, Any]]
    exit_code: int
    stop_s: float
    final: dict[str, WorkerStatus]
    alerts: list[Alert]


@pytest.fixture(scope="module")
def secrets() -> Iterator[dict[str, str]]:
    old = {k: os.environ.get(k) for k in SECRETS}
    os.environ.update(SECRETS)  # the simulator (in this process) reads them like the poller does
    yield SECRETS
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def install(influxd: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Install]:
    if not influxd.running:
        influxd.start()
    influxd.drop_database(DB)
    inst = Install(tmp_path_factory.mktemp("e2e"), influxd.url, DB, _udp_port(), _udp_port(),
                   snmp_interval_s=POLL_S)
    inst.write_config()
    yield inst
    if not influxd.running:
        influxd.start()
    influxd.drop_database(DB)


@pytest.fixture(scope="module")
def act1(install: Install, secrets: dict[str, str]) -> Iterator[Act1]:
    port = _udp_port()
    full = lab_inventory(port, {}, POLL_S)
    write_yaml(install.inventory_path, lab_inventory(port, {}, POLL_S, hold_back=HELD_BACK))
    sim_inventory = install.root / "sim-inventory.yaml"
    write_yaml(sim_inventory, full)
    run = NocsocRun(install, secrets, "act1")
    sim: Scenario | None = None
    try:
        run.wait_running(WORKERS)
        sim = Scenario(load_inventory(sim_inventory), SimulateConfig(
            seed=7, speed=SPEED, duration_s=SIM_DURATION_S, flows_to=f"127.0.0.1:{install.flows_port}",
            syslog_to=f"127.0.0.1:{install.syslog_port}", script=SCRIPT))
        t0_ns = time.time_ns()
        sim.start()
        status_cli = status_json(install, secrets)  # as an operator asks, while it runs
        # SIGHUP: the held-back device enters the inventory file and is polled without a restart
        run.await_service("snmp", lambda c: c.get("devices") == 47, "47 devices polled")
        running = run.statuses()
        write_yaml(install.inventory_path, full)
        sighup_ns = time.time_ns()
        run.signal(signal.SIGHUP)
        run.await_service("snmp", lambda c: c.get("devices") == 48, "the SIGHUP to add the 48th device")
        assert sim.wait(SIM_DURATION_S + 60), "the simulation did not finish"
        sim.stop()
        assert sim.error is None, sim.error
        manifest = sim.manifest()
        sim_end_ns = int(manifest["emitted_until"] * 1e9)
        # everything the simulator sent has been taken in before the stop
        records = sum(e["records"] for e in manifest["flows"]["exporters"])
        lines = manifest["syslog"]["lines"]
        try:
            run.await_service("flows", lambda c: c.get("records") == records,
                              f"{records} flow records received")
            run.await_service("logs", lambda c: c.get("received") == lines and c.get("queue") == 0,
                              f"{lines} syslog lines received and processed")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the simulator: {sim.status()}") from None
        t_stop = time.monotonic()
        run.signal(signal.SIGTERM)
        code = run.wait(30)
        stop_s = time.monotonic() - t_stop
        with AlertStore(install.alerts_db) as store:
            alerts = store.list_alerts(limit=100_000)
        yield Act1(install, manifest, sim_inventory, t0_ns, sim_end_ns, sighup_ns, running, status_cli,
                   code, stop_s, run.statuses(), alerts)
    except BaseException:
        print("--- nocsoc run log (act 1) ---\n" + run.log_tail(), file=sys.stderr)
        raise
    finally:
        if sim is not None:
            sim.stop()
        run.stop()


def rows(influxd: Any, q: str) -> list[dict[str, Any]]:
    return list(influxd.rows(q, DB))


def window(a: Act1, until_ns: int | None = None) -> str:
    return f"time >= {a.t0_ns} AND time <= {until_ns if until_ns is not None else a.sim_end_ns}"


# --- act 1: the service ---------------------------------------------------------------------------


def test_status_json_reports_every_worker_while_running(act1: Act1) -> None:
    by_worker = {w["worker"]: w for w in act1.status_cli}
    assert set(by_worker) == set(WORKERS)
    for name, w in by_worker.items():
        assert w["state"] == "running" and w["stale"] is False, w
        assert set(w["services"]) == {name}
        assert set(w["sinks"]) == {INFLUX_SINK, "sqlite"}
        assert w["pid"] == act1.final[name].pid  # the process that answered ran to the end
    assert by_worker["logs"]["services"]["logs"]["rules"] > 0
    assert by_worker["snmp"]["services"]["snmp"]["devices"] == 47


def test_sighup_adds_a_device_without_restart(act1: Act1, influxd: Any) -> None:
    # the same worker processes before the SIGHUP and at the end: reloaded, not restarted
    assert {n: s.pid for n, s in act1.running.items()} == {n: s.pid for n, s in act1.final.items()}
    assert act1.final["snmp"].services["snmp"]["devices"] == 48
    polled = rows(influxd, f"SELECT reachable FROM device WHERE device = '{HELD_BACK}' AND {window(act1)}")
    assert polled, f"{HELD_BACK} was never polled after the SIGHUP"
    assert min(r["time"] for r in polled) > act1.sighup_ns  # not before: it was not in the inventory
    assert polled[-1]["reachable"] == 1


def test_sigterm_stops_everything_in_time_with_flushed_sinks(act1: Act1) -> None:
    assert act1.exit_code == 0
    # exit 0 is the "in time": the supervisor kills a worker past run.stop_timeout_s and exits 1
    assert set(act1.final) == set(WORKERS)
    for name, st in act1.final.items():
        assert st.state == "stopped" and not alive(st.pid), (name, st.state)
        for sink, c in st.sinks.items():
            unsent = (c["queue"], c["spool_bytes"], c["rejected"], c["spool_dropped"])
            assert unsent == (0, 0, 0, 0), (name, sink)
        # both sinks took every point (the final rollups and self-metrics written at the stop too)
        assert st.sinks[INFLUX_SINK]["written"] == st.sinks["sqlite"]["written"] > 0
        assert "status_error" not in st.services[name]  # the last counters survive the stop


# --- act 1: what nocsoc saw --------------------------------------------------------------------------


def test_reboot_detected_without_a_rate_spike(act1: Act1, influxd: Any) -> None:
    (rb,) = act1.manifest["events"]["reboots"]
    down_ns, boot_ns = int(rb["down_at"] * 1e9), int(rb["boot_at"] * 1e9)
    events = rows(influxd, f"SELECT message, uptime_s FROM device_event WHERE event = 'device_reboot' "
                           f"AND {window(act1)} GROUP BY device")
    assert [e["device"] for e in events] == [REBOOTED]  # the only reboot, seen once
    (reboot,) = events
    # the answering poll is stamped at its start: up to EARLY_ANSWER_NS before `boot_at`
    assert boot_ns - EARLY_ANSWER_NS <= reboot["time"] <= boot_ns + int((POLL_S + SLACK_S) * 1e9)
    assert reboot["uptime_s"] < POLL_S + SLACK_S  # sysUpTime restarted at the boot
    silent = rows(influxd, f"SELECT message FROM device_event WHERE event = 'unreachable' AND device = "
                           f"'{REBOOTED}' AND time >= {down_ns} AND time <= {boot_ns + int(SLACK_S * 1e9)}")
    assert len(silent) == 1  # while it was down, it was reported unreachable (once)
    # no rate spike: counters restarting from zero never read as a wrap; on every interface of
    # the rebooted switch and its uplink's far end, no rate above the link speed, ever
    q = (f"SELECT in_bps, out_bps, speed_mbps, device, ifname FROM interface WHERE {window(act1)} AND "
         f"(device = '{REBOOTED}' OR (device = '{REBOOT_UPLINK[0]}' AND ifname = '{REBOOT_UPLINK[1]}'))")
    rates = [r for r in rows(influxd, q) if r["in_bps"] is not None]
    assert rates
    for r in rates:
        assert 0 <= r["in_bps"] <= r["speed_mbps"] * 1e6 and 0 <= r["out_bps"] <= r["speed_mbps"] * 1e6, r
    # ...and rates were measured again after the reboot (so the bound above is not vacuous)
    after = [r for r in rates if r["device"] == REBOOTED and r["time"] > reboot["time"] and r["in_bps"] > 0]
    assert after, "no interface rate of the rebooted switch after its reboot"
    # the same bound holds for every interface of the backbone
    every = [r for r in rows(influxd, f"SELECT in_bps, out_bps, speed_mbps, device, ifname FROM interface "
                                      f"WHERE {window(act1)}") if r["in_bps"] is not None and r["speed_mbps"]]
    assert len({(r["device"], r["ifname"]) for r in every}) > 100
    assert [r for r in every if max(r["in_bps"], r["out_bps"]) > r["speed_mbps"] * 1e6] == []


def test_link_flap_produced_down_and_up_events(act1: Act1, influxd: Any) -> None:
    (flap,) = act1.manifest["events"]["link_flaps"]
    assert {tuple(i.split(":", 1)) for i in flap["interfaces"]} == FLAP_ENDS
    (rb,) = act1.manifest["events"]["reboots"]
    events: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for r in rows(influxd, f"SELECT oper_status, device, ifname, event FROM interface_event "
                           f"WHERE {window(act1)}"):
        events[(r["device"], r["ifname"])].append((r["event"], r["time"]))
    # exactly the flapped link's two ends and the rebooted switch's uplink changed state
    assert set(events) == FLAP_ENDS | {REBOOT_UPLINK}
    # a poll's points carry the time its scalars answered; the interface table is read after,
    # so a change may be stamped up to one poll (its deadline) before the moment it happened
    early, late = int(POLL_S * 0.9 * 1e9), int((POLL_S + SLACK_S) * 1e9)

    def near(t: int, at: float) -> bool:
        return int(at * 1e9) - early <= t <= int(at * 1e9) + late

    for end in FLAP_ENDS:
        (down, t_down), (up, t_up) = events[end]
        assert (down, up) == ("down", "up")
        assert near(t_down, flap["down_at"]) and near(t_up, flap["up_at"]), (end, t_down, t_up, flap)
    (down, t_down), (up, t_up) = events[REBOOT_UPLINK]
    assert (down, up) == ("down", "up")
    assert near(t_down, rb["down_at"]) and near(t_up, rb["boot_at"]), (t_down, t_up, rb)


def test_flow_totals_and_top_talkers_match_the_manifest(act1: Act1, influxd: Any) -> None:
    flows = act1.manifest["flows"]
    # A rollup is stamped with its interval's start: the interval that holds t0 starts before it,
    # and the ones flushed at the stop end after the simulation.
    interval_ns = int(act1.install.flows_interval_s * 1e9)
    everything = f"time >= {act1.t0_ns // interval_ns * interval_ns} AND time <= {time.time_ns()}"
    (total,) = rows(influxd, f"SELECT sum(bytes) FROM flow_total WHERE {everything}")
    # exact: every record scaled by the sampling rate its exporter announced, as the manifest does
    assert total["sum"] == sum(e["bytes_scaled"] for e in flows["exporters"])
    per_exporter = {r["exporter"]: r["sum"] for r in rows(
        influxd, f"SELECT sum(bytes) FROM flow_total WHERE {everything} GROUP BY exporter")}
    assert per_exporter == {e["address"]: e["bytes_scaled"] for e in flows["exporters"] if e["records"]}
    dst: dict[str, int] = {r["key"]: r["sum"] for r in rows(
        influxd, f"SELECT sum(bytes) FROM flow_top WHERE kind = 'dst' AND \"key\" != 'other' "
                 f"AND {everything} GROUP BY \"key\"")}
    want = flows["top_destinations"][:5]  # the portal and the IOC platform first, then the DC servers
    assert [w["device"] for w in want[:2]] == ["dongxoai-srv-portal", "dongxoai-srv-ioc"]
    got = sorted(dst.items(), key=lambda kv: -kv[1])[:5]
    assert got == [(w["address"], w["bytes_scaled"]) for w in want]


def test_flows_by_interface_carry_the_snmp_names_and_links(act1: Act1, influxd: Any) -> None:
    """`nocsoc run`'s own output: the flows worker names each exporter interface as the SNMP
    poller (another process) read it, and tags its inventory link; no interface merges with
    another. Before the poller's first cycle is published an interface is `ifIndex N`."""
    interval_ns = int(act1.install.flows_interval_s * 1e9)
    everything = f"time >= {act1.t0_ns // interval_ns * interval_ns} AND time <= {time.time_ns()}"
    series = rows(influxd, f"SELECT sum(bytes) FROM flow_interface WHERE direction = 'in' AND {everything} "
                           f"GROUP BY exporter, ifindex, ifname, link")
    per_index: dict[tuple[str, str], int] = defaultdict(int)
    named: dict[tuple[str, str], tuple[str, str]] = {}
    for r in series:
        per_index[(r["exporter"], r["ifindex"])] += r["sum"]
        if not r["ifname"].startswith("ifIndex "):
            named[(r["exporter"], r["ifindex"])] = (r["ifname"], r.get("link") or "")
        else:
            assert r["ifname"] == f"ifIndex {r['ifindex']}", r
    exporters = [e for e in act1.manifest["flows"]["exporters"] if e["records"]]
    assert per_index == {(e["address"], i): b * e["sampling"] for e in exporters
                         for i, b in e["bytes_by_input_ifindex"].items()}
    assert named == {(e["address"], i): (v["name"], v["link"] or "") for e in exporters
                     for i, v in e["input_interfaces"].items()}
    # the placeholder names only before the poller's first cycle reached the flows worker
    first_poll = min(r["time"] for r in rows(influxd, f"SELECT first(in_bps) FROM interface WHERE "
                                                      f"{everything} GROUP BY device"))
    late = rows(influxd, f"SELECT sum(bytes) FROM flow_interface WHERE ifname =~ /^ifIndex / AND "
                         f"time > {first_poll + 2 * interval_ns + int(3e9)} AND time <= {time.time_ns()}")
    assert late == []


def test_each_attack_raised_exactly_its_alert(act1: Act1, influxd: Any) -> None:
    attacks = {a["kind"]: a for a in act1.manifest["attacks"]}
    assert set(attacks) == set(EXPECTED) and all(a["complete"] for a in attacks.values())
    want: dict[str, tuple[str, str, int]] = {}
    for kind, rules in EXPECTED.items():
        a = attacks[kind]
        for title, how in rules.items():
            if how == "lines":
                count = a["emitted"]
            else:
                # a temporal_ordered chain counts what fed it: each firing of the brute-force
                # correlation (the 10th to the last failure) and the successful login
                count = attacks["ssh_brute_force"]["emitted"] - BRUTE_FORCE_THRESHOLD + 1 + a["emitted"]
            want[title] = (a["target"], a["source"], count)
    got = {a.rule_title: (a.host, a.src_ip, a.count) for a in act1.alerts}
    assert len(act1.alerts) == len(got)  # deduplicated: one alert per rule
    assert got == want
    # the same alerts reached influxd: per rule, the written increments add up to the alert's count
    written = {r["rule_title"]: r["sum"] for r in rows(
        influxd, f"SELECT sum(\"count\") FROM alert WHERE {window(act1, time.time_ns())} "
                 f"GROUP BY rule_title")}
    assert written == {title: c for title, (_, _, c) in want.items()}


def _not_ok(results: list[QueryResult]) -> list[str]:
    return [f"{r.ref}: {r.error or 'no rows'}" for r in results if not r.ok]


def test_every_dashboard_panel_query_returns_data(act1: Act1, influxd: Any) -> None:
    cfg = DashboardsConfig(locale="en")
    at_end = prove_all(influxd.url, DB, cfg, "en", range_s=3600, now_ms=act1.sim_end_ns // 1_000_000)
    assert len(at_end) >= 60
    # at the end every device answers, so only the "devices down" panels are empty...
    assert sorted(_not_ok(at_end)) == ["nocsoc-ioc-overview / Devices down / A: no rows",
                                       "nocsoc-ioc-overview / Devices down by site / A: no rows"]
    # ...and while the switch was rebooting, they show exactly it
    (rb,) = act1.manifest["events"]["reboots"]
    # just before its answering poll's stamp (up to EARLY_ANSWER_NS before `boot_at`); the poll
    # that found it silent started at most POLL_S after `down_at`, 10 s before the boot
    now_ms = (int(rb["boot_at"] * 1e9) - EARLY_ANSWER_NS) // 1_000_000 - 100
    during = prove_all(influxd.url, DB, cfg, "en", range_s=3600, now_ms=now_ms)
    res = {(r.ref.owner, r.ref.panel): r for r in during}
    down = res[("nocsoc-ioc-overview", "Devices down")]
    assert [v[1] for s in down.series for v in s["values"]] == [1]
    by_site = res[("nocsoc-ioc-overview", "Devices down by site")]
    assert {s["tags"]["site"]: s["values"][0][1] for s in by_site.series} == {"budang": 1}


# --- act 2: kill -9 while influxd is down --------------------------------------------------------------


@dataclass
class Act2:
    spooled: list[str]  # every line the influxdb1 spools held at the kill
    main_lines: int  # of which in the main spool directory (not a worker's proc-* one)
    killed: list[int]
    before: dict[int, Alert]  # the alert store just before the kill
    after_kill: dict[int, Alert]  # read while nothing ran
    exit_code: int
    final: dict[str, WorkerStatus]
    replayed_at: int  # ns, after the spools emptied


@pytest.fixture(scope="module")
def act2(act1: Act1, install: Install, influxd: Any, secrets: dict[str, str]) -> Iterator[Act2]:
    with AlertStore(install.alerts_db) as store:
        by_title = {a.rule_title: a for a in store.list_alerts(limit=100_000)}
        store.transition(by_title["SSH Brute Force From One Source"].id, "ack", "analyst-1")
        store.transition(by_title["Port Scan Seen in Firewall Logs"].id, "close", "analyst-1",
                         "blocked at the edge")
        store.transition(by_title["Path Traversal Attempt on the Public-Service Portal"].id,
                         "false_positive", "analyst-2", "the yearly penetration test")
    spool = install.spool_root / INFLUX_SINK
    influxd.stop()
    run = NocsocRun(install, secrets, "act2")
    restart: NocsocRun | None = None
    sim: Scenario | None = None
    try:
        run.wait_running(WORKERS)
        sim = Scenario(load_inventory(act1.sim_inventory), SimulateConfig(
            seed=8, speed=SPEED, snmp=False, flows_to=f"127.0.0.1:{install.flows_port}",
            syslog_to=f"127.0.0.1:{install.syslog_port}",
            script=Script(router_login_failures=[RouterLoginFailures(
                target="dongxoai-core-02", source=OUTAGE_ATTACKER, at_s=20, count=8, interval_s=1.0)])))
        sim.start()

        def outage_alert() -> bool:
            with AlertStore(install.alerts_db) as store:
                return any(a.src_ip == OUTAGE_ATTACKER and a.count == 8 for a in store.list_alerts())

        def every_worker_spooled() -> bool:
            st = run.statuses()
            return all(n in st and st[n].sinks[INFLUX_SINK]["spooled"] > 0 for n in WORKERS)

        wait_until(outage_alert, timeout=60, interval=0.3, what="the outage attack's alert in the store")
        wait_until(every_worker_spooled, timeout=60, interval=0.3, what="every worker spooling")
        wait_until(lambda: any(ln.startswith("alert,") and OUTAGE_ATTACKER in ln
                               for ln in spooled_lines(spool)),
                   timeout=30, interval=0.3, what="the outage alert's point in the spool")
        wait_until(lambda: {ln.split(",", 1)[0] for ln in spooled_lines(spool)} >= SPOOL_MUST_HOLD,
                   timeout=30, interval=0.3, what=f"{sorted(SPOOL_MUST_HOLD)} points in the spool")
        with AlertStore(install.alerts_db) as store:
            before = {a.id: a for a in store.list_alerts(limit=100_000)}
        killed = run.kill9()
        sim.stop()
        spooled = spooled_lines(spool)
        main_lines = sum(len(p.read_text().splitlines()) for p in spool.glob("*.lp"))
        with AlertStore(install.alerts_db) as store:
            after_kill = {a.id: a for a in store.list_alerts(limit=100_000)}
        # restart while influxd is still down, then bring it back
        restart = NocsocRun(install, secrets, "act2-restart")
        restart.wait_running(WORKERS)
        influxd.start()

        def delivered() -> bool:
            st = restart.statuses()
            sinks = [st[n].sinks[INFLUX_SINK] for n in WORKERS]
            return (not list(spool.rglob("*.lp")) and sum(c["replayed"] for c in sinks) > 0
                    and all(c["spool_bytes"] == 0 for c in sinks))

        try:
            wait_until(delivered, timeout=60, interval=0.3, what="the spools replayed into influxd")
        except TimeoutError as exc:
            left = sorted(str(p.relative_to(spool)) for p in spool.rglob("*.lp"))
            raise AssertionError(f"{exc}: left {left}; statuses "
                                 f"{ {n: s.sinks for n, s in restart.statuses().items()} }") from None
        replayed_at = time.time_ns()
        restart.signal(signal.SIGTERM)
        code = restart.wait(30)
        yield Act2(spooled, main_lines, killed, before, after_kill, code, restart.statuses(), replayed_at)
    except BaseException:
        print("--- nocsoc run log (act 2) ---\n" + run.log_tail(), file=sys.stderr)
        if restart is not None:
            print("--- nocsoc run log (restart) ---\n" + restart.log_tail(), file=sys.stderr)
        raise
    finally:
        if sim is not None:
            sim.stop()
        run.stop()
        if restart is not None:
            restart.stop()
        if not influxd.running:
            influxd.start()


def test_kill9_restart_delivers_every_spooled_point_exactly_once(act2: Act2, influxd: Any) -> None:
    assert act2.exit_code == 0
    parsed = [parse_line(ln) for ln in act2.spooled]
    by_measurement: dict[str, dict[LineKey, dict[str, Any]]] = defaultdict(dict)
    for p in parsed:
        assert p.key not in by_measurement[p.key.measurement], f"spooled twice: {p.key}"
        by_measurement[p.key.measurement][p.key] = p.fields
    assert set(by_measurement) >= SPOOL_MUST_HOLD
    missing, differ = [], []
    for m, lines in by_measurement.items():
        t0 = min(k.time_ns for k in lines)
        t1 = max(k.time_ns for k in lines)
        stored = influx_lines(influxd, DB, m, t0, t1)
        for key, fields in lines.items():
            if key not in stored:
                missing.append(key)
            elif {k: v for k, v in stored[key].items() if k in fields} != fields:
                differ.append((key, fields, stored[key]))
    assert missing == [] and differ == []
    # exactly once: what the restarted sinks replayed is what the spool held at the kill (the
    # main directory's batches, loaded at start) plus what they spooled themselves (their own
    # batches while influxd was still down, and the adopted proc-* spools of the killed workers)
    replayed = sum(s.sinks[INFLUX_SINK]["replayed"] for s in act2.final.values())
    spooled = sum(s.sinks[INFLUX_SINK]["spooled"] for s in act2.final.values())
    assert replayed - spooled == act2.main_lines
    for name, s in act2.final.items():
        c = s.sinks[INFLUX_SINK]
        assert (c["spool_bytes"], c["spool_dropped"], c["rejected"], c["queue"]) == (0, 0, 0, 0), name


def test_kill9_restart_loses_no_alert_nor_triage_state(act1: Act1, act2: Act2, influxd: Any) -> None:
    assert len(act2.killed) == 1 + len(WORKERS)
    assert act2.after_kill.keys() == act2.before.keys()
    assert len(act2.before) == len(act1.alerts) + 1  # act 1's alerts and the outage's one
    for aid, a in act2.before.items():
        b = act2.after_kill[aid]
        assert (b.rule_title, b.state, b.count, b.src_ip) == (a.rule_title, a.state, a.count, a.src_ip)
    states = {a.rule_title: a.state for a in act2.after_kill.values()}
    assert states["SSH Brute Force From One Source"] == "acknowledged"
    assert states["Port Scan Seen in Firewall Logs"] == "closed"
    assert states["Path Traversal Attempt on the Public-Service Portal"] == "false_positive"
    with AlertStore(Path(act1.install.alerts_db)) as store:
        audit = {(e.action, e.who) for e in store.audit()}
        assert {("ack", "analyst-1"), ("close", "analyst-1"), ("false_positive", "analyst-2")} <= audit
        assert {a.id: a.state for a in store.list_alerts(limit=100_000)} == {
            aid: a.state for aid, a in act2.before.items()}
    (outage,) = [a for a in act2.after_kill.values() if a.src_ip == OUTAGE_ATTACKER]
    assert (outage.rule_title, outage.host, outage.count) == ("Failed Login on Network Device",
                                                              "dongxoai-core-02", 8)
    # its point, spooled while influxd was down, arrived after the restart
    got = rows(influxd, f"SELECT sum(\"count\") FROM alert WHERE src_ip = '{OUTAGE_ATTACKER}'")
    assert got and got[0]["sum"] == 8
