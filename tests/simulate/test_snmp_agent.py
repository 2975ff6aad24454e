"""The simulated SNMP agents, queried with net-snmp's tools and with pysnmp, as a poller would."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator

import pytest
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    get_cmd,
    usmAesCfb128Protocol,
    usmHMAC192SHA256AuthProtocol,
)

from nocsoc.inventory.model import SnmpProfile
from nocsoc.simulate.events import LinkFlap, OpticsDegrade, Reboot, Script
from nocsoc.simulate.scenario import Scenario, SimulateConfig
from tests.servers.base import free_port, require_binary, wait_until
from tests.simulate.conftest import COMMUNITY, COMMUNITY_ENV, small_inventory

SPEED = 60.0
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
IF_OPER = "1.3.6.1.2.1.2.2.1.8"
IF_HC_IN = "1.3.6.1.2.1.31.1.1.1.6"
V3_ENV = {"NOCSOC_TEST_SIM_AUTH": "auth-secret-42", "NOCSOC_TEST_SIM_PRIV": "priv-secret-42"}
V3_PROFILE = SnmpProfile(
    name="lab-v3",
    version="3",
    user="nocsoc",
    auth_protocol="SHA-256",
    auth_password="env:NOCSOC_TEST_SIM_AUTH",
    priv_protocol="AES-128",
    priv_password="env:NOCSOC_TEST_SIM_PRIV",
)
V3_ARGS = [
    "-v3",
    "-l",
    "authPriv",
    "-u",
    "nocsoc",
    "-a",
    "SHA-256",
    "-A",
    V3_ENV["NOCSOC_TEST_SIM_AUTH"],
    "-x",
    "AES",
    "-X",
    V3_ENV["NOCSOC_TEST_SIM_PRIV"],
]
# Simulated seconds; at x60 each simulated minute is one real second.
SCRIPT = Script(
    link_flaps=[LinkFlap(link="core-02--dist-dongphu", at_s=240, down_s=300)],  # real 4 s .. 9 s
    optics=[OpticsDegrade(device="dist-dongphu", interface="Te0/0/0", at_s=0, ramp_s=300)],  # real 0..5 s
)


@pytest.fixture(scope="module")
def lab_running() -> Iterator[Scenario]:
    env = {COMMUNITY_ENV: COMMUNITY, **V3_ENV}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    port = free_port()
    inv = small_inventory(port)
    inv.snmp_profiles.append(V3_PROFILE.model_copy(update={"port": port}))
    inv.devices[1] = inv.devices[1].model_copy(update={"profile": "lab-v3"})  # core-02 speaks v3
    sc = Scenario(inv, SimulateConfig(seed=11, speed=SPEED, flows_to=None, syslog_to=None, script=SCRIPT))
    sc.start()
    try:
        yield sc
    finally:
        sc.stop()
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _addr(sc: Scenario, device: str) -> str:
    return f"{sc.lab.topo.device(device).device.address}:{sc.pool.specs[0].port}"  # type: ignore[union-attr]


def _net_snmp(tool: str, sc: Scenario, device: str, *oids: str, extra: tuple[str, ...] = ()) -> str:
    binary = require_binary(tool, "snmp")
    out = subprocess.run(
        [binary, "-v2c", "-c", COMMUNITY, "-On", "-t", "1", "-r", "0", *extra, _addr(sc, device), *oids],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return out.stdout + out.stderr


def _values(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if " = " in line:
            k, v = line.split(" = ", 1)
            out[k.lstrip(".")] = v
    return out


async def _pysnmp_get(host: str, port: int, *oids: str, v3: bool = False) -> list[int]:
    """One GET as nocsoc's poller does it (pysnmp, numeric OIDs, v2c or v3 authPriv)."""
    engine = SnmpEngine()
    auth: CommunityData | UsmUserData = CommunityData(COMMUNITY)
    if v3:
        auth = UsmUserData(
            "nocsoc",
            V3_ENV["NOCSOC_TEST_SIM_AUTH"],
            V3_ENV["NOCSOC_TEST_SIM_PRIV"],
            authProtocol=usmHMAC192SHA256AuthProtocol,
            privProtocol=usmAesCfb128Protocol,
        )
    try:
        err, status, _, vbs = await get_cmd(
            engine,
            auth,
            # retried: a loaded machine may miss one
            await UdpTransportTarget.create((host, port), timeout=1, retries=2),
            ContextData(),
            *[ObjectType(ObjectIdentity(o)) for o in oids],
            lookupMib=False,
        )
        assert err is None and int(status) == 0, (err, status)
        return [int(v) for _, v in vbs]
    finally:
        engine.close_dispatcher()


def test_bulkwalk_serves_every_interface_and_column(lab_running: Scenario) -> None:
    dev = lab_running.lab.topo.device("core-01")
    names = _values(
        _net_snmp("snmpbulkwalk", lab_running, "core-01", "1.3.6.1.2.1.31.1.1.1.1", extra=("-Cr50",))
    )
    assert sorted(v.split('"')[1] for v in names.values()) == sorted(i.name for i in dev.interfaces)
    walk = _net_snmp("snmpbulkwalk", lab_running, "core-01", "1.3.6.1.2.1.1", extra=("-Cr25",))
    system = _values(walk)
    assert system["1.3.6.1.2.1.1.5.0"] == 'STRING: "core-01"'
    assert system["1.3.6.1.2.1.1.2.0"] == "OID: .1.3.6.1.4.1.9.1.2571"
    assert "Cisco IOS XE" in system["1.3.6.1.2.1.1.1.0"]
    # a whole-agent bulk walk ends cleanly (endOfMibView) and equals a GETNEXT walk on static columns
    full = _values(_net_snmp("snmpbulkwalk", lab_running, "core-01", ".1", extra=("-Cr40",)))
    assert len(full) == len(lab_running.pool.agents[0].mib)  # type: ignore[union-attr]
    slow = _values(_net_snmp("snmpwalk", lab_running, "core-01", "1.3.6.1.2.1.31.1.1.1.18"))
    assert slow == {k: v for k, v in full.items() if k.startswith("1.3.6.1.2.1.31.1.1.1.18.")}


def test_getbulk_reply_carries_all_repetitions(lab_running: Scenario) -> None:
    out = _net_snmp(
        "snmpbulkget",
        lab_running,
        "srv-portal-01",
        "1.3.6.1.2.1.2.2.1.2",
        "1.3.6.1.2.1.2.2.1.10",
        extra=("-Cn0", "-Cr30"),
    )
    lines = [ln for ln in out.splitlines() if " = " in ln]
    assert len(lines) == 60  # 30 repetitions x 2 columns in one reply, running on past the table's end
    assert lines[:4] == [
        '.1.3.6.1.2.1.2.2.1.2.1 = STRING: "ens1"',
        lines[1],
        '.1.3.6.1.2.1.2.2.1.2.2 = STRING: "eth0"',
        lines[3],
    ]


def test_missing_objects_and_wrong_community(lab_running: Scenario) -> None:
    out = _net_snmp(
        "snmpget", lab_running, "core-01", "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.3.1", "1.3.6.1.2.1.1.99.0"
    )
    assert "No Such Instance" in out and "No Such Object" in out and '"core-01"' in out
    before = lab_running.pool.counters.get("dropped_community")  # type: ignore[union-attr]
    binary = require_binary("snmpget", "snmp")
    bad = subprocess.run(
        [binary, "-v2c", "-c", "wrong", "-t", "0.5", "-r", "0", _addr(lab_running, "core-01"), SYS_UPTIME],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert "Timeout" in bad.stderr + bad.stdout
    assert lab_running.pool.counters.get("dropped_community") == before + 1  # type: ignore[union-attr]


def test_counter_growth_matches_the_simulated_rate(lab_running: Scenario) -> None:
    """bps from ifHCInOctets delta / sysUpTime delta equals the model's exact integral."""
    sc = lab_running
    iface = sc.lab.topo.device("core-01").interface("Te0/0/0/0")
    host, port = sc.lab.topo.device("core-01").device.address, sc.pool.specs[0].port  # type: ignore[union-attr]
    oid = f"{IF_HC_IN}.{iface.if_index}"
    up0, oct0 = asyncio.run(_pysnmp_get(host, port, SYS_UPTIME, oid))
    time.sleep(2.0)  # the interval itself is what is measured; nothing to await
    up1, oct1 = asyncio.run(_pysnmp_get(host, port, SYS_UPTIME, oid))
    assert oct0 > 2**32  # a long-running device: 64-bit counters past the 32-bit range
    boot = sc.lab.boot_time("core-01", time.time())
    t0, t1 = boot + up0 / 100, boot + up1 / 100
    expected_in, _ = sc.lab.traffic.expected_octets(iface, t0, t1)
    measured_bps = (oct1 - oct0) * 8 / ((up1 - up0) / 100)
    expected_bps = expected_in * 8 / (t1 - t0)
    assert measured_bps == pytest.approx(expected_bps, rel=0.01)
    assert expected_bps > 1e8  # a 10G core link carries hundreds of Mbit/s in office hours


def test_link_flap_is_seen_on_both_ends(lab_running: Scenario) -> None:
    sc = lab_running
    a = sc.lab.topo.device("core-02").interface("Te0/0/0/1")
    b = sc.lab.topo.device("dist-dongphu").interface("Te0/0/1")
    oper_b = f"{IF_OPER}.{b.if_index}"

    def status() -> str:
        return _values(_net_snmp("snmpget", sc, "dist-dongphu", oper_b))[oper_b]

    wait_until(lambda: status() == "INTEGER: 2", timeout=15, what="dist-dongphu Te0/0/1 down")
    k = sc.lab.clock.tick_index()
    assert sc.lab.timeline.interface_down("core-02", a.name, k)
    wait_until(lambda: status() == "INTEGER: 1", timeout=15, what="dist-dongphu Te0/0/1 up again")
    manifest = sc.manifest()["events"]["link_flaps"][0]
    assert manifest["interfaces"] == ["core-02:Te0/0/0/1", "dist-dongphu:Te0/0/1"]
    assert time.time() >= manifest["up_at"]


@pytest.mark.parametrize("version", ["2c", "3"])
def test_reboot_resets_uptime_and_counters(
    community_env: str, version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in V3_ENV.items():
        monkeypatch.setenv(k, v)
    port = free_port()
    inv = small_inventory(port)
    if version == "3":
        inv.snmp_profiles.append(V3_PROFILE.model_copy(update={"port": port}))
        inv.devices[-1] = inv.devices[-1].model_copy(update={"profile": "lab-v3"})
    script = Script(reboots=[Reboot(device="acc-dongphu-01", at_s=300, down_s=120)])  # real 5 s .. 7 s
    sc = Scenario(inv, SimulateConfig(seed=5, speed=SPEED, flows_to=None, syslog_to=None, script=script))
    sc.start()
    auth = V3_ARGS if version == "3" else ["-v2c", "-c", COMMUNITY]
    try:
        host = sc.lab.topo.device("acc-dongphu-01").device.address
        oid = f"{IF_HC_IN}.1"
        reboot = sc.manifest()["events"]["reboots"][0]
        v3 = version == "3"
        up_before, oct_before = asyncio.run(_pysnmp_get(host, port, SYS_UPTIME, oid, v3=v3))
        assert time.time() < reboot["down_at"]
        assert up_before > 86400 * 100 * 3 and oct_before > 10**9  # up for days before the reboot
        wait_until(lambda: time.time() > reboot["down_at"] + 0.2, timeout=15, what="reboot start")
        silent = subprocess.run(
            [require_binary("snmpget", "snmp"), *auth, "-t", "0.5", "-r", "0", f"{host}:{port}", SYS_UPTIME],
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert "Timeout" in silent.stdout + silent.stderr  # a rebooting device does not answer
        wait_until(lambda: time.time() > reboot["boot_at"] + 0.3, timeout=15, what="boot")
        asked = time.time()
        up_after, oct_after = asyncio.run(_pysnmp_get(host, port, SYS_UPTIME, oid, v3=v3))
        answered = time.time()
        # sysUpTime went backwards: hundredths of a second since the boot, the real time between
        # the boot and the answer (an SNMPv3 GET can take seconds on a loaded machine)
        assert up_after < up_before
        assert (asked - reboot["boot_at"]) * 100 - 1 <= up_after <= (answered - reboot["boot_at"]) * 100 + 1
        assert oct_after < oct_before and oct_after < 10**9  # counters restarted from zero
        assert sc.pool.counters.get("dropped_down") >= 1  # type: ignore[union-attr]
    finally:
        sc.stop()


def test_optics_sensor_degrades_and_maps_to_its_interface(lab_running: Scenario) -> None:
    sc = lab_running
    iface = sc.lab.topo.device("dist-dongphu").interface("Te0/0/0")
    port_ent = 1000 * iface.if_index
    rx_ent = port_ent + 2
    alias = _values(_net_snmp("snmpget", sc, "dist-dongphu", f"1.3.6.1.2.1.47.1.3.2.1.2.{port_ent}.0"))
    assert list(alias.values()) == [f"OID: .1.3.6.1.2.1.2.2.1.1.{iface.if_index}"]
    ent = _values(
        _net_snmp(
            "snmpget",
            sc,
            "dist-dongphu",
            f"1.3.6.1.2.1.47.1.1.1.1.4.{rx_ent}",
            f"1.3.6.1.2.1.47.1.1.1.1.4.{port_ent + 1}",
            f"1.3.6.1.2.1.47.1.1.1.1.7.{rx_ent}",
            f"1.3.6.1.2.1.99.1.1.1.1.{rx_ent}",
            f"1.3.6.1.2.1.99.1.1.1.2.{rx_ent}",
            f"1.3.6.1.2.1.99.1.1.1.3.{rx_ent}",
        )
    )
    assert list(ent.values()) == [
        f"INTEGER: {port_ent + 1}",
        f"INTEGER: {port_ent}",
        'STRING: "Te0/0/0 Receive Power Sensor"',
        "INTEGER: 14",
        "INTEGER: 9",
        "INTEGER: 1",
    ]
    value_oid = f"1.3.6.1.2.1.99.1.1.1.4.{rx_ent}"

    def rx_dbm() -> float:
        return int(_values(_net_snmp("snmpget", sc, "dist-dongphu", value_oid))[value_oid].split()[-1]) / 10

    crossing = sc.manifest()["events"]["optics"][0]["crosses_threshold_at"]
    wait_until(lambda: time.time() > crossing + 0.5, timeout=15, what="optics threshold crossing")
    assert rx_dbm() < -20.0
    healthy = sc.lab.topo.device("core-01").interface("Te0/0/0/0")
    oid = f"1.3.6.1.2.1.99.1.1.1.4.{1000 * healthy.if_index + 2}"
    assert -7.5 <= int(_values(_net_snmp("snmpget", sc, "core-01", oid))[oid].split()[-1]) / 10 <= -2.5


def test_ups_host_and_lldp_tables(lab_running: Scenario) -> None:
    sc = lab_running
    ups = _values(
        _net_snmp(
            "snmpget",
            sc,
            "ups-01",
            "1.3.6.1.2.1.33.1.2.1.0",
            "1.3.6.1.2.1.33.1.4.4.1.5.1",
            "1.3.6.1.2.1.33.1.2.4.0",
        )
    )
    status, load, charge = (int(v.split()[-1]) for v in ups.values())
    assert (status, charge) == (2, 100) and 30 <= load <= 55
    la = _values(
        _net_snmp(
            "snmpget",
            sc,
            "srv-db-01",
            "1.3.6.1.4.1.2021.10.1.3.1",
            "1.3.6.1.2.1.25.2.3.1.3.31",
            "1.3.6.1.4.1.2021.4.5.0",
        )
    )
    assert list(la.values())[1] == 'STRING: "/"' and int(list(la.values())[2].split()[-1]) == 64 * 1024 * 1024
    lldp = _values(_net_snmp("snmpbulkwalk", sc, "core-01", "1.0.8802.1.1.2.1.4.1.1.9", extra=("-Cr20",)))
    assert sorted(v.split('"')[1] for v in lldp.values()) == ["core-02", "dist-dongphu", "fw-01"]
    port = _values(_net_snmp("snmpget", sc, "core-01", "1.0.8802.1.1.2.1.4.1.1.7.0.1.1"))
    assert list(port.values()) == ['STRING: "Te0/0/0/0"']  # core-02's port on the core-01--core-02 link


def test_snmpv3_authpriv_device(lab_running: Scenario) -> None:
    binary = require_binary("snmpget", "snmp")
    target = _addr(lab_running, "core-02")
    base = [
        binary,
        "-v3",
        "-l",
        "authPriv",
        "-u",
        "nocsoc",
        "-a",
        "SHA-256",
        "-x",
        "AES",
        "-On",
        "-t",
        "1",
        "-r",
        "0",
    ]
    ok = subprocess.run(
        [
            *base,
            "-A",
            V3_ENV["NOCSOC_TEST_SIM_AUTH"],
            "-X",
            V3_ENV["NOCSOC_TEST_SIM_PRIV"],
            target,
            "1.3.6.1.2.1.1.5.0",
        ],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert ok.stdout.strip() == '.1.3.6.1.2.1.1.5.0 = STRING: "core-02"', ok.stderr
    bad = subprocess.run(
        [*base, "-A", "not-the-password", "-X", V3_ENV["NOCSOC_TEST_SIM_PRIV"], target, "1.3.6.1.2.1.1.5.0"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert bad.returncode != 0 and "core-02" not in bad.stdout
    v2 = subprocess.run(
        [binary, "-v2c", "-c", COMMUNITY, "-t", "0.5", "-r", "0", target, SYS_UPTIME],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert "Timeout" in v2.stdout + v2.stderr  # a v3 device does not answer v2c
