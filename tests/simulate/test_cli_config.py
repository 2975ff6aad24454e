"""`nocsoc simulate` sends flows and syslog where nocsoc.yaml (-c / NOCSOC_CONFIG) makes the
collectors listen, and says so when nothing listens there instead of reporting a silent zero."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.servers.base import free_port
from tests.simulate.conftest import COMMUNITY, COMMUNITY_ENV, small_inventory

NOCSOC = [sys.executable, "-m", "nocsoc"]


def _receiver() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("127.0.0.1", 0))
    s.setblocking(False)
    return s


def _drain(s: socket.socket) -> list[bytes]:
    out = []
    while True:
        try:
            out.append(s.recv(65535))
        except BlockingIOError:
            return out


def _workspace(tmp_path: Path, flows_port: int, syslog_port: int) -> tuple[Path, Path]:
    inv = tmp_path / "inventory.yaml"
    inv.write_text(yaml.safe_dump(small_inventory(free_port(socket.SOCK_DGRAM)).model_dump(mode="json")),
                   encoding="utf-8")
    cfg = tmp_path / "nocsoc.yaml"
    cfg.write_text(yaml.safe_dump({
        "inventory": "inventory.yaml",
        "flows": {"bind": f"127.0.0.1:{flows_port}", "sflow_bind": None},
        "logs": {"syslog_udp": f"127.0.0.1:{syslog_port}", "syslog_tcp": None},
    }), encoding="utf-8")
    return cfg, inv


def _simulate(cfg: Path, inv: Path, how: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NOCSOC_CONFIG"}
    env[COMMUNITY_ENV] = COMMUNITY
    args = [*NOCSOC, "simulate", "-i", str(inv), "--seed", "5", "--speed", "600", "--duration", "2",
            "--json"]
    if how == "-c":
        args[3:3] = ["-c", str(cfg)]
    else:
        env["NOCSOC_CONFIG"] = str(cfg)
    # run from elsewhere: a ./nocsoc.yaml in the cwd must not be what is read
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env,
                          cwd=tmp_path / "elsewhere")


@pytest.mark.parametrize("how", ["-c", "NOCSOC_CONFIG"])
def test_flows_and_syslog_go_where_the_config_listens(tmp_path: Path, how: str) -> None:
    flows, syslog = _receiver(), _receiver()
    (tmp_path / "elsewhere").mkdir()
    try:
        cfg, inv = _workspace(tmp_path, flows.getsockname()[1], syslog.getsockname()[1])
        out = _simulate(cfg, inv, how, tmp_path)
        got_flows, got_syslog = _drain(flows), _drain(syslog)
    finally:
        flows.close()
        syslog.close()
    assert out.returncode == 0, out.stderr
    manifest = json.loads(out.stdout)
    sent_datagrams = sum(f["datagrams"] for f in manifest["flows"]["exporters"])
    assert sent_datagrams > 0 and manifest["syslog"]["lines"] > 0
    assert len(got_flows) == sent_datagrams
    assert len(got_syslog) == manifest["syslog"]["lines"]
    assert "nothing listens" not in out.stderr


def test_warns_when_nothing_listens_where_it_sends(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    flows_port, syslog_port = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    cfg, inv = _workspace(tmp_path, flows_port, syslog_port)
    out = _simulate(cfg, inv, "-c", tmp_path)
    assert out.returncode == 0, out.stderr
    manifest = json.loads(out.stdout)
    sent_datagrams = sum(f["datagrams"] for f in manifest["flows"]["exporters"])
    err = " ".join(out.stderr.split())  # rich may wrap a long warning
    assert f"nothing listens on 127.0.0.1:{flows_port} (UDP) for flows" in err
    assert f"nothing listens on 127.0.0.1:{syslog_port} (UDP) for syslog" in err
    assert f"{sent_datagrams} flows messages sent to 127.0.0.1:{flows_port}, where nothing listened" in err
    assert (f"{manifest['syslog']['lines']} syslog messages sent to 127.0.0.1:{syslog_port}, "
            "where nothing listened") in err
