"""What the bus tests share: real flow captures as datagrams, a UDP sender from per-exporter
loopback addresses, and points as comparable tuples."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from pathlib import Path

import pytest

from nocsoc.schema import Point

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("NOCSOC_SHARED_DIR") or ROOT.parent / "shared")
CAPTURES = SHARED / "flow-captures"


def capture_datagrams() -> list[list[bytes]]:
    """The UDP payloads of every real capture, one list per capture (= one exporter)."""
    if not CAPTURES.is_dir():
        pytest.skip(f"{CAPTURES} not present (set NOCSOC_SHARED_DIR, or put shared/ beside the project)")
    from scapy.layers.inet import UDP
    from scapy.utils import PcapReader

    out = []
    for pcap in sorted(CAPTURES.glob("*/*.pcap")):
        with PcapReader(str(pcap)) as reader:
            dgs = [bytes(udp.payload) for pkt in reader if (udp := pkt.getlayer(UDP)) is not None]
        if dgs:
            out.append(dgs)
    return out


def send_from(address: str, target: tuple[str, int], payloads: Iterable[bytes]) -> int:
    """Send each payload to `target` from `address` (any 127/8 address works on Linux)."""
    n = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((address, 0))
        for p in payloads:
            s.sendto(p, target)
            n += 1
    return n


def exporter_address(i: int) -> str:
    return f"127.0.{1 + i // 250}.{1 + i % 250}"


PointKey = tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, object], ...], int]


def point_keys(points: Iterable[Point]) -> list[PointKey]:
    return sorted((p.measurement, tuple(sorted(p.tags.items())), tuple(sorted(p.fields.items())), p.time_ns)
                  for p in points)


def stored_points(points: Iterable[Point]) -> dict[tuple[object, ...], tuple[tuple[str, object], ...]]:
    """The points as a time series database keeps them: one per measurement, tags and time, a
    later write of the same point overwriting it. A redelivery after a commit that did not land
    rewrites identical points (nocsoc/bus/flows.py); the same point written with other values
    would be a double count, and fails here."""
    out: dict[tuple[object, ...], tuple[tuple[str, object], ...]] = {}
    for p in points:
        key = (p.measurement, tuple(sorted(p.tags.items())), p.time_ns)
        fields = tuple(sorted(p.fields.items()))
        assert out.setdefault(key, fields) == fields, f"{key} written as {out[key]} and as {fields}"
    return out


def stream_last_seqs(urls: list[str], prefix: str, kind: str, partitions: int) -> list[int]:
    """Each partition stream's last sequence (0 when empty), read with a fresh client."""
    import asyncio

    import nats

    from nocsoc.bus.partition import stream_name

    async def read() -> list[int]:
        nc = await nats.connect(servers=urls, connect_timeout=2, max_reconnect_attempts=2)
        try:
            js = nc.jetstream(timeout=3)
            return [int((await js.stream_info(stream_name(prefix, kind, p))).state.last_seq or 0)
                    for p in range(partitions)]
        finally:
            await nc.close()
    return asyncio.run(read())


def flow_floors(urls: list[str], prefix: str, partitions: int) -> list[int]:
    """Each flow partition's committed sequence (the commit record's floor)."""
    import asyncio
    import json

    import nats

    async def read() -> list[int]:
        nc = await nats.connect(servers=urls, connect_timeout=2, max_reconnect_attempts=2)
        try:
            kv = await nc.jetstream(timeout=3).key_value(f"{prefix.upper()}_STATE")
            out = []
            for p in range(partitions):
                try:
                    e = await kv.get(f"flows.p{p:03d}")
                    out.append(int(json.loads(e.value or b"{}").get("floor", 0)))
                except Exception:
                    out.append(0)
            return out
        finally:
            await nc.close()
    return asyncio.run(read())


# A detector killed mid-stream loses its correlation windows (they do not move with a partition:
# docs/scale.md); with the events held this long for reordering, it has stored no mark of a
# message whose events a window holds, so its successor reads them all again and the result is
# exact whatever the moment of the kill. The survivor is then stopped (which releases what it
# holds and commits) rather than awaited for a window.
CRASH_REORDER_S = 600.0


def read_through(runner: object, last: list[int]) -> bool:
    """A PartitionRunner holds every partition and has handed over each up to its stream's
    last sequence."""
    held = runner.held  # type: ignore[attr-defined]
    return len(held) == len(last) and all(h.expect - 1 == last[p] for p, h in held.items())


def logs_committed(urls: list[str], prefix: str, store: object, partitions: int) -> bool:
    """The alert store's mark of every logs partition is its stream's last sequence: every line
    on the bus detected and committed."""
    from nocsoc.bus.partition import stream_name

    last = stream_last_seqs(urls, prefix, "logs", partitions)
    marks = [store.input_offset(f"bus:{stream_name(prefix, 'logs', p)}")  # type: ignore[attr-defined]
             for p in range(partitions)]
    return all((m[1] if m else 0) == seq for m, seq in zip(marks, last, strict=True))
