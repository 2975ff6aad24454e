"""A sharded SNMP poller in its own process, so that a test can kill it for real (SIGKILL: no
clean leave, its heartbeat simply stops).

    python -m tests.shard.poller_proc SPEC.json

SPEC: {"inventory": {...}, "out": path, "id": name, "url": nats urls, "interval_s": s,
"shard": {ShardConfig fields}}. Every snmp_poll point (one per device cycle) is appended to
`out` as a JSON line {"device", "time_ns", "poller"} and flushed at once: the test's sink. Each
change of the poller's view of the membership goes to `<out>.members` ({"time", "members"}). On
SIGTERM the poller's shard counters (taken before it stops: the gauges drop to 0 on a leave) go
to `<out>.counters.json`, then it stops cleanly.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nocsoc.collectors.snmp.config import SnmpConfig
from nocsoc.collectors.snmp.poller import SnmpPoller
from nocsoc.inventory.model import Inventory
from nocsoc.schema import Point
from nocsoc.shard.member import ShardMember


class PollLog:
    """A sink keeping one line per device cycle (its snmp_poll point)."""

    name = "poll-log"

    def __init__(self, path: Path, poller: str) -> None:
        self.poller = poller
        self._file = path.open("a", buffering=1)
        self._lock = threading.Lock()

    def write(self, points: Sequence[Point]) -> None:
        lines = [json.dumps({"device": p.tags["device"], "time_ns": p.time_ns, "poller": self.poller})
                 for p in points if p.measurement == "snmp_poll"]
        with self._lock:
            for line in lines:
                self._file.write(line + "\n")
            self._file.flush()

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self) -> None:
        self._file.close()

    def counters(self) -> dict[str, int]:
        return {}


def main(spec_path: str) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("nocsoc.shard").setLevel(logging.DEBUG)
    spec: dict[str, Any] = json.loads(Path(spec_path).read_text())
    config = SnmpConfig(interval_s=spec["interval_s"], shard=spec["shard"])
    member = ShardMember(config.shard, config.shard.servers(spec["url"]), spec["id"])
    sink = PollLog(Path(spec["out"]), member.id)
    poller = SnmpPoller(config, Inventory.model_validate(spec["inventory"]), sink, shard=member)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    poller.start()
    seen: tuple[str, ...] | None = None
    with open(spec["out"] + ".members", "a", buffering=1) as views:
        while not stop.wait(0.05):
            if member.members != seen:
                seen = member.members
                views.write(json.dumps({"time": time.time(), "members": list(seen)}) + "\n")
    counted = member.counters.snapshot()
    poller.stop()
    sink.close()
    Path(spec["out"] + ".counters.json").write_text(json.dumps(counted))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
