"""Import is all or nothing with every bad row reported; export round-trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nocsoc.errors import InventoryError
from nocsoc.inventory.importexport import DEVICE_COLUMNS, export_inventory, plan_import, read_import
from nocsoc.inventory.sample import SAMPLE_INVENTORY
from nocsoc.inventory.store import load_inventory

HEADER = ",".join(DEVICE_COLUMNS) + "\n"


def _csv(tmp_path: Path, rows: str, header: str = HEADER) -> Path:
    p = tmp_path / "devices.csv"
    p.write_text(header + rows, encoding="utf-8")
    return p


def test_csv_import_plans_adds_and_updates(small: Path, tmp_path: Path) -> None:
    p = _csv(tmp_path, (
        "acc-01,127.10.1.11,access,binhlong,v2,Huawei,S5735-L24T4X-A1,ubnd;lab,,,,30,\n"
        "dist-01,127.10.1.2,distribution,binhlong,v2,Cisco,ASR-920-12SZ-IM,ring,127.10.1.2,,127.10.1.2,,\n"
        "core-01,127.10.0.1,core,dongxoai,v2,,,,,,,,\n"
    ))
    plan = plan_import(load_inventory(small), read_import(p))
    assert [(c.action, c.name) for c in plan.changes] == [("add", "acc-01"), ("update", "dist-01")]
    assert plan.changes[1].fields == {
        "address": ("127.10.1.1", "127.10.1.2"),
        "vendor": ("", "Cisco"),
        "model": ("", "ASR-920-12SZ-IM"),
        "flow_exporter": (None, "127.10.1.2"),
        "syslog_source": (None, "127.10.1.2"),
    }
    assert (plan.added, plan.updated, plan.unchanged) == (1, 1, 1)
    acc = plan.after.device("acc-01")
    assert (acc.tags, acc.poll_interval_s, acc.vendor) == (["ubnd", "lab"], 30.0, "Huawei")


def test_csv_every_bad_row_reported_with_row_numbers(small: Path, tmp_path: Path) -> None:
    p = _csv(tmp_path, (
        "acc-01,127.10.1.11,access,binhlong,v2,,,,,,,,\n"           # row 2: fine
        "acc-02,127.10.1.300,access,binhlong,v2,,,,,,,,\n"          # row 3: bad address
        "acc-03,127.10.1.13,switch,binhlong,v2,,,,,,,,\n"           # row 4: bad role
        "acc-04,127.10.1.14,access,binhlongg,v2,,,,,,,,\n"          # row 5: unknown site
        "acc-05,127.10.1.11,access,binhlong,v3,,,,,,,,\n"           # row 6: address of row 2; bad profile
        "acc-01,127.10.1.16,access,binhlong,v2,,,,,,,,\n"           # row 7: name twice in the file
        ",127.10.1.17,access,binhlong,v2,,,,,,,,,\n"                # row 8: 14 cells
        "acc-09,,access,binhlong,v2,,,,,,,,\n"                      # row 9: no address
    ))
    before = small.read_text(encoding="utf-8")
    with pytest.raises(InventoryError) as exc:
        plan_import(load_inventory(small), read_import(p))
    assert str(exc.value).replace(str(p), "devices.csv").splitlines() == [
        "devices.csv: 8 problem(s); nothing imported",
        "devices.csv:3: row 3, address: '127.10.1.300' does not appear to be an IPv4 or IPv6 address",
        "devices.csv:4: row 4, role: Input should be 'core', 'distribution', 'access', 'firewall', "
        "'server' or 'ups' (got 'switch')",
        "devices.csv:5: row 5, site: unknown site 'binhlongg' (did you mean 'binhlong'?)",
        "devices.csv:6: row 6, address: 127.10.1.11 is already used by device 'acc-01'",
        "devices.csv:6: row 6, profile: unknown profile 'v3'; known: v2",
        "devices.csv:7: row 7: device 'acc-01' appears twice in this import (first at row 2)",
        "devices.csv:8: row 8: 14 cells, header has 13",
        "devices.csv:9: row 9, address: missing required key",
    ]
    assert small.read_text(encoding="utf-8") == before


def test_csv_header_problems(tmp_path: Path, small: Path) -> None:
    p = _csv(tmp_path, "x,127.10.1.1\n", header="name,adress,colour\n")
    with pytest.raises(InventoryError) as exc:
        plan_import(load_inventory(small), read_import(p))
    assert str(exc.value).replace(str(p), "devices.csv").splitlines() == [
        "devices.csv: 2 problem(s); nothing imported",
        f"devices.csv:1: header: unknown column(s) adress, colour; allowed: {', '.join(DEVICE_COLUMNS)}",
        "devices.csv:1: header: missing column(s) address, role, site, profile",
    ]


def test_yaml_import_of_sections_with_line_numbers(small: Path, tmp_path: Path) -> None:
    p = tmp_path / "more.yaml"
    p.write_text(
        "sites:\n"
        "  - id: locninh\n"
        "    name: Lộc Ninh\n"
        "devices:\n"
        "  - name: locninh-dist-01\n"
        "    address: 127.10.8.1\n"
        "    role: distribution\n"
        "    site: locninh\n"
        "    profile: v2\n"
        "  - name: locninh-acc-01\n"
        "    address: 127.10.8.11\n"
        "    role: access\n"
        "    site: locnin\n"
        "    profile: v2\n",
        encoding="utf-8",
    )
    with pytest.raises(InventoryError) as exc:
        plan_import(load_inventory(small), read_import(p))
    assert str(exc.value).splitlines() == [
        f"{p}: 1 problem(s); nothing imported",
        f"{p}:13: devices[1].site: unknown site 'locnin' (did you mean 'locninh'?)",
    ]
    p.write_text(p.read_text(encoding="utf-8").replace("site: locnin\n", "site: locninh\n"), encoding="utf-8")
    plan = plan_import(load_inventory(small), read_import(p))
    assert [(c.action, c.section, c.name) for c in plan.changes] == [
        ("add", "sites", "locninh"),
        ("add", "devices", "locninh-dist-01"),
        ("add", "devices", "locninh-acc-01"),
    ]


def test_yaml_import_of_a_bare_device_list(small: Path, tmp_path: Path) -> None:
    p = tmp_path / "list.yml"
    p.write_text(
        "- name: x-01\n  address: 127.10.1.99\n  role: ups\n  site: binhlong\n  profile: v2\n"
        "- name: x-02\n  address: nope\n  role: ups\n  site: binhlong\n  profile: v2\n",
        encoding="utf-8",
    )
    with pytest.raises(InventoryError) as exc:
        plan_import(load_inventory(small), read_import(p))
    assert str(exc.value).splitlines()[1] == (
        f"{p}:7: devices[1].address: 'nope' does not appear to be an IPv4 or IPv6 address"
    )


def test_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(InventoryError) as exc:
        read_import(tmp_path / "x.xlsx")
    assert str(exc.value) == (
        f"{tmp_path / 'x.xlsx'}: unknown import format 'xlsx': use a .csv, .yaml or .yml file or --format"
    )


def test_csv_export_imports_back_unchanged(tmp_path: Path) -> None:
    inv = load_inventory(SAMPLE_INVENTORY)
    text = export_inventory(inv, "csv")
    lines = text.splitlines()
    assert lines[0] == HEADER.strip()
    assert lines[1] == (
        "dongxoai-core-01,127.10.0.1,core,dongxoai,backbone-v3,Juniper,MX204,dc;ring;critical,127.10.0.1,,"
        "127.10.0.1,30,"
    )
    assert len(lines) == 49
    p = tmp_path / "all.csv"
    p.write_text(text, encoding="utf-8")
    plan = plan_import(inv, read_import(p))
    assert (plan.added, plan.updated, plan.unchanged) == (0, 0, 48)
    assert plan.after == inv


def test_json_and_yaml_export(tmp_path: Path) -> None:
    inv = load_inventory(SAMPLE_INVENTORY)
    data = json.loads(export_inventory(inv, "json"))
    assert data == inv.model_dump(mode="json")
    p = tmp_path / "inv.yaml"
    p.write_text(export_inventory(inv, "yaml"), encoding="utf-8")
    assert load_inventory(p) == inv
