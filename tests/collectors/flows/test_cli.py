"""`nocsoc flows decode FILE.pcap` on a capture of flow datagrams, and `flows listen` errors."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap
from typer.testing import CliRunner

from nocsoc.cli.app import app
from tests.collectors.flows import craft
from tests.collectors.flows.test_decoder import V4_FIELDS, v4_rows
from tests.collectors.flows.test_sflow import sample_datagram


def capture(path: Path) -> Path:
    payloads = [
        (
            "127.0.0.5",
            2055,
            craft.v9([craft.v9_template_set(300, V4_FIELDS), craft.data_set(300, V4_FIELDS, v4_rows(4))]),
        ),
        ("127.0.0.5", 2055, craft.v9([craft.data_set(300, V4_FIELDS, v4_rows(2, base_bytes=5000))], seq=1)),
        ("127.0.0.9", 6343, sample_datagram()),
        ("127.0.0.5", 2055, b"\x00\x07garbage"),
    ]
    pkts = []
    for i, (src, port, data) in enumerate(payloads):
        p = Ether() / IP(src=src, dst="127.0.0.1") / UDP(sport=50000, dport=port) / data
        p.time = 1_764_000_000 + i
        pkts.append(p)
    wrpcap(str(path), pkts)
    return path


def test_decode_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["flows", "decode", str(capture(tmp_path / "c.pcap")), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    records = out["records"]
    assert len(records) == 8
    assert sum(r["bytes"] for r in records if r["version"] == "9") == 1000 + 1001 + 1002 + 1003 + 5000 + 5001
    assert {r["src"] for r in records if r["version"] == "sflow"} == {"10.1.0.5", "2001:db8:1::5"}
    errors = {(e["exporter"], e["version"]): e["decode_errors"] for e in out["exporters"]}
    assert errors[("127.0.0.5", "other")] == 1


def test_decode_tables(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["flows", "decode", str(capture(tmp_path / "c.pcap"))])
    assert result.exit_code == 0, result.output
    assert "top src" in result.stdout and "10.0.0.4" in result.stdout and "tcp/443" in result.stdout


def test_decode_refuses_a_non_pcap(tmp_path: Path) -> None:
    bad = tmp_path / "not.pcap"
    bad.write_text("hello")
    result = CliRunner().invoke(app, ["flows", "decode", str(bad)])
    assert result.exit_code == 2
    assert "not a readable pcap" in result.output


def test_listen_reports_a_busy_port(tmp_path: Path) -> None:
    cfg = tmp_path / "nocsoc.yaml"
    cfg.write_text("sinks:\n  - {type: stdout}\n")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            app,
            [
                "--config",
                str(cfg),
                "flows",
                "listen",
                "--bind",
                f"127.0.0.1:{port}",
                "--sflow-bind",
                "127.0.0.1:0",
                "--duration",
                "1",
            ],
        )
    assert result.exit_code == 2  # a configuration problem: a restart would not fix it
    assert f"error: --bind: cannot listen on udp 127.0.0.1:{port}: address already in use" in result.output
