"""Simulated backbone: agent CPU per varbind (vs snmpsim), and the CPU the whole lab costs.

Same run, same client: net-snmp's `snmpbulkwalk -Cr25` walks ifXTable and ifTable of every
device of the sample backbone (48 devices: v2c servers, SNMPv3 authPriv routers) served by
`nocsoc simulate`, then of a 48-port router served by snmpsim (the PyPI simulator). Agent cost is
the agent process's own CPU time (the simulator runs inside this process; snmpsim's is read from
/proc), divided by the varbinds returned. The lab's background cost is its CPU share while it
exports flows and syslog for the whole sample at --speed 60.
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import Skipped
from bench.procstat import proc_cpu

COLUMNS = ("1.3.6.1.2.1.31.1.1.1", "1.3.6.1.2.1.2.2.1")
ENV = {
    "NOCSOC_SNMP_COMMUNITY": "bench-community",
    "NOCSOC_SNMP_AUTH": "bench-auth-1",
    "NOCSOC_SNMP_PRIV": "bench-priv-1",
}
WALKED = 0  # devices walked per SNMP version (0: all of the sample's)
BACKGROUND_S = 10.0  # real seconds of flows + syslog export measured
REF_WALKS = 3  # walks of the snmpsim router
# `python -m bench --quick`: the same code paths at sizes that take seconds (figures meaningless)
QUICK = {"WALKED": 2, "BACKGROUND_S": 1.5, "REF_WALKS": 1}


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _walk(target: str, auth: list[str]) -> int:
    n = 0
    for oid in COLUMNS:
        out = subprocess.run(
            ["snmpbulkwalk", *auth, "-On", "-Oq", "-Cr25", "-t", "2", "-r", "1", target, oid],
            capture_output=True,
            text=True,
            timeout=60,
        )
        n += sum(1 for line in out.stdout.splitlines() if line.startswith("."))
    return n


def _free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _sample_inventory() -> Any:
    """The sample backbone, each device's agent on a port free on its address now: the sample's
    own port (16100) may be taken by a `nocsoc simulate` or a test running on this machine."""
    from nocsoc.inventory.sample import SAMPLE_INVENTORY
    from nocsoc.inventory.store import load_inventory

    inv = load_inventory(SAMPLE_INVENTORY)
    for d in inv.devices:
        d.snmp_port = _free_udp_port(d.address)
    return inv


def _simulator() -> dict[str, Any]:
    from nocsoc.simulate.scenario import Scenario, SimulateConfig

    inv = _sample_inventory()
    c0, w0 = _self_cpu(), time.perf_counter()
    sc = Scenario(inv, SimulateConfig(seed=1, speed=60, flows_to=None, syslog_to=None))
    sc.start()
    start_cpu, start_wall = _self_cpu() - c0, time.perf_counter() - w0
    out: dict[str, Any] = {"devices": len(inv.devices), "start_cpu": start_cpu, "start_wall": start_wall}
    pool = sc.pool
    assert pool is not None
    try:
        for version in ("2c", "3"):
            devs = [d for d in inv.devices if inv.profile(d.profile).version == version]
            devs = devs[:WALKED] if WALKED else devs
            req0 = pool.counters.get("requests")
            sent0 = pool.counters.get("varbinds")
            c0 = _self_cpu()
            vb = 0
            for d in devs:
                auth = (
                    ["-v2c", "-c", ENV["NOCSOC_SNMP_COMMUNITY"]]
                    if version == "2c"
                    else [
                        "-v3",
                        "-l",
                        "authPriv",
                        "-u",
                        "nocsoc",
                        "-a",
                        inv.profile(d.profile).auth_protocol or "",
                        "-A",
                        ENV["NOCSOC_SNMP_AUTH"],
                        "-x",
                        "AES" if inv.profile(d.profile).priv_protocol == "AES-128" else "AES-256",
                        "-X",
                        ENV["NOCSOC_SNMP_PRIV"],
                    ]
                )
                vb += _walk(f"{d.address}:{d.snmp_port}", auth)
            out[version] = {
                "devices": len(devs),
                "varbinds": vb,
                "cpu": _self_cpu() - c0,
                "requests": pool.counters.get("requests") - req0,
                "sent": pool.counters.get("varbinds") - sent0,
            }
    finally:
        sc.stop()
    return out


def _background() -> dict[str, Any]:
    from nocsoc.simulate.scenario import Scenario, SimulateConfig

    seconds = BACKGROUND_S

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    port = sink.getsockname()[1]
    sc = Scenario(
        _sample_inventory(),
        SimulateConfig(
            seed=1,
            speed=60,
            duration_s=seconds,
            snmp=False,
            flows_to=f"127.0.0.1:{port}",
            syslog_to=f"127.0.0.1:{port}",
        ),
    )
    c0 = _self_cpu()
    sc.start()
    sc.wait(seconds + 30)
    cpu = _self_cpu() - c0
    sc.stop()
    sink.close()
    st = sc.status()
    return {
        "cpu": cpu,
        "seconds": seconds,
        "records": st["flow_records"],
        "datagrams": st["flow_datagrams"],
        "lines": st["syslog_lines"],
    }


def _snmpsim_reference() -> dict[str, Any] | None:
    try:
        from tests.collectors.snmp.snmprec import Router, router
        from tests.servers.snmp import SNMPSIM_VENV, SnmpSim
    except ImportError:
        return None
    if not (SNMPSIM_VENV / "bin" / "snmpsim-command-responder").exists():
        return None
    tmp = Path(tempfile.mkdtemp(prefix="nocsoc-bench-sim-"))
    f = tmp / "r0.snmprec"
    f.write_text(
        router(
            Router(
                "bench-r0",
                "Cisco IOS XR Software",
                "1.3.6.1.4.1.9.1.2494",
                ports=48,
                optics_ports=(1, 2, 3, 4),
                neighbours=[],
            )
        )
    )
    sim = SnmpSim({"r0": f})
    try:
        pid = sim.process.proc.pid
        c0 = proc_cpu(pid)
        vb = 0
        for _ in range(REF_WALKS):
            vb += _walk(f"{sim.addresses['r0']}:{sim.ports['r0']}", ["-v2c", "-c", "public"])
        return {"varbinds": vb, "cpu": proc_cpu(pid) - c0}
    finally:
        sim.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def run() -> list[dict[str, Any]]:
    if shutil.which("snmpbulkwalk") is None:
        raise Skipped("snmpbulkwalk missing (apt-get install snmp)")
    os.environ.update(ENV)
    sim = _simulator()
    ref = _snmpsim_reference()
    bg = _background()
    rows: list[dict[str, Any]] = []
    # snmpsim serves one 48-port table, so nearly every varbind it sends is one the walk keeps;
    # the sample's devices have few ports, so per *sent* varbind is the comparable figure here.
    ref_us = ref["cpu"] / ref["varbinds"] * 1e6 if ref and ref["varbinds"] else None
    for version in ("2c", "3"):
        m = sim[version]
        us = m["cpu"] / m["sent"] * 1e6
        rows.append(
            {
                "measure": f"agent CPU per varbind sent, SNMP v{version} bulk walks (-Cr25)",
                "nocsoc simulate (us)": round(us, 1),
                "snmpsim v2c (us)": round(ref_us, 1) if ref_us else "snmpsim venv missing",
                "ratio simulate/snmpsim": round(us / ref_us, 3) if ref_us else "",
                "agent CPU per request (ms)": round(m["cpu"] / max(m["requests"], 1) * 1000, 3),
                "devices walked": m["devices"],
                "varbinds sent / kept by the walk": f"{m['sent']} / {m['varbinds']}",
            }
        )
    cycle = sim["2c"]["cpu"] + sim["3"]["cpu"]
    rows.append(
        {
            "measure": "agent CPU for one ifTable+ifXTable walk of all 48 sample devices",
            "nocsoc simulate (us)": "",
            "CPU s per cycle": round(cycle, 3),
            "CPU % of one core at a 60 s poll interval": round(cycle / 60 * 100, 2),
            "start 48 agents CPU s": round(sim["start_cpu"], 2),
        }
    )
    rows.append(
        {
            "measure": "lab background CPU at --speed 60 (48 devices: flows + syslog)",
            "nocsoc simulate (us)": "",
            "CPU % of one core": round(bg["cpu"] / bg["seconds"] * 100, 2),
            "flow records/s": round(bg["records"] / bg["seconds"]),
            "syslog lines/s": round(bg["lines"] / bg["seconds"]),
        }
    )
    return rows
