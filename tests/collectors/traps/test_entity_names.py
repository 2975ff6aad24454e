"""Component traps named like the poller names the sensor: CISCO-ENTITY-SENSOR-MIB's
entSensorThresholdNotification gives the sensor only as the instance of entSensorValue (its
entPhysicalIndex). The SNMP poller, polling a real Catalyst 9200L recording served by snmpsim,
publishes ENTITY-MIB's names to the state dir; the trap receiver (another process under `nocsoc
run`: here a separate reader of the same file) reports a real `snmptrap` for that index with the
sensor's name, and as "entity N" for an index the poller has not named. The expected name is the
recording's own entPhysicalName line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nocsoc.collectors.ifnames import EntityNames
from nocsoc.collectors.snmp.config import SnmpConfig
from nocsoc.collectors.snmp.poller import SnmpPoller
from nocsoc.inventory.model import Inventory
from nocsoc.schema import SNMP_TRAP
from nocsoc.sinks.memory import MemorySink
from tests.collectors.snmp import walkcheck
from tests.collectors.traps.conftest import Rig
from tests.collectors.traps.test_snmptrap import v2c
from tests.collectors.traps.test_vendor_traps import alerts, got, send
from tests.servers.snmp import COMMUNITY, SnmpSim

pytestmark = pytest.mark.servers

STEM = "iosxe_c9200l"
ENT_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"
SENSOR_VALUE = "1.3.6.1.4.1.9.9.91.1.1.1.1.4"  # entSensorValue.<entPhysicalIndex>
THRESHOLD_TRAP = "1.3.6.1.4.1.9.9.91.2.0.1"  # entSensorThresholdNotification
THRESHOLD_VALUE = "1.3.6.1.4.1.9.9.91.1.2.1.1.4"  # entSensorThresholdValue.<entPhysicalIndex>.<n>


def _recorded(walk: Path, column: str) -> dict[int, str]:
    """index -> value of one single-index column of the recording, as it stands in the file."""
    out = {}
    for line in walk.read_text(encoding="utf-8", errors="replace").splitlines():
        oid, _, rest = line.partition("|")
        if oid.startswith(column + ".") and oid[len(column) + 1 :].isdigit():
            out[int(oid[len(column) + 1 :])] = rest.partition("|")[2]
    return out


def test_sensor_threshold_trap_names_the_sensor_the_poller_read(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    walk = walkcheck.walks_dir() / "snmprec" / f"{STEM}.snmprec"
    if not walk.exists():
        pytest.skip(f"{walk} absent: the walks live in ../shared/snmp-walks (set NOCSOC_SHARED_DIR)")
    names, sensors = _recorded(walk, ENT_NAME), _recorded(walk, SENSOR_VALUE)
    index = min(sensors)  # the recording's first sensor
    name = names[index]
    assert (index, name) == (1010, "Switch 1 - Inlet Temp Sensor")  # the recording's line, verbatim

    # before any poll: the trap carries the index only
    # a reader of its own (the receiver is another process), looking at the file at every trap
    rig.receiver.entnames = EntityNames(tmp_path / "state" / EntityNames.FILENAME, recheck_s=0.0)
    send(rig, *v2c(rig), "1", THRESHOLD_TRAP, f"{THRESHOLD_VALUE}.{index}.1", "i", "46",
         f"{SENSOR_VALUE}.{index}", "i", "47")
    assert (got(rig)["entity"], got(rig)["message"]) == (
        f"entity {index}", f"core-01: Sensor crossed a threshold on entity {index}, value 47")
    assert rig.receiver.counters.snapshot()["entity_unresolved"] == 1

    # the poller polls the recording as core-01 and publishes its entity names
    monkeypatch.setenv("NOCSOC_TEST_COMMUNITY", COMMUNITY)
    sim = SnmpSim({"core-01": walk})
    try:
        inv = Inventory.model_validate({
            "version": 1,
            "sites": [{"id": "dc1", "name": "DC 1"}],
            "snmp_profiles": [{"name": "sim", "community": "env:NOCSOC_TEST_COMMUNITY", "timeout_s": 5.0}],
            "devices": [{"name": "core-01", "address": sim.addresses["core-01"],
                         "snmp_port": sim.ports["core-01"], "profile": "sim", "role": "core", "site": "dc1"}],
        })
        poller = SnmpPoller(SnmpConfig(interval_s=300), inv, MemorySink(),
                            entnames=EntityNames.in_state_dir(tmp_path / "state"))
        assert [r.ok for r in poller.run_once(samples=1)] == [True]
    finally:
        sim.stop()
    published = json.loads((tmp_path / "state" / "entities.json").read_text(encoding="utf-8"))
    assert published["core-01"][str(index)] == name
    # every name the recording has, under its index (empty names fall back to entPhysicalDescr)
    descr = _recorded(walk, "1.3.6.1.2.1.47.1.1.1.1.2")
    want = {str(i): n or descr.get(i, "") for i, n in names.items() if n or descr.get(i)}
    assert published["core-01"] == want

    # the same trap now: the sensor by its name, in the event, the point and the alert's group
    send(rig, *v2c(rig), "2", THRESHOLD_TRAP, f"{THRESHOLD_VALUE}.{index}.1", "i", "46",
         f"{SENSOR_VALUE}.{index}", "i", "48")
    assert (got(rig)["entity"], got(rig)["message"]) == (
        name, f"core-01: Sensor crossed a threshold on {name}, value 48")
    assert [p.fields["entity"] for p in rig.sink.of(SNMP_TRAP.name)] == [f"entity {index}", name]
    assert alerts(rig) == [("snmp-trap-sensor-threshold", "high", f"core-01|{name}", 1),
                           ("snmp-trap-sensor-threshold", "high", f"core-01|entity {index}", 1)]
    # an index the poller has not named stays "entity N"
    send(rig, *v2c(rig), "3", THRESHOLD_TRAP, f"{THRESHOLD_VALUE}.1003999.1", "i", "46",
         f"{SENSOR_VALUE}.1003999", "i", "48")
    assert got(rig)["entity"] == "entity 1003999"
    assert rig.receiver.counters.snapshot()["entity_unresolved"] == 2
