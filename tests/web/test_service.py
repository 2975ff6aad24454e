"""The console as a service: `nocsoc run` with only `web:` enabled, users and a token made with
the CLI, the IOC pulling KPIs over real HTTP, the backbone read from the SQLite sink."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from nocsoc.context import load_context
from nocsoc.inventory.sample import init_project
from nocsoc.schema import DEVICE, INTERFACE, OPTICS
from tests.servers.base import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]


def _nocsoc(cfg: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "nocsoc", "-c", str(cfg), *args],
        input=stdin,
        text=True,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_run_serves_console_and_api(tmp_path: Path) -> None:
    init_project(tmp_path, force=True)
    port = free_port()
    cfg = tmp_path / "nocsoc.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "inventory": "inventory.yaml",
                "sinks": [{"type": "sqlite", "path": "./var/nocsoc.db"}],
                "snmp": {"enabled": False},
                "flows": {"enabled": False},
                "logs": {"enabled": False},
                "web": {"enabled": True, "bind": f"127.0.0.1:{port}"},
                # the IOC page takes its thresholds from here, as the dashboards and `top` do
                "dashboards": {
                    "optics_rx_min_dbm": -15.0,
                    "link_utilization_pct": 90.0,
                    "link_utilization_warn_pct": 84.0,
                },
            }
        )
    )
    ctx = load_context(cfg)
    inv = ctx.load_inventory()
    down = inv.devices[3].name
    now = time.time_ns()
    sink = ctx.build_sink()
    sink.write(
        [
            DEVICE.point(
                now,
                {"device": d.name, "site": d.site, "role": d.role.value},
                {"reachable": 0 if d.name == down else 1},
            )
            for d in inv.devices
        ]
    )
    sink.write(
        [
            INTERFACE.point(
                now,
                {"device": inv.devices[0].name, "ifname": "xe-0/0/1", "link": "L1"},
                {"in_bps": 8.5e8, "out_bps": 1e8, "in_util_pct": 85.0, "out_util_pct": 10.0},
            ),
            # between the default threshold (-20) and nocsoc.yaml's (-15): an alarm here
            OPTICS.point(now, {"device": inv.devices[0].name, "ifname": "xe-0/0/1", "sensor": "rx"},
                         {"rx_dbm": -17.0}),
        ]
    )
    sink.close()

    r = _nocsoc(cfg, "users", "add", "ana", "--role", "analyst", "--password-stdin", stdin="analyst-pass-1\n")
    assert r.returncode == 0, r.stderr
    r = _nocsoc(cfg, "users", "add", "bob", "--role", "analyst", "--password-stdin", stdin="short\n")
    assert r.returncode == 2 and "password too short" in r.stderr
    r = _nocsoc(cfg, "tokens", "create", "--scope", "read:kpi")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("nst_") and token not in _nocsoc(cfg, "tokens", "list").stdout

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.Popen(
        [sys.executable, "-m", "nocsoc", "-c", str(cfg), "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            try:
                return httpx.get(base + "/login", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, timeout=60, what="the console under nocsoc run")
        kpi = httpx.get(base + "/api/v1/kpi", headers={"Authorization": f"Bearer {token}"}).json()
        n = len(inv.devices)
        assert kpi["devices"] == n and kpi["devices_down"] == [down]
        assert kpi["availability_pct"] == 100.0 * (n - 1) / n
        assert kpi["links"][0]["util_pct"] == 85.0
        assert kpi["optics_alarms"] == [f"{inv.devices[0].name} xe-0/0/1 (-17.0 dBm)"]
        assert (
            httpx.get(base + "/api/v1/alerts", headers={"Authorization": f"Bearer {token}"}).status_code
            == 403
        )
        with httpx.Client(base_url=base) as cl:
            assert cl.post("/login", data={"user": "ana", "password": "analyst-pass-1"}).status_code == 303
            html = cl.get("/ioc").text
            assert f"{100.0 * (n - 1) / n:.1f} %" in html and down in html
            assert '<tr class="warm"><td>' in html  # 85 %: over the warning (84), under the alarm (90)
    finally:
        run.terminate()
        run.wait(60)
    assert run.returncode == 0, run.stderr.read().decode() if run.stderr else ""
