"""`nocsoc poll --once` end to end: snmpsim + snmpd -> schema -> a real influxd (InfluxQL back)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from nocsoc.cli.app import app
from nocsoc.inventory.model import Inventory
from nocsoc.inventory.store import dump_inventory
from tests.collectors.snmp.conftest import SECRET_ENV, inventory
from tests.collectors.snmp.snmprec import in_rate
from tests.servers.influx import InfluxD
from tests.servers.snmp import Snmpd, SnmpSim

pytestmark = pytest.mark.servers


def write_config(tmp: Path, sinks: list[dict[str, object]], **snmp: object) -> Path:
    cfg = tmp / "nocsoc.yaml"
    cfg.write_text(yaml.safe_dump({"inventory": "inventory.yaml", "sinks": sinks, "snmp": snmp}))
    return cfg


def test_poll_once_writes_rates_health_optics_ups_into_influxd(
    tmp_path: Path, snmpsim: SnmpSim, snmpd: Snmpd, snmp_secrets: None, influxd: InfluxD, influx_db: str
) -> None:
    (tmp_path / "inventory.yaml").write_text(dump_inventory(inventory(snmpsim, snmpd, dead=True)))
    cfg = write_config(
        tmp_path,
        [
            {
                "type": "influxdb1",
                "url": influxd.url,
                "database": influx_db,
                "spool_dir": str(tmp_path / "spool"),
            }
        ],
    )
    # a rate's error is the skew between the poll's stamp and the agent's answer over the gap:
    # 37 ms of scheduling delay under load made 1.25% at 3 s, so 6 s keeps it within the 1% below
    result = CliRunner().invoke(
        app, ["--config", str(cfg), "poll", "--once", "--sink", "influxdb1", "--gap", "6", "--json"]
    )
    # A dead device and a wrong password make the run a partial failure (exit 1), reported per device.
    assert result.exit_code == 1, result.output
    status = {r["device"]: r["error_kind"] for r in json.loads(result.stdout)}
    assert status == {
        "core1": None,
        "core2": None,
        "dist1": None,
        "ups1": None,
        "edge1": None,
        "server": None,
        "local-v3": None,
        "local-v3-512": None,
        "local-v2c": None,
        "local-wrong": "auth",
        "dead": "timeout",
    }

    def rows(q: str) -> list[dict[str, Any]]:
        return influxd.rows(q, influx_db)

    got = {
        r["ifname"]: r["in_bps"]
        for r in rows("SELECT in_bps FROM interface WHERE device='core1' GROUP BY ifname")
    }
    assert len(got) == 48
    for i in range(1, 48):
        assert got[f"Te0/0/{i}"] == pytest.approx(in_rate(i) * 8, rel=0.01)
    (opt,) = rows(
        "SELECT rx_dbm, tx_dbm, temperature_c FROM optics WHERE device='core1' AND ifname='Te0/0/2'"
    )
    assert (opt["rx_dbm"], opt["tx_dbm"], opt["temperature_c"]) == (-5.43, -2.12, 36.7)
    (ups,) = rows("SELECT battery_charge_pct, runtime_min, on_battery, output_load_pct FROM ups")
    assert (ups["battery_charge_pct"], ups["runtime_min"], ups["on_battery"], ups["output_load_pct"]) == (
        87.0,
        38.0,
        1,
        41.0,
    )
    (srv,) = rows("SELECT cpu_pct, mem_total_bytes, reachable FROM device WHERE device='server'")
    assert srv["reachable"] == 1 and srv["mem_total_bytes"] == 1021976 * 1024 and float(srv["cpu_pct"]) > 0
    reach = {
        r["device"]: r["reachable"]
        for r in rows("SELECT last(reachable) AS reachable FROM snmp_poll GROUP BY device")
    }
    assert reach["dead"] == 0 and reach["local-wrong"] == 0 and reach["core1"] == 1 and reach["local-v3"] == 1
    (ev,) = rows("SELECT message FROM device_event WHERE device='dead' AND event='unreachable'")
    assert "no answer" in str(ev["message"])


def test_poll_once_stdout_is_line_protocol(tmp_path: Path, snmpsim: SnmpSim, snmp_secrets: None) -> None:
    (tmp_path / "inventory.yaml").write_text(dump_inventory(inventory(snmpsim)))
    cfg = write_config(tmp_path, [{"type": "stdout"}])
    result = CliRunner().invoke(
        app, ["--config", str(cfg), "poll", "--once", "--device", "ups1", "--sink", "stdout", "--gap", "0.2"]
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("ups,")]
    assert len(lines) == 1 and "battery_charge_pct=87" in lines[0] and "device=ups1" in lines[0]
    assert "SNMP poll" in result.stderr and "ups1" in result.stderr  # the table goes to stderr


def test_poll_unknown_device_is_a_usage_error(tmp_path: Path, snmpsim: SnmpSim) -> None:
    (tmp_path / "inventory.yaml").write_text(dump_inventory(inventory(snmpsim)))
    cfg = write_config(tmp_path, [{"type": "stdout"}])
    result = CliRunner().invoke(app, ["--config", str(cfg), "poll", "--once", "--device", "nope"])
    assert result.exit_code == 2 and "unknown device" in result.output


def test_relative_file_secret_resolves_from_the_config_directory(
    tmp_path: Path, snmpsim: SnmpSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`file:secrets/community` in the inventory is relative to nocsoc.yaml's directory, like every
    relative path of the config, whatever the working directory of the poller."""
    data = inventory(snmpsim).model_dump(mode="json", exclude_none=True)
    for profile in data["snmp_profiles"]:
        if profile["name"] == "sim":
            profile["community"] = "file:secrets/community"
    (tmp_path / "inventory.yaml").write_text(dump_inventory(Inventory.model_validate(data)))
    secret = tmp_path / "secrets" / "community"
    secret.parent.mkdir()
    secret.write_text(SECRET_ENV["NOCSOC_TEST_COMMUNITY"] + "\n")
    secret.chmod(0o600)
    cfg = write_config(tmp_path, [{"type": "stdout"}])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = CliRunner().invoke(
        app, ["--config", str(cfg), "poll", "--once", "--device", "ups1", "--sink", "stdout", "--gap", "0.2"]
    )
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("ups,")]
    assert "battery_charge_pct=87" in line and "device=ups1" in line
