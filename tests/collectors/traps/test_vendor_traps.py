"""Vendor notifications named in the SNMP device profiles (`traps:` of each profile YAML), sent as
real v1, v2c and v3 traps with Debian's `snmptrap` to the receiver: the exact event (name, kind,
severity, the interface/component/reading read from the varbinds the profile names), the alert
it raises or not, a vendor link trap updating the interface status like linkDown. Expected
values are what each test sends; OIDs are the profiles' (each checked in its vendor's MIB)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from nocsoc.collectors.ifnames import InterfaceNames
from nocsoc.collectors.snmp.profiles import load_catalog
from nocsoc.collectors.traps.catalog import BUILTIN, TrapCatalog
from nocsoc.collectors.traps.receiver import TrapReceiver
from nocsoc.detections.alerts import AlertStore
from nocsoc.inventory.model import Inventory
from nocsoc.schema import INTERFACE, SNMP_TRAP
from nocsoc.sinks.memory import MemorySink
from tests.collectors.traps.conftest import COMMUNITY, Rig, inventory_data, traps_config
from tests.collectors.traps.test_snmptrap import IF_ADMIN, IF_INDEX, IF_NAME, IF_OPER, v2c, v3
from tests.servers.base import wait_until

IF_DESCR, IF_TYPE, ENT_NAME = "1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.2.2.1.3", "1.3.6.1.2.1.47.1.1.1.1.7"
KEYS = ("trap_name", "event", "kind", "severity", "ifindex", "ifname", "oper_status", "entity", "value",
        "state", "peer", "message")


def send(rig: Rig, *args: str, source: str | None = None) -> None:
    """One real trap, then wait until its event is complete (`on_event` runs after its points
    are queued) and flush the points and alerts."""
    before = len(rig.events)
    rig.send(*args, source=source)
    wait_until(lambda: len(rig.events) > before, timeout=30, what="the trap's event")
    rig.receiver.flush()


def got(rig: Rig) -> dict[str, Any]:
    """The last event, the parts a vendor entry decides."""
    d = rig.events[-1].to_dict()
    return {k: d[k] for k in KEYS}


def alerts(rig: Rig) -> list[tuple[str, str, str, int]]:
    return sorted((a.rule_id, a.level, a.group_key, a.count) for a in rig.store.list_alerts())


# ---- the entries as data -------------------------------------------------------------------------


def test_profile_traps_are_unique_valid_bilingual_and_cited() -> None:
    profiles = load_catalog()
    builtin = {e.oid for e in TrapCatalog.read(BUILTIN)}
    seen: dict[str, str] = {}
    vendors = set()
    for p in profiles.profiles.values():
        text = Path(p.source).read_text(encoding="utf-8")
        comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
        for e in p.traps:
            assert e.oid not in builtin, f"{p.name} {e.name}: {e.oid} is a built-in trap"
            assert e.oid not in seen, f"{e.oid} in {p.name} and {seen[e.oid]}"
            seen[e.oid] = p.name
            assert e.oid.split(".")[:6] == ["1", "3", "6", "1", "4", "1"], (p.name, e.name)  # enterprises
            assert e.title.en.strip() and e.title.vi.strip() and e.title.en != e.title.vi, (p.name, e.name)
            assert e.mib in comments, f"{p.name}: {e.mib} not cited in the file's comments"
            assert not e.alert or e.severity != "informational", (p.name, e.name)
            vendors.add(p.vendor)
    assert len(seen) >= 80
    assert vendors >= {"cisco", "huawei", "juniper", "fortinet", "mikrotik", "h3c", "apc", "eaton"}


def test_the_sender_vendor_wins_when_profiles_disagree(tmp_path: Path) -> None:
    user = tmp_path / "profiles"
    user.mkdir()
    (user / "acme.yaml").write_text(ACME)
    cat = TrapCatalog.load(profiles=load_catalog(user))
    oid = "1.3.6.1.4.1.2636.4.1.2"
    assert cat.lookup(oid).name == "jnxFanFailure"  # type: ignore[union-attr]  # shipped before the user's
    assert cat.lookup(oid, "acme").name == "acmeBlowerStopped"  # type: ignore[union-attr]
    assert cat.lookup(oid, "juniper").name == "jnxFanFailure"  # type: ignore[union-attr]
    # a site file re-grades a vendor trap for every sender
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump({"traps": [{"oid": oid, "name": "jnxFanFailure", "event": "fan_failure",
                                               "kind": "fan", "severity": "critical", "alert": True,
                                               "title": {"en": "Fan failure", "vi": "Quạt hỏng"}}]}))
    cat = TrapCatalog.load([site], profiles=load_catalog(user))
    assert [cat.lookup(oid, v).severity for v in ("", "acme")] == ["critical", "critical"]  # type: ignore[union-attr]


ACME = """\
# Acme blowers (a user's profile re-using a Juniper arc): ACME-MIB acmeBlowerStopped.
name: acme
vendor: acme
mibs: [ACME-MIB]
match:
  - sys_object_id: 1.3.6.1.4.1.99999
traps:
  - oid: .1.3.6.1.4.1.2636.4.1.2
    name: acmeBlowerStopped
    mib: ACME-MIB
    event: blower_stopped
    kind: fan
    severity: medium
    alert: true
    title: {en: "Blower stopped", vi: "Quạt thổi dừng"}
"""


# ---- real traps ----------------------------------------------------------------------------------


def test_cisco_cielinkdown_updates_the_interface_like_linkdown(rig: Rig) -> None:
    send(rig, *v2c(rig), "4200", "1.3.6.1.4.1.9.9.276.0.1", f"{IF_INDEX}.7", "i", "7", f"{IF_ADMIN}.7", "i",
             "1", f"{IF_OPER}.7", "i", "2", f"{IF_NAME}.7", "s", "Gi0/7", f"{IF_TYPE}.7", "i", "6")
    assert got(rig) == {
        "trap_name": "cieLinkDown", "event": "link_down", "kind": "link", "severity": "medium", "ifindex": 7,
        "ifname": "Gi0/7", "oper_status": 2, "entity": None, "value": None, "state": None, "peer": None,
        "message": "core-01: Interface down (cieLinkDown) on Gi0/7"}
    [iface] = rig.sink.of(INTERFACE.name)
    assert (iface.tags["ifname"], iface.tags["link"], iface.fields) == (
        "Gi0/7", "core-01--dist-01", {"oper_status": 2, "admin_status": 1})
    assert alerts(rig) == [("snmp-trap-link-down", "medium", "core-01|Gi0/7", 1)]
    send(rig, *v2c(rig), "4300", "1.3.6.1.4.1.9.9.276.0.2", f"{IF_INDEX}.7", "i", "7", f"{IF_ADMIN}.7", "i",
             "1", f"{IF_OPER}.7", "i", "1", f"{IF_NAME}.7", "s", "Gi0/7", f"{IF_TYPE}.7", "i", "6")
    assert (got(rig)["event"], [p.fields["oper_status"] for p in rig.sink.of(INTERFACE.name)]) == (
        "link_up", [2, 1])
    assert alerts(rig) == [("snmp-trap-link-down", "medium", "core-01|Gi0/7", 1)]  # linkUp raises none


def test_cisco_envmon_supply_state_change_and_its_recovery(rig: Rig) -> None:
    descr, state = "1.3.6.1.4.1.9.9.13.1.5.1.2.2", "1.3.6.1.4.1.9.9.13.1.5.1.3.2"
    send(rig, *v2c(rig), "1", "1.3.6.1.4.1.9.9.13.3.0.9", descr, "s", "Power Supply 2", state, "i", "3")
    assert got(rig) == {
        "trap_name": "ciscoEnvMonSuppStatusChangeNotif", "event": "power_supply_status", "kind": "power",
        "severity": "high", "ifindex": None, "ifname": None, "oper_status": None,
        "entity": "Power Supply 2", "value": None, "state": 3, "peer": None,
        "message": "core-01: Power supply state changed on Power Supply 2"}
    # state normal(1): the same notification now says the supply recovered: no alert, informational
    send(rig, *v2c(rig), "2", "1.3.6.1.4.1.9.9.13.3.0.9", descr, "s", "Power Supply 2", state, "i", "1")
    assert (got(rig)["severity"], got(rig)["state"]) == ("informational", 1)
    assert alerts(rig) == [("snmp-trap-power-supply-status", "high", "core-01|Power Supply 2", 1)]
    assert [p.tags["severity"] for p in rig.sink.of(SNMP_TRAP.name)] == ["high", "informational"]


def test_cisco_entity_sensor_threshold_names_the_sensor_by_its_index(rig: Rig) -> None:
    send(rig, *v2c(rig), "1", "1.3.6.1.4.1.9.9.91.2.0.1", "1.3.6.1.4.1.9.9.91.1.2.1.1.4.1003.2", "i", "-40",
             "1.3.6.1.4.1.9.9.91.1.1.1.1.4.1003", "i", "-52")
    assert got(rig) == {
        "trap_name": "entSensorThresholdNotification", "event": "sensor_threshold", "kind": "hardware",
        "severity": "high", "ifindex": None, "ifname": None, "oper_status": None, "entity": "entity 1003",
        "value": -52.0, "state": None, "peer": None,
        "message": "core-01: Sensor crossed a threshold on entity 1003, value -52"}
    [p] = rig.sink.of(SNMP_TRAP.name)
    assert (p.tags["kind"], p.fields["entity"], p.fields["value"]) == ("hardware", "entity 1003", -52.0)
    assert alerts(rig) == [("snmp-trap-sensor-threshold", "high", "core-01|entity 1003", 1)]


def test_huawei_power_supply_failure(rig: Rig) -> None:
    send(rig, *v2c(rig), "1", "1.3.6.1.4.1.2011.5.25.219.2.5.3", "1.3.6.1.4.1.2011.5.25.219.1.1.0", "i",
             "67633152", f"{ENT_NAME}.67633152", "s", "PWR2", "1.3.6.1.4.1.2011.5.25.219.1.3.0", "i",
             "136966")
    assert got(rig) == {
        "trap_name": "hwPowerFail", "event": "power_supply_failure", "kind": "power", "severity": "critical",
        "ifindex": None, "ifname": None, "oper_status": None, "entity": "PWR2", "value": None,
        "state": 136966, "peer": None, "message": "core-01: Power supply failure on PWR2"}
    assert alerts(rig) == [("snmp-trap-power-supply-failure", "critical", "core-01|PWR2", 1)]


def test_juniper_fan_failure_and_dom_alarm_on_the_polled_interface(rig: Rig) -> None:
    send(rig, *v2c(rig), "1", "1.3.6.1.4.1.2636.4.1.2", "1.3.6.1.4.1.2636.3.1.8.1.6.4.1.2.0", "s",
             "Fan Tray 0 Fan 1", "1.3.6.1.4.1.2636.3.1.13.1.6.4.1.2.0", "i", "6")
    assert got(rig) == {
        "trap_name": "jnxFanFailure", "event": "fan_failure", "kind": "fan", "severity": "high",
        "ifindex": None, "ifname": None, "oper_status": None, "entity": "Fan Tray 0 Fan 1", "value": None,
        "state": 6, "peer": None, "message": "core-01: Fan failure on Fan Tray 0 Fan 1"}
    # JUNIPER-DOM-MIB: the port is ifDescr's instance; its name comes from the poller's table
    names = InterfaceNames()
    names.update("core-01", {523: "xe-0/0/3"})
    rig.receiver.resolver.ifnames = names
    send(rig, *v2c(rig), "2", "1.3.6.1.4.1.2636.4.18.0.1", f"{IF_DESCR}.523", "s", "xe-0/0/3",
             "1.3.6.1.4.1.2636.3.60.1.1.1.1.2.523", "x", "00 00 00 00",
             "1.3.6.1.4.1.2636.3.60.1.1.1.1.1.523", "x", "00 00 40 00")
    assert got(rig) == {
        "trap_name": "jnxDomAlarmSet", "event": "optics_alarm", "kind": "optics", "severity": "high",
        "ifindex": 523, "ifname": "xe-0/0/3", "oper_status": None, "entity": None, "value": None,
        "state": None, "peer": None, "message": "core-01: Optics alarm (DOM) on xe-0/0/3"}
    assert rig.sink.of(INTERFACE.name) == []  # an optics alarm says nothing of the link's state
    assert alerts(rig) == [("snmp-trap-fan-failure", "high", "core-01|Fan Tray 0 Fan 1", 1),
                           ("snmp-trap-optics-alarm", "high", "core-01|xe-0/0/3", 1)]


def test_fortigate_vpn_down_as_v3_authpriv(rig: Rig) -> None:
    send(rig, *v3(rig), "1", "1.3.6.1.4.1.12356.101.2.0.302", "1.3.6.1.2.1.1.5.0", "s", "fgt-dc1",
             "1.3.6.1.4.1.12356.101.12.3.2.0", "a", "192.0.2.1", "1.3.6.1.4.1.12356.101.12.3.3.0", "a",
             "198.51.100.7", "1.3.6.1.4.1.12356.101.12.3.4.0", "s", "to-branch-7", source="127.0.0.2")
    ev = rig.events[-1]
    assert (ev.trap.version, ev.trap.security_name, ev.device_name) == ("3", "trapuser", "dist-01")
    assert got(rig) == {
        "trap_name": "fgTrapVpnTunDown", "event": "vpn_down", "kind": "vpn", "severity": "high",
        "ifindex": None, "ifname": None, "oper_status": None, "entity": "to-branch-7", "value": None,
        "state": None, "peer": "198.51.100.7",
        "message": "dist-01: VPN tunnel down on to-branch-7, peer 198.51.100.7"}
    assert alerts(rig) == [("snmp-trap-vpn-down", "high", "dist-01|to-branch-7", 1)]


def test_apc_on_battery_as_v1_maps_through_rfc3584(rig: Rig) -> None:
    # PowerNet-MIB upsOnBattery TRAP-TYPE ENTERPRISE apc ::= 5 -> snmpTrapOID 1.3.6.1.4.1.318.0.5
    send(rig, "-v", "1", "-c", COMMUNITY, rig.target(), "1.3.6.1.4.1.318", "127.0.0.1", "6", "5", "100")
    assert rig.events[-1].trap.trap_oid == "1.3.6.1.4.1.318.0.5"
    assert got(rig) == {
        "trap_name": "upsOnBattery", "event": "ups_on_battery", "kind": "ups", "severity": "high",
        "ifindex": None, "ifname": None, "oper_status": None, "entity": None, "value": None,
        "state": None, "peer": None, "message": "core-01: UPS on battery"}
    assert alerts(rig) == [("snmp-trap-ups-on-battery", "high", "core-01", 1)]


def test_eaton_ambient_temperature_reading(rig: Rig) -> None:
    send(rig, *v2c(rig), "1", "1.3.6.1.4.1.534.1.11.4.1.0.29", "1.3.6.1.4.1.534.1.6.1.0", "i", "41")
    assert got(rig)["event"] == "ups_ambient_temperature"
    assert (got(rig)["value"], got(rig)["message"]) == (
        41.0, "core-01: UPS ambient temperature out of range, value 41")


def test_h3c_temperature_threshold_and_mikrotik_exception(rig: Rig) -> None:
    send(rig, *v2c(rig), "1", "1.3.6.1.4.1.25506.2.6.2.0.1", "1.3.6.1.4.1.25506.2.6.1.1.1.1.1.212", "i",
             "212", "1.3.6.1.4.1.25506.2.6.1.1.1.1.12.212", "i", "71")
    assert got(rig) == {
        "trap_name": "hh3cEntityExtTemperatureThresholdNotification", "event": "temperature_alarm",
        "kind": "temperature", "severity": "high", "ifindex": None, "ifname": None, "oper_status": None,
        "entity": "entity 212", "value": 71.0, "state": None, "peer": None,
        "message": "core-01: Temperature out of range on entity 212, value 71"}
    send(rig, *v2c(rig), "2", "1.3.6.1.4.1.14988.1.1.9.0.2")
    assert (got(rig)["trap_name"], got(rig)["event"], got(rig)["kind"]) == (
        "mtxrTemperatureException", "temperature_alarm", "temperature")
    assert alerts(rig) == [("snmp-trap-temperature-alarm", "high", "core-01", 1),
                           ("snmp-trap-temperature-alarm", "high", "core-01|entity 212", 1)]


def test_a_user_profile_trap_for_the_sender_vendor(trap_env: None, tmp_path: Path) -> None:
    """`snmp.profiles_dir`'s profiles join the catalogue at start(); the sender's vendor decides
    between two meanings of one OID."""
    user = tmp_path / "profiles"
    user.mkdir()
    (user / "acme.yaml").write_text(ACME)
    inv = Inventory.model_validate(inventory_data([{"name": "acme-01", "address": "127.0.0.3",
                                                    "role": "access", "site": "dc1", "profile": "v2",
                                                    "vendor": "acme"}]))
    sink, store = MemorySink(), AlertStore(tmp_path / "alerts.db")
    rig = Rig(TrapReceiver(traps_config(), inv, sink, base_dir=tmp_path, store=store, profiles_dir=user),
              sink, store, tmp_path / "snmp")
    rig.snmp_dir.mkdir()
    rig.receiver.on_event = rig.events.append
    rig.receiver.start()
    try:
        for source in ("127.0.0.3", "127.0.0.1"):
            send(rig, *v2c(rig), "1", "1.3.6.1.4.1.2636.4.1.2", source=source)
        rig.receiver.flush()
    finally:
        rig.receiver.stop()
        store.close()
    assert [(e.device_name, e.event, e.severity) for e in rig.events] == [
        ("acme-01", "blower_stopped", "medium"), ("core-01", "fan_failure", "high")]


def test_a_broken_user_profile_trap_is_a_start_error_naming_the_file(trap_env: None, tmp_path: Path) -> None:
    user = tmp_path / "profiles"
    user.mkdir()
    (user / "acme.yaml").write_text(ACME.replace(".1.3.6.1.4.1.2636.4.1.2", "fan-oid"))
    receiver = TrapReceiver(traps_config(), None, None, base_dir=tmp_path, profiles_dir=user)
    with pytest.raises(Exception, match=r"acme\.yaml:8: traps\[0\]\.oid") as err:
        receiver.start()
    assert "not a numeric OID" in str(err.value)
    receiver.stop()
