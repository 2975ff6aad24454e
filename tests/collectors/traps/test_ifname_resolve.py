"""A linkDown that carries only ifIndex (as net-snmp and most switches send it): the receiver asks
the device for ifName/ifAlias with its inventory profile (Debian's real snmpd here, which serves
this machine's interfaces) and writes the interface status under that name."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from nocsoc.collectors.traps.receiver import TrapReceiver
from nocsoc.detections.alerts import AlertStore
from nocsoc.inventory.model import Inventory
from nocsoc.schema import INTERFACE
from nocsoc.sinks.memory import MemorySink
from tests.collectors.traps.conftest import COMMUNITY, Rig, inventory_data, traps_config
from tests.collectors.traps.test_snmptrap import LINK_DOWN, link_trap, v2c
from tests.servers.snmp import Snmpd, start_snmpd


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpd]:
    a = start_snmpd(tmp_path_factory.mktemp("snmpd"))
    yield a
    a.stop()


def _rig(tmp_path: Path, agent: Snmpd, monkeypatch: pytest.MonkeyPatch, **over: object) -> Rig:
    monkeypatch.setenv("NOCSOC_TEST_SNMPD_COMMUNITY", "public")
    data = inventory_data([{"name": "srv-01", "address": agent.addresses[0], "role": "server",
                            "site": "dc1", "profile": "snmpd", "snmp_port": agent.port}])
    data["snmp_profiles"].append({"name": "snmpd", "version": "2c",
                                  "community": "env:NOCSOC_TEST_SNMPD_COMMUNITY"})
    sink, store = MemorySink(), AlertStore(tmp_path / "alerts.db")
    rig = Rig(TrapReceiver(traps_config(**over), Inventory.model_validate(data), sink, base_dir=tmp_path,
                           store=store), sink, store, tmp_path / "snmp")
    rig.snmp_dir.mkdir()
    rig.receiver.on_event = rig.events.append
    rig.receiver.start()
    return rig


def test_linkdown_without_ifname_is_named_by_asking_the_device(
        trap_env: None, tmp_path: Path, agent: Snmpd, monkeypatch: pytest.MonkeyPatch) -> None:
    # ground truth: ifIndex 1 of this machine is the loopback interface (socket.if_nameindex)
    lo = dict(socket.if_nameindex())[1]
    rig = _rig(tmp_path, agent, monkeypatch)
    try:
        rig.send(*v2c(rig), *link_trap(LINK_DOWN, 1, 1, 2, None), source=agent.addresses[0])
        rig.send(*v2c(rig), *link_trap(LINK_DOWN, 1, 1, 2, None), source=agent.addresses[0])  # cached
        rig.receiver.flush()
    finally:
        rig.receiver.stop()
        rig.store.close()
    assert [(e.device_name, e.ifindex, e.ifname) for e in rig.events] == [("srv-01", 1, lo)] * 2
    assert [(p.tags["device"], p.tags["ifname"], p.fields["oper_status"])
            for p in rig.sink.of(INTERFACE.name)] == [("srv-01", lo, 2)] * 2
    assert rig.receiver.counters.get("ifname_unresolved") == 0
    assert COMMUNITY not in str([p.fields for p in rig.sink.points])


def test_unresolvable_interface_still_gives_the_event_but_no_status_point(
        trap_env: None, tmp_path: Path, agent: Snmpd, monkeypatch: pytest.MonkeyPatch) -> None:
    rig = _rig(tmp_path, agent, monkeypatch, resolve_ifname=False)
    try:
        rig.send(*v2c(rig), *link_trap(LINK_DOWN, 1, 1, 2, None), source=agent.addresses[0])
        rig.receiver.flush()
        alerts = rig.store.list_alerts()
    finally:
        rig.receiver.stop()
        rig.store.close()
    [ev] = rig.events
    assert (ev.event, ev.ifindex, ev.ifname, ev.oper_status) == ("link_down", 1, "", 2)
    assert rig.sink.of(INTERFACE.name) == []
    assert rig.receiver.counters.get("ifname_unresolved") == 1
    [alert] = alerts
    assert alert.group_key == "srv-01|1"  # the ifIndex tells the interface apart


def test_the_pollers_interface_table_names_it_without_asking(trap_env: None, tmp_path: Path) -> None:
    from nocsoc.collectors.ifnames import InterfaceNames

    names = InterfaceNames(tmp_path / "interfaces.json")
    names.publish("core-01", {5: "xe-0/0/5"})  # what the SNMP poller wrote under `nocsoc run`
    reader = InterfaceNames.in_state_dir(tmp_path)
    sink, store = MemorySink(), AlertStore(tmp_path / "alerts.db")
    inv = Inventory.model_validate(inventory_data())
    rig = Rig(TrapReceiver(traps_config(), inv, sink, base_dir=tmp_path, store=store, ifnames=reader),
              sink, store, tmp_path / "snmp")
    rig.snmp_dir.mkdir()
    rig.receiver.on_event = rig.events.append
    rig.receiver.start()
    try:
        rig.send(*v2c(rig), *link_trap(LINK_DOWN, 5, 1, 2, None))
        rig.receiver.flush()
    finally:
        rig.receiver.stop()
        store.close()
    assert [(e.ifindex, e.ifname) for e in rig.events] == [(5, "xe-0/0/5")]
    assert [(p.tags["ifname"], p.fields["oper_status"]) for p in sink.of(INTERFACE.name)] == [("xe-0/0/5", 2)]
    assert rig.receiver.resolver._failed == {}  # core-01 (no agent) was never asked
