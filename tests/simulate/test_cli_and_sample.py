"""`nocsoc simulate` end to end as a user runs it, and the shipped sample backbone."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nocsoc.simulate.scenario import Scenario, SimulateConfig
from tests.servers.base import require_binary
from tests.simulate.conftest import COMMUNITY, COMMUNITY_ENV, small_inventory

NOCSOC = [str(Path(sys.executable).parent / "nocsoc")]


def _write_inventory(path: Path, port: int) -> Path:
    path.write_text(
        yaml.safe_dump(small_inventory(port).model_dump(mode="json"), allow_unicode=True), encoding="utf-8"
    )
    return path


def test_cli_runs_and_writes_the_manifest(tmp_path: Path) -> None:
    inv = _write_inventory(tmp_path / "inventory.yaml", 16100)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    manifest = tmp_path / "truth.json"
    try:
        out = subprocess.run(
            [
                *NOCSOC,
                "simulate",
                "-i",
                str(inv),
                "--seed",
                "5",
                "--speed",
                "600",
                "--duration",
                "2",
                "--no-flows",
                "--syslog-to",
                f"127.0.0.1:{port}",
                "--manifest",
                str(manifest),
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, COMMUNITY_ENV: COMMUNITY},
        )
    finally:
        sock.close()
    assert out.returncode == 0, out.stderr
    printed = json.loads(out.stdout)
    written = json.loads(manifest.read_text())
    assert printed == written
    assert written["seed"] == 5 and written["ticks_emitted"] == 2 and written["syslog"]["lines"] > 0
    assert COMMUNITY not in out.stdout + out.stderr + manifest.read_text()  # secrets never printed


def test_cli_refuses_non_loopback_destinations(tmp_path: Path) -> None:
    inv = _write_inventory(tmp_path / "inventory.yaml", 16100)
    for flag, value in (("--flows-to", "10.0.0.5:2055"), ("--syslog-to", "8.8.8.8:514")):
        out = subprocess.run(
            [*NOCSOC, "simulate", "-i", str(inv), flag, value, "--duration", "1"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, COMMUNITY_ENV: COMMUNITY},
        )
        assert out.returncode == 2
        assert "outside 127.0.0.0/8" in out.stderr and value.split(":")[0] in out.stderr


def test_sample_backbone_serves_v3_and_v2c(monkeypatch: pytest.MonkeyPatch) -> None:
    from nocsoc.inventory.sample import SAMPLE_INVENTORY
    from nocsoc.inventory.store import load_inventory

    monkeypatch.setenv("NOCSOC_SNMP_COMMUNITY", "sample-community")
    monkeypatch.setenv("NOCSOC_SNMP_AUTH", "sample-auth-pass")
    monkeypatch.setenv("NOCSOC_SNMP_PRIV", "sample-priv-pass")
    inv = load_inventory(SAMPLE_INVENTORY)
    sc = Scenario(inv, SimulateConfig(seed=1, speed=60, flows_to=None, syslog_to=None))
    sc.start()
    try:
        assert len(sc.pool.specs) == len(inv.devices) and not sc.warnings  # type: ignore[union-attr]
        get = require_binary("snmpget", "snmp")
        core = inv.device("dongxoai-core-01")
        v3 = subprocess.run(
            [
                get,
                "-v3",
                "-l",
                "authPriv",
                "-u",
                "nocsoc",
                "-a",
                "SHA-256",
                "-A",
                "sample-auth-pass",
                "-x",
                "AES",
                "-X",
                "sample-priv-pass",
                "-On",
                "-t",
                "2",
                "-r",
                "0",
                f"{core.address}:16100",
                "1.3.6.1.2.1.1.5.0",
            ],
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert v3.stdout.strip() == '.1.3.6.1.2.1.1.5.0 = STRING: "dongxoai-core-01"', v3.stderr
        portal = inv.device("dongxoai-srv-portal")
        v2 = subprocess.run(
            [
                get,
                "-v2c",
                "-c",
                "sample-community",
                "-On",
                "-t",
                "2",
                "-r",
                "0",
                f"{portal.address}:16100",
                "1.3.6.1.2.1.1.5.0",
            ],
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert v2.stdout.strip() == '.1.3.6.1.2.1.1.5.0 = STRING: "dongxoai-srv-portal"', v2.stderr
    finally:
        sc.stop()
    for k in range(5):
        sc.render_tick(k)
    m = sc.manifest()
    assert [t["device"] for t in m["flows"]["top_destinations"][:2]] == [
        "dongxoai-srv-portal",
        "dongxoai-srv-ioc",
    ]
    assert {a["target"] for a in m["attacks"]} >= {
        "dongxoai-srv-portal",
        "dongxoai-core-01",
        "dongxoai-fw-01",
    }
    assert len(m["flows"]["exporters"]) == sum(1 for d in inv.devices if d.flow_exporter)


def test_training_lab_example_script_fits_the_sample() -> None:
    """The exercise shown in docs/training-lab.md is valid against the shipped sample."""
    from nocsoc.inventory.sample import SAMPLE_INVENTORY
    from nocsoc.inventory.store import load_inventory
    from nocsoc.simulate.events import Script, validate_script
    from nocsoc.simulate.topology import build_topology

    doc = (Path(__file__).resolve().parents[2] / "docs" / "training-lab.md").read_text(encoding="utf-8")
    block = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    script = Script.model_validate(yaml.safe_load(block))
    assert len(script.link_flaps) == len(script.reboots) == len(script.optics) == 1
    assert validate_script(script, build_topology(load_inventory(SAMPLE_INVENTORY), seed=1)) == []
