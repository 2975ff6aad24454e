"""SNMP poller: varbinds per poller CPU-second (vs net-snmp's snmpbulkwalk), devices x 48 ports per 60 s.

Same run, same agents: snmpsim serves N generated 48-port routers (ifXTable counters growing,
ifTable, optics, LLDP). The poller runs as the service `nocsoc run` starts (each device on its
own interval grid), once with the lean v2c client and once through pysnmp; its cost is its own
process CPU time (not wall time: the agent competes for the same 2 cores). net-snmp's cost is
the children's CPU time of `snmpbulkwalk` walking the same interface tables (process start
included, as an operator's script would pay it). Capacity = 60 s of one core / poller CPU per
device cycle (the poller is one asyncio thread; agents elsewhere).
"""

from __future__ import annotations

import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import Skipped

DEVICES = 8
PORTS = 48
ROUNDS = 3
INTERVAL = 4.0
# Sustained load: SUSTAIN_DEVICES every SUSTAIN_INTERVAL s is the same device-cycles per second
# as SUSTAIN_DEVICES * 60 / SUSTAIN_INTERVAL devices every 60 s (time compressed so the bench
# takes seconds, not minutes). The agents (snmpsim, ~200 ms of CPU per 48-port walk) share the
# 2 cores and are the limit here, not the poller.
SUSTAIN_DEVICES = 32
SUSTAIN_INTERVAL = 6.4
# `python -m bench --quick`: the same code paths at sizes that take seconds (figures meaningless)
QUICK = {"DEVICES": 2, "ROUNDS": 1, "INTERVAL": 2.0, "SUSTAIN_DEVICES": 4, "SUSTAIN_INTERVAL": 2.0}


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _snmpbulkwalk(host: str, port: int, oid: str, max_rep: int) -> int:
    out = subprocess.run(
        [
            "snmpbulkwalk",
            "-v2c",
            "-c",
            "public",
            "-On",
            "-Oq",
            f"-Cr{max_rep}",
            "-t",
            "2",
            "-r",
            "1",
            f"{host}:{port}",
            oid,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "MIBS": ""},
    )
    return sum(1 for line in out.stdout.splitlines() if line.startswith("."))


def _measure(
    inv: Any,
    client: str,
    config_cls: Any,
    poller_cls: Any,
    sink_cls: Any,
    wait_until: Any,
    devices: int | None = None,
    interval: float | None = None,
) -> dict[str, Any]:
    """The service as `nocsoc run` starts it, every device on its own `interval` grid; CPU over
    whole cycles after the first (engine set-up, absent-table probing, sensor names)."""
    devices = DEVICES if devices is None else devices  # read at call time: --quick resizes them
    interval = INTERVAL if interval is None else interval
    results: list[Any] = []
    poller = poller_cls(
        config_cls(interval_s=interval, v2c_client=client), inv, sink_cls(), on_result=results.append
    )
    poller.start()
    try:
        wait_until(lambda: len(results) >= devices, timeout=interval * 3, what="first cycle")
        time.sleep(interval * 0.1)
        vb0, n0 = poller.counters.get("varbinds"), len(results)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        wait_until(
            lambda: len(results) >= n0 + ROUNDS * devices,
            timeout=interval * (ROUNDS + 3),
            what="measured cycles",
        )
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        varbinds = poller.counters.get("varbinds") - vb0
        cycles = results[n0:]
    finally:
        poller.stop()
    return {
        "cpu": cpu,
        "wall": wall,
        "varbinds": varbinds,
        "cycles": len(cycles),
        "ok": sum(r.ok for r in cycles),
        "overruns": poller.counters.get("overruns"),
    }


def _inventory(inventory_cls: Any, sims: list[Any]) -> Any:
    return inventory_cls.model_validate(
        {
            "sites": [{"id": "dx", "name": "Đồng Xoài"}],
            "snmp_profiles": [
                {
                    "name": "sim",
                    "community": "env:NOCSOC_BENCH_COMMUNITY",
                    "timeout_s": 5,
                    "retries": 1,
                    "max_repetitions": 25,
                }
            ],
            "devices": [
                {
                    "name": n,
                    "address": sim.addresses[n],
                    "snmp_port": sim.ports[n],
                    "profile": "sim",
                    "role": "core",
                    "site": "dx",
                }
                for sim in sims
                for n in sim.ports
            ],
        }
    )


def run() -> list[dict[str, Any]]:
    import shutil

    from nocsoc.collectors.snmp.config import SnmpConfig
    from nocsoc.collectors.snmp.poller import SnmpPoller
    from nocsoc.inventory.model import Inventory
    from nocsoc.sinks.memory import MemorySink
    from tests.collectors.snmp.snmprec import MAC, Neighbour, Router, router
    from tests.servers.base import wait_until
    from tests.servers.snmp import SNMPSIM_VENV, SnmpSim

    if not (SNMPSIM_VENV / "bin" / "snmpsim-command-responder").exists():
        raise Skipped(f"{SNMPSIM_VENV} missing (make snmpsim-venv)")
    if shutil.which("snmpbulkwalk") is None:
        raise Skipped("snmpbulkwalk missing (apt-get install snmp)")

    tmp = Path(tempfile.mkdtemp(prefix="nocsoc-bench-snmp-"))
    files = {}
    for i in range(DEVICES):
        f = tmp / f"r{i}.snmprec"
        f.write_text(
            router(
                Router(
                    f"bench-r{i}",
                    "Cisco IOS XR Software",
                    "1.3.6.1.4.1.9.1.2494",
                    ports=PORTS,
                    optics_ports=(1, 2, 3, 4),
                    neighbours=[Neighbour(1, "dx-core-1", "Te0/0/1", MAC["dx-core-1"])],
                    chassis_mac=f"02:00:5e:00:00:{i:02x}",  # locally administered, one per router
                )
            )
        )
        files[f"r{i}"] = f
    sim = SnmpSim(files)
    os.environ["NOCSOC_BENCH_COMMUNITY"] = "public"
    try:
        inv = _inventory(Inventory, [sim])
        measured = {
            client: _measure(inv, client, SnmpConfig, SnmpPoller, MemorySink, wait_until)
            for client in ("lean", "pysnmp")
        }

        # net-snmp on the same devices and the same interface columns (what the poller walks).
        cols = ["1.3.6.1.2.1.31.1.1.1", "1.3.6.1.2.1.2.2.1"]
        c0, w0 = _cpu_children(), time.perf_counter()
        ref_vb = 0
        for _ in range(ROUNDS):
            for n in files:
                for oid in cols:
                    ref_vb += _snmpbulkwalk(sim.addresses[n], sim.ports[n], oid, 25)
        ref_cpu = _cpu_children() - c0
        ref_wall = time.perf_counter() - w0
    finally:
        sim.stop()
    sims = []
    try:
        half = SUSTAIN_DEVICES // 2
        sims = [SnmpSim({f"s{k}-{i}": files[f"r{i % DEVICES}"] for i in range(half)}) for k in range(2)]
        sustained = _measure(
            _inventory(Inventory, sims),
            "lean",
            SnmpConfig,
            SnmpPoller,
            MemorySink,
            wait_until,
            devices=SUSTAIN_DEVICES,
            interval=SUSTAIN_INTERVAL,
        )
    finally:
        for sim in sims:
            sim.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    lean, plain = measured["lean"], measured["pysnmp"]
    ours = lean["varbinds"] / lean["cpu"]
    pysnmp_rate = plain["varbinds"] / plain["cpu"]
    theirs = ref_vb / ref_cpu if ref_cpu else float("nan")
    per_device_cpu = lean["cpu"] / lean["cycles"]
    per_device_cpu_pysnmp = plain["cpu"] / plain["cycles"]
    per_core = 60 / per_device_cpu
    return [
        {
            "measure": "varbinds per poller CPU-second",
            "nocsoc lean v2c client": round(ours),
            "nocsoc via pysnmp": round(pysnmp_rate),
            "net-snmp snmpbulkwalk": round(theirs),
            "ratio lean/snmpbulkwalk": round(ours / theirs, 3),
            "ratio lean/pysnmp": round(ours / pysnmp_rate, 2),
            "goal": ">= 10000",
            "devices": DEVICES,
            "interval s": INTERVAL,
            "cycles (lean)": f"{lean['ok']}/{lean['cycles']} ok, {lean['overruns']} overruns",
            "cycles (pysnmp)": f"{plain['ok']}/{plain['cycles']} ok, {plain['overruns']} overruns",
            "varbinds (lean)": lean["varbinds"],
            "poller CPU s (lean)": round(lean["cpu"], 3),
            "varbinds (pysnmp)": plain["varbinds"],
            "poller CPU s (pysnmp)": round(plain["cpu"], 3),
            "snmpbulkwalk varbinds": ref_vb,
            "snmpbulkwalk CPU s": round(ref_cpu, 3),
            "snmpbulkwalk wall s": round(ref_wall, 3),
        },
        {
            "measure": f"devices x {PORTS} ports polled every 60 s (from poller CPU per device cycle)",
            "CPU per device cycle ms (lean)": round(per_device_cpu * 1000, 1),
            "CPU per device cycle ms (pysnmp)": round(per_device_cpu_pysnmp * 1000, 1),
            "varbinds per device cycle": round(lean["varbinds"] / lean["cycles"]),
            "devices per core (lean)": int(per_core),
            "devices per core (pysnmp)": int(60 / per_device_cpu_pysnmp),
            "devices on this 2-core machine (one poller process, agents elsewhere)": int(per_core),
            "sustained (measured)": f"{SUSTAIN_DEVICES} devices every {SUSTAIN_INTERVAL:g} s "
            f"(= {int(SUSTAIN_DEVICES * 60 / SUSTAIN_INTERVAL)} devices every 60 s): "
            f"{sustained['ok']}/{sustained['cycles']} cycles ok, {sustained['overruns']} overruns, "
            f"poller CPU {sustained['cpu'] / sustained['wall'] * 100:.1f}% of one core",
            "measured": f"{DEVICES} devices x {ROUNDS} cycles every {INTERVAL:g} s without an overrun; "
            "the capacity rows extrapolate from CPU time",
        },
    ]


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
