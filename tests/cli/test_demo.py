"""`nocsoc demo` end to end, as a newcomer runs it: simulator + `nocsoc run` on the sqlite sink."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from nocsoc.detections.alerts import AlertStore
from nocsoc.service.summary import check_attacks, read_summary
from tests.servers.base import free_port, wait_until


def test_demo_detects_what_the_simulator_injected(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOCSOC_")}
    env["COLUMNS"] = "160"
    proc = subprocess.run(
        [sys.executable, "-m", "nocsoc", "demo", "--dir", str(workdir), "--duration", "60", "--speed", "60"],
        capture_output=True, text=True, env=env, timeout=240, check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]

    manifest = json.loads((workdir / "var" / "manifest.json").read_text())
    checks = check_attacks(manifest, workdir / "var" / "alerts.db")
    assert len(checks) == len(manifest["attacks"]) >= 6
    missed = [c.kind for c in checks if not c.rules]
    assert missed == [], f"injected attacks without an alert: {missed}"
    for c in checks:
        assert c.kind in out and c.source in out

    summary = read_summary(workdir / "var" / "nocsoc.db", workdir / "var" / "alerts.db")
    assert summary.links and summary.links[0].util_pct > 0
    events = manifest["events"]
    rebooted = {r["device"] for r in events["reboots"] if r["boot_at"] < manifest["emitted_until"]}
    assert rebooted and rebooted <= set(summary.reboots)
    flapped = {i.split(":")[0] for f in manifest["events"]["link_flaps"] for i in f["interfaces"]}
    assert flapped & {e.split()[0] for e in summary.link_events}
    # The demo covers the whole script; the degraded optic ends below the alert threshold (-25 dBm).
    assert manifest["script_end_at"] <= manifest["emitted_until"]
    weak = {o["device"] for o in events["optics"] if o["to_dbm"] < -25}
    assert weak and weak <= {w.split()[0] for w in summary.weak_optics}
    # The biggest destination the simulator sent is the biggest one nocsoc's flow rollups saw.
    top_dst = manifest["flows"]["top_destinations"][0]
    names = {top_dst["address"]: top_dst["device"]}
    named = read_summary(workdir / "var" / "nocsoc.db", None, names=names)
    dst = [t for t in named.talkers if t.kind == "dst"]
    assert dst[0].key == f"{top_dst['device']} ({top_dst['address']})"
    dashboards = sorted((workdir / "grafana" / "dashboards").rglob("*.json"))
    assert len(dashboards) == 7  # six, and the backbone weathermap
    assert "Backbone links by utilization" in out and "Injected attacks" in out

    # The same workspace read by the operator views: `top` (one frame) and `status`.
    cfg = str(workdir / "nocsoc.yaml")
    top = subprocess.run([sys.executable, "-m", "nocsoc", "-c", cfg, "top", "--once"], capture_output=True,
                         text=True, env=env, timeout=60, check=False)
    assert top.returncode == 0, top.stderr
    assert "Backbone links by utilization" in top.stdout and "Alerts by level" in top.stdout
    assert summary.links[0].device in top.stdout
    status = subprocess.run([sys.executable, "-m", "nocsoc", "-c", cfg, "status", "--json"],
                            capture_output=True, text=True, env=env, timeout=60, check=False)
    workers = {w["worker"]: w for w in json.loads(status.stdout)}
    assert set(workers) == {"snmp", "flows", "logs", "web"}
    assert {w["state"] for w in workers.values()} == {"stopped"}
    assert workers["logs"]["services"]["logs"]["alerts"] >= len(checks)

    # It ends with the console's command and URL; the console shows the demo's data from the
    # embedded store, signed in as the demo analyst (password in a 0600 file, never printed).
    pw_file = workdir / "var" / "console-password"
    password = pw_file.read_text().strip()
    assert f"nocsoc -c {cfg} web" in out.replace("\n", " ") and password not in out
    assert pw_file.stat().st_mode & 0o777 == 0o600
    port = free_port()
    web = subprocess.Popen([sys.executable, "-m", "nocsoc", "-c", cfg, "web", "--bind", f"127.0.0.1:{port}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(base + "/login", timeout=1).status_code == 200, timeout=60,
                   what="nocsoc web")
        with httpx.Client(base_url=base) as cl:
            assert cl.post("/login", data={"user": "demo", "password": password}).status_code == 303
            ioc = cl.get("/ioc").text
            assert summary.links[0].device in ioc
            with AlertStore(workdir / "var" / "alerts.db") as st:
                n_open = len(st.list_alerts(state="new", limit=100_000)) + len(
                    st.list_alerts(state="acknowledged", limit=100_000))
            assert f'id="total">{n_open}<' in cl.get("/alerts").text
    finally:
        web.terminate()
        web.wait(30)
