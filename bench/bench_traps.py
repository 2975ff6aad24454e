"""SNMP traps: traps per receiver CPU-second, nocsoc vs net-snmp's snmptrapd, same datagrams.

The datagrams are what Debian's `snmptrap` puts on the wire (captured once): a v2c linkDown with
ifIndex/ifOperStatus/ifName, a v1 coldStart and a v3 authPriv (SHA/AES-128) linkDown. In
process: `TrapReceiver.handle` (pysnmp decode and USM, catalogue, event, `snmp_trap` and
`interface` points) per CPU-second of this thread, alerts off (the alert store's commit is a
separate cost: one SQLite transaction per flush). Over UDP: the receiver's two threads (socket and
worker, their own CPU time from /proc) while a sender replays N datagrams at a paced rate, alerts
on (SQLite WAL store, flushed every second). Reference: Debian's `snmptrapd` (C) receiving the
same datagrams over UDP with a log line per trap, its process CPU time.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.procstat import proc_cpu  # noqa: E402
from nocsoc.collectors.traps.config import TrapsConfig  # noqa: E402
from nocsoc.collectors.traps.receiver import TrapReceiver  # noqa: E402
from nocsoc.detections.alerts import AlertStore  # noqa: E402
from nocsoc.inventory.model import Inventory  # noqa: E402
from nocsoc.sinks.memory import MemorySink  # noqa: E402

COMMUNITY, AUTH, PRIV = "bench-community", "bench-auth-pass", "bench-priv-pass"
ENGINE = "8000000001020304bb"
N_PROCESS = 3000
N_UDP = 10_000
QUICK = {"N_PROCESS": 200, "N_UDP": 400}
RATE = 2500  # datagrams/s offered over UDP (both receivers keep up; CPU is what is compared)
LINK = ["1.3.6.1.2.1.2.2.1.1.7", "i", "7", "1.3.6.1.2.1.2.2.1.7.7", "i", "1", "1.3.6.1.2.1.2.2.1.8.7", "i",
        "2", "1.3.6.1.2.1.31.1.1.1.1.7", "s", "GigabitEthernet0/7"]
KINDS = {
    "v2c linkDown": ["-v", "2c", "-c", COMMUNITY, "{target}", "100", "1.3.6.1.6.3.1.1.5.3", *LINK],
    "v1 coldStart": ["-v", "1", "-c", COMMUNITY, "{target}", "1.3.6.1.4.1.8072.3.2.10", "127.0.0.1", "0", "0",
                     "100"],
    "v3 authPriv linkDown": ["-v", "3", "-e", f"0x{ENGINE}", "-u", "benchuser", "-l", "authPriv", "-a", "SHA",
                             "-A", AUTH, "-x", "AES", "-X", PRIV, "{target}", "100", "1.3.6.1.6.3.1.1.5.3",
                             *LINK],
}


def capture(tmp: Path) -> dict[str, bytes]:
    env = {**os.environ, "MIBS": "", "SNMPCONFPATH": str(tmp), "SNMP_PERSISTENT_DIR": str(tmp)}
    out = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(10)
        target = f"127.0.0.1:{s.getsockname()[1]}"
        for kind, args in KINDS.items():
            subprocess.run(["snmptrap", *[a.format(target=target) for a in args]], check=True,
                           capture_output=True, timeout=30, env=env)
            out[kind] = s.recv(65535)
    return out


def receiver(tmp: Path, store: AlertStore | None) -> TrapReceiver:
    os.environ.update({"BENCH_TRAP_COMMUNITY": COMMUNITY, "BENCH_TRAP_AUTH": AUTH, "BENCH_TRAP_PRIV": PRIV})
    cfg = TrapsConfig.model_validate({
        "enabled": True, "bind": "127.0.0.1:0", "communities": ["env:BENCH_TRAP_COMMUNITY"],
        "alerts": store is not None, "queue_datagrams": 100_000, "receive_buffer_bytes": 32 << 20,
        "users": [{"user": "benchuser", "engine_ids": [ENGINE], "auth_protocol": "SHA",
                   "auth_password": "env:BENCH_TRAP_AUTH", "priv_protocol": "AES-128",
                   "priv_password": "env:BENCH_TRAP_PRIV"}]})
    inv = Inventory.model_validate({
        "version": 1, "sites": [{"id": "dc1", "name": "DC 1"}],
        "snmp_profiles": [{"name": "v2", "version": "2c", "community": "env:BENCH_TRAP_COMMUNITY"}],
        "devices": [{"name": "core-01", "address": "127.0.0.1", "role": "core", "site": "dc1",
                     "profile": "v2"}]})
    return TrapReceiver(cfg, inv, MemorySink(), base_dir=tmp, store=store)


def in_process(tmp: Path, grams: dict[str, bytes]) -> dict[str, float]:
    out = {}
    for kind, data in grams.items():
        rates = []
        for _ in range(3):
            r = receiver(tmp, None)
            t0 = time.process_time()
            for i in range(N_PROCESS):
                r.handle(data, ("127.0.0.1", 40000))
                if i % 1000 == 999:
                    r.flush()
            r.flush()
            rates.append(N_PROCESS / (time.process_time() - t0))
            assert r.counters.get("traps") == N_PROCESS, r.counters.snapshot()
        out[kind] = sorted(rates)[1]
    return out


def _send(port: int, data: bytes, n: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        t0 = time.monotonic()
        for i in range(n):
            s.sendto(data, ("127.0.0.1", port))
            ahead = i / RATE - (time.monotonic() - t0)
            if ahead > 0.002:
                time.sleep(ahead)


def _wait(predicate: Any, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def nocsoc_udp(tmp: Path, data: bytes) -> dict[str, float]:
    store = AlertStore(tmp / "alerts.db")
    r = receiver(tmp, store)
    r.start()
    try:
        tids = [t.native_id for t in r._threads]
        before = sum(proc_cpu(os.getpid(), tid) for tid in tids if tid)
        _send(r.address()[1], data, N_UDP)
        _wait(lambda: r.counters.get("traps") >= N_UDP, 60)
        cpu = sum(proc_cpu(os.getpid(), tid) for tid in tids if tid) - before
        got = r.counters.get("traps")
    finally:
        r.stop()
        store.close()
    return {"handled": got, "cpu_s": cpu, "per_cpu_s": got / cpu if cpu else 0.0}


def snmptrapd_udp(tmp: Path, data: bytes) -> dict[str, float] | None:
    binary = shutil.which("snmptrapd") or ("/usr/sbin/snmptrapd" if os.path.exists("/usr/sbin/snmptrapd")
                                           else None)
    if binary is None:
        return None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf, log = tmp / "snmptrapd.conf", tmp / "snmptrapd.log"
    conf.write_text(f"authCommunity log {COMMUNITY}\n"
                    f"createUser -e 0x{ENGINE} benchuser SHA {AUTH} AES {PRIV}\nauthUser log benchuser\n")
    proc = subprocess.Popen([binary, "-f", "-n", "-C", "-c", str(conf), "-Lf", str(log), "-F", "%a %N\n",
                             f"udp:127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "MIBS": "", "SNMP_PERSISTENT_DIR": str(tmp)})
    try:
        def lines() -> int:
            return log.read_text(errors="replace").count("\n") if log.exists() else 0
        _send(port, data, 1)
        if not _wait(lambda: lines() >= 1, 20):
            return None
        start = lines()
        before = proc_cpu(proc.pid)
        _send(port, data, N_UDP)
        _wait(lambda: lines() - start >= N_UDP, 60)
        cpu = proc_cpu(proc.pid) - before
        got = lines() - start
    finally:
        proc.terminate()
        proc.wait(10)
    return {"handled": got, "cpu_s": cpu, "per_cpu_s": got / cpu if cpu else 0.0}


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-traps-") as d:
        tmp = Path(d)
        grams = capture(tmp)
        proc_rates = in_process(tmp, grams)
        rows = []
        for kind, data in grams.items():
            slug = kind.replace(" ", "_")
            mine, theirs = tmp / f"nocsoc-{slug}", tmp / f"snmptrapd-{slug}"
            mine.mkdir()
            theirs.mkdir()
            ours = nocsoc_udp(mine, data)
            ref = snmptrapd_udp(theirs, data)
            rows.append({
                "trap": kind, "bytes": len(data),
                "nocsoc handle/CPU-s": round(proc_rates[kind]),
                "nocsoc over UDP traps/CPU-s": round(ours["per_cpu_s"]),
                "nocsoc handled": f"{int(ours['handled'])}/{N_UDP}",
                "snmptrapd traps/CPU-s": round(ref["per_cpu_s"]) if ref else None,
                "snmptrapd handled": f"{int(ref['handled'])}/{N_UDP}" if ref else "not run",
                "CPU/trap nocsoc / snmptrapd": (round(ref["per_cpu_s"] / ours["per_cpu_s"], 1)
                                                if ref and ours["per_cpu_s"] else None),
            })
    return {"title": "SNMP traps: nocsoc receiver vs snmptrapd, traps per CPU-second",
            "description": (__doc__ or "").split("\n\n")[1],
            "rows": rows,
            "notes": [f"In process: median of 3 runs of {N_PROCESS:,} datagrams each. Over UDP: {N_UDP:,} "
                      f"datagrams offered at {RATE:,}/s; the receiver's socket and worker threads (nocsoc) "
                      "and the whole snmptrapd process, CPU time from /proc.",
                      "pysnmp's message processing is the cost (0.5-0.7 ms per v1/v2c trap, 1.1 ms per v3 "
                      "authPriv trap with HMAC and AES: ~14-21x snmptrapd's C); one receiver process "
                      "handles the second column's rate per core, far above what a backbone of a few "
                      "hundred devices sends even in a link-flap storm, and the socket thread queues "
                      "bursts (traps.queue_datagrams) without loss."]}


if __name__ == "__main__":
    import json
    print(json.dumps(run(), indent=2))
