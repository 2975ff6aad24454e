"""`nocsoc discover` and `nocsoc topology` on simulated devices with LLDP tables."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from nocsoc.cli.app import app
from nocsoc.collectors.snmp.discovery import device_name, expand, guess_role, guess_vendor
from nocsoc.collectors.snmp.mibs.lldp import Neighbour
from nocsoc.collectors.snmp.topology import link_name, links_from_lldp
from nocsoc.inventory.model import Device, Role
from nocsoc.inventory.store import dump_inventory, load_inventory
from tests.collectors.snmp.conftest import inventory
from tests.servers.snmp import SNMP_DATA, SnmpSim

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def lan() -> Iterator[SnmpSim]:
    """core1, core2, dist1, ups1 on <net>.1-.4, one UDP port (a network to discover)."""
    sim = SnmpSim(
        {n: SNMP_DATA / f"{n}.snmprec" for n in ("core1", "core2", "dist1", "ups1")}, same_port=True
    )
    yield sim
    sim.stop()


def setup_files(tmp: Path, lan: SnmpSim) -> tuple[Path, Path]:
    inv = inventory()
    # core2 is already known (by address), under another name and without a vendor.
    inv.devices.append(
        Device.model_validate(
            {
                "name": "core2",
                "address": lan.addresses["core2"],
                "snmp_port": lan.ports["core2"],
                "profile": "sim",
                "role": "core",
                "site": "dongxoai",
            }
        )
    )
    path = tmp / "inventory.yaml"
    path.write_text(dump_inventory(inv))
    cfg = tmp / "nocsoc.yaml"
    cfg.write_text(yaml.safe_dump({"inventory": "inventory.yaml", "sinks": [{"type": "stdout"}]}))
    return cfg, path


def test_guesses() -> None:
    assert guess_vendor("1.3.6.1.4.1.9.1.2494", "Cisco IOS XR") == "cisco"
    assert guess_vendor("1.3.6.1.4.1.8072.3.2.10", "Linux web1 5.10") == "linux"
    assert guess_role("dx-core-1", "Cisco IOS XR Software", "cisco") is Role.CORE
    assert guess_role("bl-dist-1", "Juniper Networks mx204 router", "juniper") is Role.DISTRIBUTION
    assert guess_role("dx-ups-1", "network card", "eaton") is Role.UPS
    assert guess_role("dx-fw-1", "FortiGate", "fortinet") is Role.FIREWALL
    assert guess_role("web1", "Linux web1", "linux") is Role.SERVER
    assert device_name("dx-core-1.example.vn", "127.0.0.1") == "dx-core-1"
    assert device_name("", "127.0.0.7") == "dev-127-0-0-7"
    assert expand(["127.0.0.0/30", "127.0.0.1"]) == ["127.0.0.1", "127.0.0.2"]
    with pytest.raises(ValueError, match="not an address"):
        expand(["nonsense"])


def test_discover_diff_apply_and_topology(tmp_path: Path, lan: SnmpSim, snmp_secrets: None) -> None:
    cfg, path = setup_files(tmp_path, lan)
    net = lan.addresses["core1"].rsplit(".", 1)[0] + ".0/29"  # .1-.6: four devices, two silent
    port = str(lan.ports["core1"])
    run = CliRunner().invoke
    result = run(
        app,
        [
            "--config",
            str(cfg),
            "discover",
            net,
            "--profile",
            "sim",
            "--port",
            port,
            "--site",
            "dongxoai",
            "--concurrency",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "4 of 6 addresses answered" in out
    a = lan.addresses
    assert f"+ device dx-core-1: address={a['core1']} role=core site=dongxoai profile=sim vendor=cisco" in out
    assert f"+ device bl-dist-1: address={a['dist1']} role=distribution" in out
    assert f"+ device dx-ups-1: address={a['ups1']} role=ups" in out and "vendor=eaton" in out
    assert "~ device core2: vendor=cisco" in out
    assert "+ link core2:Te0/0/1--dx-core-1:Te0/0/1: core2 Te0/0/1 <-> dx-core-1 Te0/0/1" in out
    assert "+ link bl-dist-1:Gi0/1--dx-core-1:Te0/0/2" in out
    assert load_inventory(path).devices[-1].name == "core2"  # nothing written without --apply

    result = run(
        app,
        [
            "--config",
            str(cfg),
            "discover",
            net,
            "--profile",
            "sim",
            "--port",
            port,
            "--site",
            "dongxoai",
            "--apply",
        ],
    )
    assert result.exit_code == 0, result.output
    inv = load_inventory(path)
    assert {d.name for d in inv.devices} >= {"dx-core-1", "bl-dist-1", "dx-ups-1", "core2"}
    assert inv.device("core2").vendor == "cisco"
    assert inv.device("dx-core-1").snmp_port == lan.ports["core1"]
    assert sorted(link.name for link in inv.links) == [
        "bl-dist-1:Gi0/1--dx-core-1:Te0/0/2",
        "core2:Te0/0/1--dx-core-1:Te0/0/1",
    ]
    again = run(
        app, ["--config", str(cfg), "discover", net, "--profile", "sim", "--port", port, "--site", "dongxoai"]
    )
    assert "(no changes)" in again.output  # idempotent: LLDP from both ends is one link

    result = run(app, ["--config", str(cfg), "topology", "--format", "json"])
    graph = json.loads(result.stdout)
    assert {(e["a"], e["b"]) for e in graph["edges"]} == {("bl-dist-1", "dx-core-1"), ("core2", "dx-core-1")}
    assert {n["id"]: n["role"] for n in graph["nodes"]}["dx-ups-1"] == "ups"
    dot = run(app, ["--config", str(cfg), "topology", "--format", "dot"]).stdout
    assert '"core2" -- "dx-core-1" [label="Te0/0/1 - Te0/0/1"];' in dot
    if shutil.which("dot"):
        svg = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=True).stdout
        assert "<svg" in svg and "dx&#45;core&#45;1" in svg and svg.count('<g id="edge') == 2
    table = run(app, ["--config", str(cfg), "topology"]).output
    assert "2 links" in table


@pytest.mark.parametrize("names", ["as sysName", "renamed"])
def test_topology_live_finds_lldp_links(tmp_path: Path, lan: SnmpSim, snmp_secrets: None, names: str) -> None:
    """Inventory names equal to the devices' sysNames, or all different: then the neighbours'
    chassis ids (each device's own lldpLocChassisId) still tell who is at the other end."""
    inv = inventory()
    other = {"dx-core-1": "core-a", "dx-core-2": "core-b", "bl-dist-1": "dist-bl"}
    rename = other if names == "renamed" else {}
    for name, sys_name in (("core1", "dx-core-1"), ("core2", "dx-core-2"), ("dist1", "bl-dist-1")):
        sys_name = rename.get(sys_name, sys_name)
        inv.devices.append(
            Device.model_validate(
                {
                    "name": sys_name,
                    "address": lan.addresses[name],
                    "snmp_port": lan.ports[name],
                    "profile": "sim",
                    "role": "core",
                    "site": "dongxoai",
                }
            )
        )
    path = tmp_path / "inventory.yaml"
    path.write_text(dump_inventory(inv))
    cfg = tmp_path / "nocsoc.yaml"
    cfg.write_text(yaml.safe_dump({"inventory": "inventory.yaml"}))
    result = CliRunner().invoke(app, ["--config", str(cfg), "topology", "--live", "--format", "json"])
    assert result.exit_code == 0, result.output
    new = {link["name"] for link in json.loads(result.stdout)["new_links"]}
    expected = {("dx-core-1", "Te0/0/1", "dx-core-2", "Te0/0/1"),
                ("bl-dist-1", "Gi0/1", "dx-core-1", "Te0/0/2")}
    assert new == {link_name(rename.get(a, a), ai, rename.get(b, b), bi) for a, ai, b, bi in expected}
    # before --apply the inventory has no link: nothing to confirm, both LLDP links are new
    assert json.loads(result.stdout)["lldp"] == {}
    result = CliRunner().invoke(app, ["--config", str(cfg), "topology", "--live", "--apply"])
    assert result.exit_code == 0, result.output
    assert len(load_inventory(path).links) == 2
    # now LLDP confirms each inventory link
    again = CliRunner().invoke(app, ["--config", str(cfg), "topology", "--live", "--format", "json"])
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert data["lldp"] == {link["name"]: "confirmed" for link in data["edges"]} and len(data["lldp"]) == 2
    assert data["new_links"] == []


def test_lldp_neighbours_match_by_chassis_then_name_then_short_host_name() -> None:
    seen = {
        "dx-core-1": [
            Neighbour("Te0/0/1", "DX-CORE-2.ioc.example.vn", "Te0/0/1", "00:1b:54:00:00:02"),  # short name
            Neighbour("Te0/0/2", "router-7", "Gi0/1", "00:1b:54:00:00:03"),  # chassis id only
            Neighbour("Te0/0/3", "isp-gw.example.net", "xe-0/0/0", "00:99:00:00:00:01"),  # not ours
        ],
        "dx-core-2": [], "bl-dist-1": [],
    }
    chassis = {"dx-core-1": "00:1b:54:00:00:01", "dx-core-2": "", "bl-dist-1": "00:1b:54:00:00:03"}
    got = {link.name for link in links_from_lldp(seen, chassis=chassis)}
    assert got == {"dx-core-1:Te0/0/1--dx-core-2:Te0/0/1", "bl-dist-1:Gi0/1--dx-core-1:Te0/0/2"}
    # a short name two devices share identifies neither
    twins = {"core.a": [Neighbour("p1", "CORE.b", "p2", "")], "core.b": [], "core.c": []}
    assert links_from_lldp(twins) == []
