"""Flows know interface names: the SNMP poller publishes what the agents call their interfaces
(ifName per ifIndex) to the state dir, and the flow collector, another process under `nocsoc
run`, tags its per-interface rollups with those names and the inventory link."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nocsoc.collectors.flows.collector import FlowPipeline
from nocsoc.collectors.flows.config import FlowsConfig
from nocsoc.collectors.ifnames import InterfaceNames
from nocsoc.collectors.snmp.config import SnmpConfig
from nocsoc.collectors.snmp.poller import SnmpPoller
from nocsoc.inventory.model import Inventory
from nocsoc.sinks.memory import MemorySink
from tests.collectors.flows import craft
from tests.collectors.snmp.conftest import inventory_data
from tests.servers.snmp import SnmpSim

pytestmark = pytest.mark.servers


def test_poll_publishes_names_and_flows_tag_them_with_the_link(
        snmpsim: SnmpSim, snmp_secrets: None, tmp_path: Path) -> None:
    data = inventory_data(snmpsim)
    data["devices"] = [d for d in data["devices"] if d["name"] in ("core1", "core2")]
    core1 = next(d for d in data["devices"] if d["name"] == "core1")
    core1["flow_exporter"] = "127.0.0.1"  # flows from this address are core1's
    inv = Inventory.model_validate(data)
    published = InterfaceNames.in_state_dir(tmp_path)
    poller = SnmpPoller(SnmpConfig(areas=["interfaces"]), inv, MemorySink(), ifnames=published)
    assert all(r.ok for r in poller.run_once(samples=1))
    on_disk = json.loads((tmp_path / "interfaces.json").read_text())
    # the recorded agents' ifName column, exactly (core1: 48 ports, core2: 8)
    assert on_disk == {"core1": {str(i): f"Te0/0/{i}" for i in range(1, 49)},
                       "core2": {str(i): f"Te0/0/{i}" for i in range(1, 9)}}
    # an unchanged table is not written again
    assert not published.publish("core2", {i: f"Te0/0/{i}" for i in range(1, 9)})

    # the flow side: a separate reader of the same file, as the flows worker is
    pipe = FlowPipeline(FlowsConfig(interval_s=60), inv, ifnames=InterfaceNames.in_state_dir(tmp_path))
    fields = [(8, 4), (12, 4), (1, 4), (2, 4), (10, 4), (14, 4)]  # src, dst, bytes, packets, in/out if
    rows: list[list[int | bytes]] = [[craft.ip4("10.0.0.1"), craft.ip4("10.0.0.2"), 1500, 3, 1, 47]]
    pipe.process([(craft.v9([craft.v9_template_set(300, fields), craft.data_set(300, fields, rows)]),
                   "127.0.0.1", 120.5)])
    ifaces = {(p.tags["direction"], p.tags["ifindex"], p.tags["ifname"], p.tags.get("link"))
              for p in pipe.rollups.flush_all() if p.measurement == "flow_interface"}
    assert ifaces == {("in", "1", "Te0/0/1", "core-ring-1"), ("out", "47", "Te0/0/47", None)}


def test_a_reader_keeps_the_last_names_when_the_file_is_broken(tmp_path: Path) -> None:
    writer = InterfaceNames.in_state_dir(tmp_path)
    writer.publish("r1", {3: "xe-0/0/3"})
    reader = InterfaceNames(tmp_path / "interfaces.json", recheck_s=0.0)
    assert reader.get("r1", 3) == "xe-0/0/3"
    (tmp_path / "interfaces.json").write_text("{not json")
    assert reader.get("r1", 3) == "xe-0/0/3"  # a half-written or foreign file changes nothing
    writer.publish("r1", {3: "xe-0/0/9"})
    assert reader.get("r1", 3) == "xe-0/0/9"
    assert reader.get("r2", 3) is None and reader.get(None, 3) is None
