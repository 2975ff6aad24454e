"""Bus detector: correlation windows saved with each mark vs kept per detector, events per CPU-second.

A bus detector's log pipeline fed as its partition runner feeds it (bus messages of 16 syslog
lines, 8 partitions, marks on each message's last line), no NATS: what is compared is the
detector's own cost. With `bus.move_windows: true` every commit also stores what changed
in each partition's correlation state (groups touched, events newly held for reordering and
released: `nocsoc.bus.windows`); without it, marks wait for the reordering and the windows are
snapshotted every 60 s. The mix: 40% failed SSH logins from 2,000 attackers (the brute force and
spraying correlations, thousands of groups), 60% other sshd and web lines, 64 hosts; the store
is SQLite (WAL) in a temporary directory, commits every 0.2 s (the defaults). The figure is the
engine thread's CPU time (/proc schedstat) from the first line to the last commit; rounds of
the two alternate in the same minutes, the median is kept.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.procstat import proc_cpu  # noqa: E402
from nocsoc.bus.config import BusConfig  # noqa: E402
from nocsoc.bus.envelope import Record  # noqa: E402
from nocsoc.bus.logs import LogDetectorHandler, detector_logs_config, detector_windows  # noqa: E402
from nocsoc.bus.partition import partition_of  # noqa: E402
from nocsoc.bus.publish import group_key  # noqa: E402
from nocsoc.bus.windows import PartitionWindows, Pending  # noqa: E402
from nocsoc.collectors.logs.config import LogsConfig  # noqa: E402
from nocsoc.collectors.logs.pipeline import LogPipeline  # noqa: E402
from nocsoc.detections.config import DetectionsConfig  # noqa: E402
from nocsoc.sinks.memory import MemorySink  # noqa: E402

LINES = 40_000
ROUNDS = 5
QUICK = {"LINES": 2_000, "ROUNDS": 1}
PARTITIONS = 8
HOSTS = 64
ATTACKERS = 2_000  # the worst case: nearly every failure touches a group no other failure of
# its commit touched, so nearly every failure costs a group saved (per correlation)
FEW = 20  # brute forces as they come: many failures per group between two commits
PER_MESSAGE = 16
T0 = 1_764_032_400.0  # 2025-11-25 01:00 UTC: receive times

FAIL = ("<38>Nov 25 {h:02d}:{m:02d}:{s:02d} srv{host} sshd[{pid}]: Failed password for invalid user "
        "u{user} from 198.51.{a1}.{a2} port {port} ssh2")
OK = ("<38>Nov 25 {h:02d}:{m:02d}:{s:02d} srv{host} sshd[{pid}]: Accepted publickey for deploy from "
      "10.0.{a1}.{a2} port {port} ssh2")
WEB = ('<190>Nov 25 {h:02d}:{m:02d}:{s:02d} srv{host} nginx: 10.1.{a1}.{a2} - - '
       '[25/Nov/2026:{h:02d}:{m:02d}:{s:02d} +0700] "GET /index.html HTTP/1.1" 200 512 "-" "Mozilla/5.0"')


def workload(n: int, attackers: int = ATTACKERS) -> dict[int, list[list[Record]]]:
    """Per partition, its messages in order: each host's lines (one a 20 ms of event time,
    hosts interleaved), cut into messages of PER_MESSAGE lines of one host, each line received
    (the record's receive time: a partition's reorder clock, nocsoc.bus.engines) at its event
    time."""
    per_host: dict[int, list[tuple[str, float]]] = {h: [] for h in range(HOSTS)}
    for i in range(n):
        t = 3600 + i // 50  # 50 lines a second of event time
        h, m, s = t // 3600, t // 60 % 60, t % 60
        host = i % HOSTS
        a = (i * 7919) % attackers
        kind = i % 5
        fmt = FAIL if kind < 2 else OK if kind < 4 else WEB
        per_host[host].append((fmt.format(h=h, m=m, s=s, host=host, pid=1000 + i % 500, user=i % 37,
                                          a1=a // 250, a2=a % 250, port=30000 + i % 20000), T0 + t))
    out: dict[int, list[list[Record]]] = {p: [] for p in range(PARTITIONS)}
    for host, lines in per_host.items():
        sender = f"127.0.9.{host + 1}"
        p = partition_of(group_key(sender), PARTITIONS)
        for k in range(0, len(lines), PER_MESSAGE):
            out[p].append([(ln.encode(), sender, t) for ln, t in lines[k:k + PER_MESSAGE]])
    return out


class NotSaved(PartitionWindows):
    """Windows per partition and marks at once, as with move_windows, but nothing saved: the
    saving's own cost is the difference."""

    def changes(self, engine: Any) -> Pending:
        return Pending({}, {}, {}, set())


def one_run(tmp: Path, msgs: dict[int, list[list[Record]]], mode: str, k: int) -> dict[str, float]:
    bus = BusConfig(log_partitions=PARTITIONS, move_windows=mode != "kept")
    scope = detector_windows(bus) if mode != "not saved" else NotSaved(PARTITIONS, str)
    pipeline = LogPipeline(detector_logs_config(LogsConfig(syslog_udp=None, syslog_tcp=None)),
                           DetectionsConfig(alerts_db=str(tmp / f"run{k}.db")), MemorySink(), base_dir=tmp,
                           window_scope=scope)
    handler = LogDetectorHandler(pipeline, bus, pipeline.window_scope)  # type: ignore[arg-type]
    pipeline.start()
    try:
        import asyncio

        nxt = {p: asyncio.run(handler.acquire(p)) for p in range(PARTITIONS)}
        while not pipeline.idle():
            time.sleep(0.01)
        assert pipeline._worker is not None
        tid = pipeline._worker.native_id
        cpu0, wall0 = proc_cpu(__import__("os").getpid(), tid), time.perf_counter()
        depth = max(len(ms) for ms in msgs.values())
        for i in range(depth):  # partitions interleaved, as the runner's fetches come
            for p, ms in msgs.items():
                if i < len(ms):
                    handler.handle(p, nxt[p] + i, ms[i])
        pipeline.release_held()  # what a drain does: the last events out of the reordering
        while not pipeline.idle():
            time.sleep(0.005)
        cpu, wall = proc_cpu(__import__("os").getpid(), tid) - cpu0, time.perf_counter() - wall0
        events = pipeline.processed()
        groups = pipeline.engine.state_size()
    finally:
        pipeline.stop()
    return {"cpu": cpu, "wall": wall, "events": events, "groups": groups}


def run() -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    notes = [f"Median of {ROUNDS} rounds each, the three alternating in the same minutes."]
    for attackers in (ATTACKERS, FEW):
        got, note = mix(attackers)
        rows += got
        notes.append(note)
    notes.append("Groups: windows per partition count an attacker seen through several partitions "
                 "once per partition (docs/scale.md), hence more groups.")
    return {"title": "Bus detector: correlation windows saved with each mark, events per CPU-second",
            "description": (__doc__ or "").split("\n\n")[1].strip(), "rows": rows, "notes": notes}


def mix(attackers: int) -> tuple[list[dict[str, Any]], str]:
    msgs = workload(LINES, attackers)
    modes = {"kept": "kept per detector (move_windows: false)",
             "not saved": "per partition, marks at once, not saved (for the A/B)",
             "saved": "saved with each mark (move_windows: true)"}
    results: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
    with tempfile.TemporaryDirectory(prefix="bench-buswindows-") as d:
        tmp = Path(d)
        k = 0
        for _ in range(ROUNDS):
            for mode in modes:  # alternating, in the same minutes
                k += 1
                results[mode].append(one_run(tmp, msgs, mode, k))
    rows = []
    for mode, label in modes.items():
        rs = results[mode]
        cpu = statistics.median(r["cpu"] for r in rs)
        rows.append({"attackers": attackers, "windows": label, "lines": LINES,
                     "events per engine CPU-s": round(LINES / cpu),
                     "engine CPU us/line": round(cpu / LINES * 1e6, 1),
                     "wall s (median)": round(statistics.median(r["wall"] for r in rs), 2),
                     "groups at the end": int(rs[0]["groups"])})
    kept, bare, saved = (statistics.median(r["cpu"] for r in results[m]) for m in modes)
    ratios = ", ".join(f"{m['cpu'] / b['cpu']:.2f}"
                       for b, m in zip(results["not saved"], results["saved"], strict=True))
    return rows, (f"{attackers:,} attackers: the saving's own cost (saved vs not saved) "
                  f"{(saved / bare - 1) * 100:+.0f}% engine CPU per line (per round: {ratios}); the "
                  f"default's change as a whole (saved vs kept per detector) "
                  f"{(saved / kept - 1) * 100:+.0f}%.")


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=1))
