"""`nocsoc flows query` and `nocsoc logs search` as tables and JSON, their bad options (one
line, exit 2), and attacker-written text shown inert (no markup, no terminal escapes)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from nocsoc.cli.app import app
from nocsoc.events import LogEvent
from nocsoc.history.logs import LogArchiveWriter
from tests.history.test_flow_history import ATTACKER, batch, config

runner = CliRunner()


@pytest.fixture
def install(tmp_path: Path) -> Path:
    cfg = tmp_path / "nocsoc.yaml"
    cfg.write_text(yaml.safe_dump({"history": {"dir": "./hist"}}))
    now = time.time()
    from nocsoc.history.flows import FlowHistoryWriter

    w = FlowHistoryWriter(config(), tmp_path / "hist", clock=lambda: now + 120)
    w.add(batch("192.0.2.1", now - 300, [(ATTACKER, "10.0.0.1", 40000, 22, 6, 1234567, 89)]))
    w.sync()
    lw = LogArchiveWriter(config(), tmp_path / "hist")
    lw.add(LogEvent("Failed password for [bold red]x[/] from 203.0.113.45 \x1b[2J\x1b[31mred", {
        "src_ip": ATTACKER, "user": "[bold]x[/]", "program": "sshd"}, host="bastion", time=now - 30,
        parser="sshd", source="syslog"))
    lw.sync()
    return cfg


def run(cfg: Path, *args: str) -> tuple[int, str, str]:
    res = runner.invoke(app, ["-c", str(cfg), *args])
    return res.exit_code, res.stdout, res.stderr


def test_flows_query_table_and_json(install: Path) -> None:
    code, out, _ = run(install, "flows", "query", "--ip", ATTACKER)
    assert code == 0
    row = next(line for line in out.splitlines() if "10.0.0.1" in line).split()
    assert row[:8] == ["10.0.0.1", "out", "tcp", "40000", "22", "1,234,567", "89", "1"]
    code, out, _ = run(install, "flows", "query", "--ip", ATTACKER, "--json", "--port", "22")
    assert code == 0
    (peer,) = json.loads(out)["peers"]
    assert (peer["peer"], peer["bytes"], peer["packets"], peer["flows"]) == ("10.0.0.1", 1234567, 89, 1)
    # the minute 5 min ago is outside the last 2 minutes
    code, out, _ = run(install, "flows", "query", "--ip", ATTACKER, "--since", "2m", "--json")
    assert (code, json.loads(out)["peers"]) == (0, [])


def test_logs_search_shows_attacker_text_inert(install: Path) -> None:
    code, out, _ = run(install, "logs", "search", "--user", "[BOLD]x[/]")
    assert code == 0
    shown = " ".join(out.split())
    assert "Failed password for [bold red]x[/] from 203.0.113.45 \\x1b[2J\\x1b[31mred" in shown
    assert "\x1b" not in out
    code, out, _ = run(install, "logs", "search", "--ip", ATTACKER, "--json")
    (line,) = json.loads(out)["lines"]
    assert line["raw"] == "Failed password for [bold red]x[/] from 203.0.113.45 \x1b[2J\x1b[31mred"


@pytest.mark.parametrize(("args", "message"), [
    (["flows", "query", "--ip", "203.0.113.999"], "error: --ip '203.0.113.999': not an IP address"),
    (["flows", "query", "--ip", ATTACKER, "--peer", "nope"], "error: --peer 'nope': not an IP address"),
    (["flows", "query", "--ip", ATTACKER, "--since", "yesterday"],
     "error: --since 'yesterday': use a duration (30m, 24h, 7d), an ISO time or epoch seconds"),
    (["flows", "query", "--ip", ATTACKER, "--port", "70000"], "error: --port 70000: not in 0-65535"),
    (["logs", "search", "--ip", "10.0.0"], "error: --ip '10.0.0': not an IP address"),
    (["logs", "search", "--since", "1h", "--until", "2h"], "error: --until '2h' is not after --since '1h'"),
])
def test_bad_options_are_one_line_and_exit_2(install: Path, args: list[str], message: str) -> None:
    code, out, err = run(install, *args)
    assert (code, out) == (2, "")
    assert err.strip().splitlines() == [message]


def test_an_unreadable_file_is_one_line_naming_the_store(install: Path) -> None:
    from nocsoc.history.store import Dataset

    for dataset, args in (("flows", ["flows", "query", "--ip", ATTACKER]), ("logs", ["logs", "search"])):
        (part,) = Dataset(install.parent / "hist", dataset).partitions()
        (part.path / "p-99999999999999999999.parquet").write_bytes(b"not parquet at all")
        code, out, err = run(install, *args)
        assert (code, out) == (1, "")
        (line,) = err.strip().splitlines()
        assert line.startswith(f"error: history {install.parent / 'hist' / dataset}: ")
        assert "p-99999999999999999999.parquet" in line


def test_no_store_at_all_is_said_not_shown_as_no_traffic(tmp_path: Path) -> None:
    cfg = tmp_path / "nocsoc.yaml"
    cfg.write_text(yaml.safe_dump({"history": {"dir": "./hist", "logs": False}}))
    code, out, err = run(cfg, "flows", "query", "--ip", ATTACKER, "--json")
    assert (code, json.loads(out)["peers"]) == (0, [])
    assert err.strip() == f"note: no flows history in {tmp_path / 'hist' / 'flows'}: nothing written yet " \
                          "(nocsoc run writes it)"
    code, out, err = run(cfg, "logs", "search", "--json")
    assert err.strip() == f"note: no logs history in {tmp_path / 'hist' / 'logs'}: " \
                          "history is off in nocsoc.yaml"
