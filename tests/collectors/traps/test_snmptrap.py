"""The trap receiver against Debian's real `snmptrap` and `snmpinform` (net-snmp): v1, v2c and
v3 authPriv (SHA/AES-128) traps, informs, wrong credentials, unknown sources. Expected values are
what each test sends."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from nocsoc.collectors.traps.receiver import TrapReceiver
from nocsoc.detections.alerts import AlertStore
from nocsoc.inventory.model import Inventory
from nocsoc.schema import ALERT, INTERFACE, SNMP_TRAP
from nocsoc.sinks.memory import MemorySink
from tests.collectors.traps.conftest import (
    AUTH,
    COMMUNITY,
    ENGINE_ID,
    PRIV,
    UNKNOWN_SOURCE,
    Rig,
    inventory_data,
    traps_config,
)

LINK_DOWN, LINK_UP, COLD_START = "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.4", "1.3.6.1.6.3.1.1.5.1"
IF_INDEX, IF_ADMIN, IF_OPER, IF_NAME = ("1.3.6.1.2.1.2.2.1.1", "1.3.6.1.2.1.2.2.1.7", "1.3.6.1.2.1.2.2.1.8",
                                        "1.3.6.1.2.1.31.1.1.1.1")


def v2c(rig: Rig, community: str = COMMUNITY) -> list[str]:
    return ["-v", "2c", "-c", community, rig.target()]


def v3(rig: Rig, auth: str = AUTH, priv: str = PRIV, user: str = "trapuser",
       engine: str = ENGINE_ID) -> list[str]:
    return ["-v", "3", "-e", f"0x{engine}", "-u", user, "-l", "authPriv", "-a", "SHA", "-A", auth,
            "-x", "AES", "-X", priv, rig.target()]


def link_trap(oid: str, ifindex: int, admin: int, oper: int, name: str | None) -> list[str]:
    args = ["4200", oid, f"{IF_INDEX}.{ifindex}", "i", str(ifindex), f"{IF_ADMIN}.{ifindex}", "i",
            str(admin), f"{IF_OPER}.{ifindex}", "i", str(oper)]
    return args + ([f"{IF_NAME}.{ifindex}", "s", name] if name else [])


def test_v2c_linkdown_event_interface_status_and_alert(rig: Rig) -> None:
    rig.send(*v2c(rig), *link_trap(LINK_DOWN, 7, 1, 2, "Gi0/7"))
    rig.receiver.flush()
    [ev] = rig.events
    assert ev.to_dict() | {"time": 0} == {
        "time": 0, "source": "127.0.0.1", "device": "core-01", "site": "dc1", "version": "2c",
        "security_name": "community-1", "inform": False, "trap_oid": LINK_DOWN, "trap_name": "linkDown",
        "event": "link_down", "kind": "link", "severity": "medium", "uptime_s": 42.0, "ifindex": 7,
        "ifname": "Gi0/7", "oper_status": 2, "admin_status": 1, "entity": None, "value": None,
        "state": None, "peer": None, "message": "core-01: Interface down (linkDown) on Gi0/7",
        "varbinds": [[f"{IF_INDEX}.7", "Integer", 7], [f"{IF_ADMIN}.7", "Integer", 1],
                     [f"{IF_OPER}.7", "Integer", 2], [f"{IF_NAME}.7", "OctetString", "Gi0/7"]],
    }
    [trap] = rig.sink.of(SNMP_TRAP.name)
    assert trap.tags == {"device": "core-01", "site": "dc1", "role": "core", "event": "link_down",
                         "kind": "link", "severity": "medium", "version": "2c", "ifname": "Gi0/7"}
    assert {k: trap.fields[k] for k in ("count", "trap_oid", "trap_name", "source", "ifindex",
                                        "oper_status", "uptime_s")} == {
        "count": 1, "trap_oid": LINK_DOWN, "trap_name": "linkDown", "source": "127.0.0.1", "ifindex": 7,
        "oper_status": 2, "uptime_s": 42.0}
    # the interface's status at once, in the poller's series (ifname + the inventory link)
    [iface] = rig.sink.of(INTERFACE.name)
    assert iface.tags == {"device": "core-01", "site": "dc1", "role": "core", "ifname": "Gi0/7",
                          "link": "core-01--dist-01"}
    assert iface.fields == {"oper_status": 2, "admin_status": 1}
    [alert] = rig.store.list_alerts()
    got = (alert.rule_id, alert.level, alert.host, alert.group_key, alert.count, alert.state, alert.kind)
    assert got == (
        "snmp-trap-link-down", "medium", "core-01", "core-01|Gi0/7", 1, "new", "trap")
    assert alert.rule_title == "Interface down (linkDown)"
    [ap] = rig.sink.of(ALERT.name)
    assert ap.tags["rule_id"] == "snmp-trap-link-down" and ap.fields["alert_id"] == str(alert.id)


def test_repeated_linkdown_is_one_alert_and_linkup_raises_none(rig: Rig) -> None:
    for _ in range(3):
        rig.send(*v2c(rig), *link_trap(LINK_DOWN, 7, 1, 2, "Gi0/7"))
    rig.send(*v2c(rig), *link_trap(LINK_DOWN, 8, 1, 2, "Gi0/8"))
    rig.send(*v2c(rig), *link_trap(LINK_UP, 7, 1, 1, "Gi0/7"))
    rig.receiver.flush()
    alerts = sorted((a.group_key, a.count) for a in rig.store.list_alerts())
    assert alerts == [("core-01|Gi0/7", 3), ("core-01|Gi0/8", 1)]
    statuses = [(p.tags["ifname"], p.fields["oper_status"]) for p in rig.sink.of(INTERFACE.name)]
    assert statuses == [("Gi0/7", 2)] * 3 + [("Gi0/8", 2), ("Gi0/7", 1)]
    assert [e.event for e in rig.events] == ["link_down"] * 4 + ["link_up"]
    # each point its own nanosecond: same-series traps never overwrite each other
    times = [p.time_ns for p in rig.sink.of(SNMP_TRAP.name)]
    assert len(set(times)) == 5


def test_v1_trap_converted_and_community_never_kept(rig: Rig) -> None:
    # generic-trap 0 (coldStart) from enterprise netSnmpAgentOIDs.10, agent-addr 127.0.0.1
    rig.send("-v", "1", "-c", COMMUNITY, rig.target(), "1.3.6.1.4.1.8072.3.2.10", "127.0.0.1", "0", "0",
             "777")
    rig.receiver.flush()
    [ev] = rig.events
    assert (ev.event, ev.trap.version, ev.trap.trap_oid, ev.trap.uptime_s) == (
        "cold_start", "1", COLD_START, 7.77)
    assert ev.varbinds() == [["1.3.6.1.6.3.18.1.3.0", "IpAddress", "127.0.0.1"],
                             ["1.3.6.1.6.3.1.1.4.3.0", "ObjectIdentifier", "1.3.6.1.4.1.8072.3.2.10"]]
    everything = json.dumps([ev.to_dict(), [p.fields for p in rig.sink.points],
                             [a.to_dict() for a in rig.store.list_alerts()]], default=str)
    assert COMMUNITY not in everything
    [alert] = rig.store.list_alerts()
    assert (alert.rule_id, alert.level, alert.group_key) == ("snmp-trap-cold-start", "low", "core-01")


def test_v3_authpriv_unknown_trap_kept_with_its_varbinds(rig: Rig) -> None:
    rig.send(*v3(rig), "100", "1.3.6.1.4.1.99999.0.3", "1.3.6.1.4.1.99999.1.1.0", "s", "fan 2 failed",
             "1.3.6.1.4.1.99999.1.2.0", "i", "-5", "1.3.6.1.4.1.99999.1.3.0", "x", "00 1A 2B FF",
             source="127.0.0.2")
    rig.receiver.flush()
    [ev] = rig.events
    assert (ev.device_name, ev.trap.version, ev.trap.security_name, ev.event, ev.severity) == (
        "dist-01", "3", "trapuser", "unknown", "informational")
    assert ev.varbinds() == [["1.3.6.1.4.1.99999.1.1.0", "OctetString", "fan 2 failed"],
                             ["1.3.6.1.4.1.99999.1.2.0", "Integer", -5],
                             ["1.3.6.1.4.1.99999.1.3.0", "OctetString", "0x001a2bff"]]
    [p] = rig.sink.of(SNMP_TRAP.name)
    assert p.tags["event"] == "unknown" and p.tags["version"] == "3"
    assert json.loads(str(p.fields["varbinds"])) == ev.varbinds()
    assert rig.store.list_alerts() == []  # unknown traps are events, not alerts
    assert rig.receiver.counters.get("unknown_traps") == 1


def test_v2c_and_v3_informs_are_acknowledged(rig: Rig) -> None:
    # snmpinform waits for the response: check=True fails the test if none comes back
    rig.send(*v2c(rig), "5", LINK_UP, inform=True)
    rig.send("-v", "3", "-u", "trapuser", "-l", "authPriv", "-a", "SHA", "-A", AUTH, "-x", "AES", "-X", PRIV,
             rig.target(), "5", COLD_START, inform=True)
    assert [(e.trap.version, e.trap.inform, e.event) for e in rig.events] == [
        ("2c", True, "link_up"), ("3", True, "cold_start")]
    assert rig.receiver.counters.get("informs") == 2


@pytest.mark.parametrize(("args", "counter"), [
    (lambda r: v2c(r, community="not-the-community"), "bad_community"),
    (lambda r: v3(r, auth="wrong-auth-pass"), "wrong_digest"),
    (lambda r: v3(r, priv="wrong-priv-pass"), "decrypt_errors"),
    (lambda r: v3(r, user="nobody"), "unknown_user"),
    (lambda r: v3(r, engine="80000000010203bbbb"), "unknown_user"),  # right user, other sender engine
])
def test_wrong_credentials_are_counted_logged_once_and_the_receiver_keeps_running(
        rig: Rig, caplog: pytest.LogCaptureFixture, args: object, counter: str) -> None:
    caplog.set_level(logging.WARNING, logger="nocsoc.collectors.traps")
    for _ in range(3):
        rig.send(*args(rig), "1", COLD_START)  # type: ignore[operator]
    assert rig.receiver.counters.get(counter) == 3
    assert rig.events == []
    logged = [r for r in caplog.records if counter in r.getMessage()]
    assert len(logged) == 1 and "127.0.0.1" in logged[0].getMessage()
    for secret in (COMMUNITY, AUTH, PRIV):
        assert secret not in caplog.text
    rig.send(*v2c(rig), "1", COLD_START)  # a good trap right after is still received
    assert [e.event for e in rig.events] == ["cold_start"]


def test_unknown_source_is_dropped_before_decoding(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="nocsoc.collectors.traps")
    for _ in range(2):
        rig.send(*v2c(rig), "1", COLD_START, source=UNKNOWN_SOURCE)
    c = rig.receiver.counters.snapshot()
    assert (c["unknown_source"], c["traps"], c["received"]) == (2, 0, 2)
    assert len([r for r in caplog.records if UNKNOWN_SOURCE in r.getMessage()]) == 1


def test_inventory_reload_admits_a_new_source(rig: Rig) -> None:
    rig.send(*v2c(rig), "1", COLD_START, source=UNKNOWN_SOURCE)
    assert rig.events == []
    data = inventory_data([{"name": "new-01", "address": UNKNOWN_SOURCE, "role": "access", "site": "dc1",
                            "profile": "v2"}])
    rig.receiver.reload(Inventory.model_validate(data))
    rig.send(*v2c(rig), "1", COLD_START, source=UNKNOWN_SOURCE)
    assert [(e.device_name, e.event) for e in rig.events] == [("new-01", "cold_start")]


def test_accept_unknown_sources_names_the_device_by_address(trap_env: None, tmp_path: Path) -> None:
    sink, store = MemorySink(), AlertStore(tmp_path / "alerts.db")
    rig = Rig(TrapReceiver(traps_config(accept_unknown_sources=True), None, sink, base_dir=tmp_path,
                           store=store), sink, store, tmp_path / "snmp")
    rig.snmp_dir.mkdir()
    rig.receiver.on_event = rig.events.append
    rig.receiver.start()
    try:
        rig.send(*v2c(rig), *link_trap(LINK_DOWN, 3, 1, 2, "eth3"), source=UNKNOWN_SOURCE)
        rig.receiver.flush()
    finally:
        rig.receiver.stop()
        store.close()
    [ev] = rig.events
    assert (ev.device_name, ev.event, ev.ifname) == (UNKNOWN_SOURCE, "link_down", "eth3")
    [p] = sink.of(SNMP_TRAP.name)
    assert p.tags == {"device": UNKNOWN_SOURCE, "event": "link_down", "kind": "link", "severity": "medium",
                      "version": "2c", "ifname": "eth3"}
    assert sink.of(INTERFACE.name) == []  # no inventory device: no interface series is invented
