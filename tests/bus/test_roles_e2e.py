"""`nocsoc run --role receiver` and two `nocsoc run --role decoder` processes on a real 3-node
JetStream cluster: the real captures through them give exactly the rollups one machine gives
for the same records, after one decoder process is killed with SIGKILL mid-stream.

Each decoder writes line protocol to its standard output (the `stdout` sink, unbuffered), so a
point written twice would show twice. The single-machine result is FlowPipeline over the very
records the receiver published, read back from the streams.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import nats
import pytest

from nocsoc.bus import envelope
from nocsoc.bus.partition import stream_name
from nocsoc.collectors.flows.collector import FlowPipeline
from nocsoc.collectors.flows.config import FlowsConfig
from nocsoc.lineproto import encode_valid
from tests.bus.helpers import (
    ROOT,
    capture_datagrams,
    exporter_address,
    flow_floors,
    send_from,
    stream_last_seqs,
)
from tests.servers.base import free_port, wait_until
from tests.servers.nats import NatsCluster, nats_cluster  # noqa: F401

PARTITIONS = 4
INTERVAL_S = 2.0


def _config(root: Path, name: str, url: str, flow_port: int) -> Path:
    path = root / f"{name}.yaml"
    path.write_text(
        f"inventory: inventory.yaml\n"
        f"sinks:\n  - type: stdout\n"
        f"run:\n  state_dir: ./var-{name}\n  status_interval_s: 0.5\n  self_metrics_interval_s: 3600\n"
        f"flows:\n  bind: 127.0.0.1:{flow_port}\n  sflow_bind: null\n  interval_s: {INTERVAL_S}\n"
        f"  state_dir: ./var-{name}/flows\n"
        f"logs:\n  enabled: false\n"
        f"snmp:\n  enabled: false\n"
        f"bus:\n  url: {url}\n  flow_partitions: {PARTITIONS}\n  replicas: 3\n  lease_ttl_s: 2\n"
        f"  close_grace_s: 1\n  stream_max_bytes: 33554432\n  buffer_dir: ./var-{name}/bus-buffer\n",
        encoding="utf-8")
    return path


def _start(root: Path, config: Path, role: str, name: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    out = open(root / f"{name}.out", "wb")  # noqa: SIM115 - the child owns it
    err = open(root / f"{name}.err", "wb")  # noqa: SIM115
    return subprocess.Popen([sys.executable, "-m", "nocsoc", "-c", str(config), "run", "--role", role],
                            cwd=root, stdout=out, stderr=err, env=env, start_new_session=True)


def _status(root: Path, name: str) -> dict:
    path = root / f"var-{name}" / "status" / "main.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _service(root: Path, name: str, service: str) -> dict:
    return dict(_status(root, name).get("services", {}).get(service, {}))


def _partitions(root: Path, name: str) -> int:
    return int(_service(root, name, "bus_flows").get("partitions", 0))


def _published_records(urls: list[str]) -> list[tuple[bytes, str, float]]:
    async def read() -> list[tuple[bytes, str, float]]:
        nc = await nats.connect(servers=urls)
        js = nc.jetstream()
        out: list[tuple[bytes, str, float]] = []
        for p in range(PARTITIONS):
            name = stream_name("nocsoc", "flows", p)
            info = await js.stream_info(name)
            for seq in range(int(info.state.first_seq or 1), int(info.state.last_seq or 0) + 1):
                out += envelope.decode((await js.get_msg(name, seq)).data or b"")
        await nc.close()
        return out
    return asyncio.run(read())


def _flow_lines(text: str) -> list[str]:
    return sorted(line for line in text.splitlines() if line.startswith("flow_"))


@pytest.mark.timeout(300)
def test_receiver_and_two_decoder_processes_one_killed(tmp_path: Path,
                                                        nats_cluster: NatsCluster) -> None:  # noqa: F811
    captures = capture_datagrams()
    (tmp_path / "inventory.yaml").write_text("devices: []\n", encoding="utf-8")
    port = free_port(socket.SOCK_DGRAM)
    url = nats_cluster.url
    procs = {
        "r": _start(tmp_path, _config(tmp_path, "r", url, port), "receiver", "r"),
        "d1": _start(tmp_path, _config(tmp_path, "d1", url, free_port(socket.SOCK_DGRAM)), "decoder", "d1"),
        "d2": _start(tmp_path, _config(tmp_path, "d2", url, free_port(socket.SOCK_DGRAM)), "decoder", "d2"),
    }
    try:
        wait_until(lambda: _partitions(tmp_path, "d1") + _partitions(tmp_path, "d2") == PARTITIONS
                   and _partitions(tmp_path, "d1") > 0, 60, what="both decoder processes own partitions")
        wait_until(lambda: _service(tmp_path, "r", "bus_receiver").get("connected") == 1, 30,
                   what="receiver connected")
        half = len(captures) // 2
        for i, dgs in enumerate(captures[:half]):
            send_from(exporter_address(i), ("127.0.0.1", port), dgs)
        wait_until(lambda: _service(tmp_path, "d1", "bus_flows").get("records", 0) > 0, 30,
                   what="d1 decoding")
        procs["d1"].send_signal(signal.SIGKILL)
        procs["d1"].wait(10)
        for i, dgs in enumerate(captures[half:], start=half):
            send_from(exporter_address(i), ("127.0.0.1", port), dgs)
        sent = sum(len(d) for d in captures)
        urls = nats_cluster.urls
        wait_until(lambda: len(_published_records(urls)) == sent, 60, interval=0.5,
                   what="every datagram on the bus")
        wait_until(lambda: flow_floors(urls, "nocsoc", PARTITIONS)
                   == stream_last_seqs(urls, "nocsoc", "flows", PARTITIONS), 90, interval=0.5,
                   what="every partition committed")
        # the survivor takes the dead one's partitions over once its leases expire: the commits above
        # may all be in before that (the second half's exporters need not hash to them)
        wait_until(lambda: _partitions(tmp_path, "d2") == PARTITIONS, 60,
                   what="the survivor owning every partition")
        records = _published_records(urls)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
    pipeline = FlowPipeline(FlowsConfig(interval_s=INTERVAL_S))
    pipeline.process(records)
    want = _flow_lines("\n".join(encode_valid(pipeline.rollups.flush_all(), print)))
    got = _flow_lines((tmp_path / "d1.out").read_text() + (tmp_path / "d2.out").read_text())
    assert len(want) > 100
    assert got == want, (tmp_path / "d2.err").read_text()[-3000:]
