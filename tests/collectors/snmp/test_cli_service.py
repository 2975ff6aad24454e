"""`nocsoc poll` as a service: polls on its interval, reloads the inventory on SIGHUP, stops on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from nocsoc.inventory.model import Inventory
from nocsoc.inventory.store import dump_inventory
from tests.collectors.snmp.conftest import SECRET_ENV, inventory_data
from tests.servers.base import wait_until
from tests.servers.snmp import SnmpSim

pytestmark = pytest.mark.servers


def test_poll_service_reloads_on_sighup_and_stops_on_sigint(tmp_path: Path, snmpsim: SnmpSim) -> None:
    data = inventory_data(snmpsim)
    data["links"] = []
    everything = data["devices"]
    data["devices"] = [d for d in everything if d["name"] == "ups1"]
    inv_path = tmp_path / "inventory.yaml"
    inv_path.write_text(dump_inventory(Inventory.model_validate(data)))
    cfg = tmp_path / "nocsoc.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "inventory": "inventory.yaml",
                "sinks": [{"type": "stdout"}],
                "snmp": {"interval_s": 1.0, "spread_start": False},
            }
        )
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "nocsoc", "--config", str(cfg), "poll", "--sink", "stdout"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **SECRET_ENV},
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        wait_until(lambda: any(line.startswith("ups,") for line in lines), timeout=20, what="ups1 polled")
        data["devices"] = [d for d in everything if d["name"] in ("ups1", "dist1")]
        inv_path.write_text(dump_inventory(Inventory.model_validate(data)))
        proc.send_signal(signal.SIGHUP)
        wait_until(
            lambda: any(line.startswith("interface,device=dist1") for line in lines),
            timeout=20,
            what="dist1 polled after SIGHUP",
        )
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0, proc.stderr.read()  # type: ignore[union-attr]
    except TimeoutError:
        proc.kill()
        raise AssertionError(f"{proc.stderr.read()}\n{''.join(lines[-5:])}") from None  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(5)
    assert any(line.startswith("snmp_poll,device=dist1") for line in lines)
