"""`nocsoc profiles list | show | test`: what users writing their own profiles run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from nocsoc.cli.app import app
from tests.collectors.snmp import walkcheck


@pytest.fixture
def project(tmp_path: Path) -> Path:
    result = CliRunner().invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    return tmp_path / "nocsoc.yaml"


def run(cfg: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["--config", str(cfg), *args])


def _with_user_dir(cfg: Path, user: Path) -> None:
    text = cfg.read_text()
    if "\nsnmp:" in text:
        text = text.replace("\nsnmp:", f"\nsnmp:\n  profiles_dir: {user}", 1)
    else:
        text += f"\nsnmp:\n  profiles_dir: {user}\n"
    cfg.write_text(text)


def test_list_and_show_as_json(project: Path) -> None:
    result = run(project, "profiles", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["huawei-vrp"]["vendor"] == "huawei" and rows["huawei-vrp"]["source"] == "shipped"
    assert rows["cisco-iosxe"]["match"] == [
        "1.3.6.1.4.1.9.1 ~ /IOS-XE|IOSXE|IOSD|Catalyst L3 Switch Software|CAT9K/"
    ]
    result = run(project, "profiles", "show", "mikrotik", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["mibs"] == ["MIKROTIK-MIB"]
    assert shown["tables"][0]["columns"]["rx_dbm"] == {
        "oid": "1.3.6.1.4.1.14988.1.1.19.1.1.10",
        "unit": "0.001 dBm",
        "absent": [],
        "ok": [],
        "pattern": None,
        "map": None,
    }


def test_show_lists_the_vendor_traps(project: Path) -> None:
    result = run(project, "profiles", "show", "juniper")
    assert result.exit_code == 0, result.output
    assert "traps (11)" in result.output
    assert "jnxPowerSupplyFailure" in result.output and "1.3.6.1.4.1.2636.4.1.1" in result.output
    shown = json.loads(run(project, "profiles", "show", "juniper", "--json").output)
    [dom] = [t for t in shown["traps"] if t["name"] == "jnxDomAlarmSet"]
    assert (dom["oid"], dom["event"], dom["kind"], dom["interface"]) == (
        "1.3.6.1.4.1.2636.4.18.0.1", "optics_alarm", "optics", True)
    assert dom["varbinds"]["ifindex"] == {"oid": "1.3.6.1.2.1.2.2.1.2", "part": "index", "index_arc": 0,
                                          "scale": 1.0}
    rows = {r["name"]: r for r in json.loads(run(project, "profiles", "list", "--json").output)}
    assert (rows["juniper"]["traps"], rows["linux"]["traps"]) == (11, 0)


def test_unknown_profile_and_missing_walk_are_one_line_errors(project: Path, tmp_path: Path) -> None:
    result = run(project, "profiles", "show", "nope")
    assert result.exit_code == 2 and "no profile 'nope'" in result.output
    result = run(project, "profiles", "test", str(tmp_path / "missing.snmprec"))
    assert result.exit_code == 2 and "missing.snmprec: no such file" in result.output
    result = run(project, "profiles", "test", str(tmp_path))
    assert result.exit_code == 2 and "is a directory" in result.output


def test_user_profile_dir_broken_file_names_file_and_line(project: Path, tmp_path: Path) -> None:
    user = tmp_path / "profiles"
    user.mkdir()
    (user / "x.yaml").write_text("name: x\nvendor: x\nmibs: [X-MIB]\nmatch:\n  - sys_object_id: not-an-oid\n")
    _with_user_dir(project, user)
    result = run(project, "profiles", "list")
    assert result.exit_code == 2
    assert "x.yaml:5" in result.output and "not a numeric OID prefix" in result.output
    assert "Traceback" not in result.output


def test_user_profile_tested_on_a_walk(project: Path, tmp_path: Path) -> None:
    user = tmp_path / "profiles"
    user.mkdir()
    walk = tmp_path / "dev.snmprec"
    walk.write_text(
        "1.3.6.1.2.1.1.1.0|4|Example OS 1.0\n"
        "1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.99999.1\n"
        "1.3.6.1.2.1.1.3.0|67|1000\n"
        "1.3.6.1.2.1.2.2.1.2.5|4|xe-0/0/1\n"
        "1.3.6.1.2.1.2.2.1.8.5|2|1\n"
        "1.3.6.1.4.1.99999.1.1.2.5|2|-412\n"
        "1.3.6.1.4.1.99999.1.1.3.5|2|-9999\n"
        "1.3.6.1.4.1.99999.1.1.4.5|2|415\n"
        "not a varbind line\n"
    )
    (user / "example.yaml").write_text(
        "# Example Corp: EXAMPLE-DOM-MIB exDomTable\n"
        "name: example\nvendor: example\nrole: access\nmibs: [EXAMPLE-DOM-MIB]\n"
        "match:\n  - sys_object_id: 1.3.6.1.4.1.99999\n"
        "tables:\n  - kind: optics\n    name: exDomTable\n    index: ifindex\n    columns:\n"
        "      rx_dbm: {oid: 1.3.6.1.4.1.99999.1.1.2, unit: 0.01 dBm, absent: [-9999]}\n"
        "      tx_dbm: {oid: 1.3.6.1.4.1.99999.1.1.3, unit: 0.01 dBm, absent: [-9999]}\n"
        "      temperature_c: {oid: 1.3.6.1.4.1.99999.1.1.4, unit: 0.1 C}\n"
    )
    _with_user_dir(project, user)
    result = run(project, "profiles", "test", str(walk), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["profile"] == "example" and out["role"] == "access" and out["bad_lines"] == 1
    assert out["optics"] == [
        {"ifname": "xe-0/0/1", "sensor": "xe-0/0/1", "lane": None, "rx_dbm": -4.12, "temperature_c": 41.5}
    ]
    result = run(project, "profiles", "list", "--json")
    assert {r["name"]: r["source"] for r in json.loads(result.output)}["example"] == "user"


def test_test_on_a_real_walk_renders(project: Path) -> None:
    walk = walkcheck.walks_dir() / "snmprec" / "yunshan.snmprec"
    if not walk.exists():
        pytest.skip(f"{walk} absent (set NOCSOC_SHARED_DIR)")
    result = run(project, "profiles", "test", str(walk))
    assert result.exit_code == 0, result.output
    assert "profile: huawei-vrp" in result.output and "100GE1/0/1" in result.output
