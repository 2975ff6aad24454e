"""softflowd's real exports, through `nocsoc flows listen` into a real influxd, equal nfdump's view.

softflowd turns a known pcap into NetFlow v5, v9 and IPFIX; its datagrams are recorded once and
the same bytes are replayed to nfcapd (ground truth: `nfdump -I`, `-s srcip/bytes`) and over UDP
to a `nocsoc flows listen` process writing to influxd. Totals and top talkers must be equal.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from nocsoc.collectors.flows.collector import FlowPipeline
from nocsoc.collectors.flows.config import FlowsConfig
from tests.collectors.flows.traffic import make_pcap
from tests.servers.base import wait_until
from tests.servers.flows import Nfcapd, NfdumpSummary, send_datagrams, softflowd_export

pytestmark = pytest.mark.servers
TOP_N = 5


@pytest.fixture(scope="module")
def pcap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pcap(tmp_path_factory.mktemp("traffic") / "traffic.pcap")


def nfdump_truth(datagrams: list[bytes], workdir: Path) -> NfdumpSummary:
    nfcapd = Nfcapd(workdir)
    nfcapd.start()
    try:
        nfcapd.send(datagrams)
    finally:
        capture = nfcapd.stop()
    return nfcapd.summary(capture, n=TOP_N)


def run_listen(datagrams: list[bytes], influx_url: str, db: str, workdir: Path) -> str:
    """Start `nocsoc flows listen`, replay the datagrams to it over UDP, stop it with SIGTERM."""
    cfg = workdir / "nocsoc.yaml"
    cfg.write_text(
        "sinks:\n"
        f"  - {{type: influxdb1, url: '{influx_url}', database: {db}, gzip: false,"
        " flush_interval_s: 0.2}\n"
        "flows:\n"
        "  state_dir: state\n"
    )
    out = workdir / "listen.out"
    with open(out, "wb") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nocsoc",
                "--config",
                str(cfg),
                "flows",
                "listen",
                "--bind",
                "127.0.0.1:0",
                "--sflow-bind",
                "127.0.0.1:0",
                "--interval",  # one interval holds the whole run: top-N per interval = nfdump's
                "86400",
                "--top-n",
                str(TOP_N),
            ],
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            env={**os.environ, "COLUMNS": "200"},
        )
    try:
        wait_until(
            lambda: b"listening on" in out.read_bytes() or proc.poll() is not None,
            timeout=30,
            what="nocsoc flows listen to bind",
        )
        m = re.search(rb"listening on 127\.0\.0\.1:(\d+)", out.read_bytes())
        assert m, out.read_text(errors="replace")
        send_datagrams(datagrams, int(m.group(1)))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, out.read_text(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    return out.read_text(errors="replace")


@pytest.mark.parametrize("version", [5, 9, 10])
def test_totals_and_top_talkers_equal_nfdump(version: int, pcap: Path, influxd, tmp_path: Path) -> None:
    datagrams = softflowd_export(pcap, version, tmp_path)
    assert len(datagrams) >= 10, "softflowd exported too little to be a meaningful test"
    truth = nfdump_truth(datagrams, tmp_path)
    assert truth.flows > 100 and truth.bytes > 0

    db = f"flows_v{version}"
    influxd.create_database(db)
    output = run_listen(datagrams, influxd.url, db, tmp_path)

    total = influxd.rows(
        'SELECT sum("bytes") AS b, sum("packets") AS p, sum("flows") AS f FROM flow_total', db
    )
    assert (total[0]["b"], total[0]["p"], total[0]["f"]) == (truth.bytes, truth.packets, truth.flows), output

    for kind, expected in (("src", truth.top_src), ("dst", truth.top_dst)):
        rows = influxd.rows(
            f'SELECT "rank", "bytes" FROM flow_top WHERE kind = \'{kind}\' GROUP BY "key"', db
        )
        ranked = sorted((r for r in rows if r["rank"] > 0), key=lambda r: r["rank"])
        assert [(r["key"], r["bytes"]) for r in ranked] == expected[:TOP_N]
        other = [r for r in rows if r["key"] == "other"]
        assert other[0]["bytes"] == truth.bytes - sum(b for _, b in expected[:TOP_N])

    # every rollup table partitions the same total: nothing lost, nothing counted twice
    for kind in ("service", "conversation"):
        s = influxd.rows(f"SELECT sum(\"bytes\") AS b FROM flow_top WHERE kind = '{kind}'", db)
        assert s[0]["b"] == truth.bytes
    for direction in ("in", "out"):
        s = influxd.rows(
            f"SELECT sum(\"bytes\") AS b FROM flow_interface WHERE direction = '{direction}'", db
        )
        assert s[0]["b"] == truth.bytes

    health = influxd.rows(
        f'SELECT last("records") AS r, last("sequence_lost") AS l, '
        f"last(\"decode_errors\") AS e FROM flow_collector WHERE version = '{version}'",
        db,
    )
    assert (health[0]["r"], health[0]["l"], health[0]["e"]) == (truth.flows, 0, 0)


@pytest.mark.parametrize("version", [9, 10])
def test_sampled_export_is_scaled_by_the_announced_rate(version: int, pcap: Path, tmp_path: Path) -> None:
    """softflowd -s 10 samples 1 in 10 packets and announces 10 in its options data. nfdump 1.7.1
    does not pick that announcement up (its totals stay unscaled), so the truth here is nfdump's
    unscaled view times 10, on the same datagrams."""
    datagrams = softflowd_export(pcap, version, tmp_path, sampling=10)
    truth = nfdump_truth(datagrams, tmp_path)
    pipe = FlowPipeline(FlowsConfig(interval_s=3600, top_n=TOP_N))
    pipe.process([(d, "127.0.0.1", 1000.0) for d in datagrams])
    totals = [p for p in pipe.rollups.flush_all() if p.measurement == "flow_total"]
    assert {p.tags["sampled"] for p in totals} == {"true"}
    assert sum(int(p.fields["bytes"]) for p in totals) == 10 * truth.bytes
    assert sum(int(p.fields["packets"]) for p in totals) == 10 * truth.packets
    assert sum(int(p.fields["flows"]) for p in totals) == truth.flows
    assert pipe.stats.get("127.0.0.1", str(version), "unsampled") == 0
