"""Alert store: dedup, triage with an audit trail, suppressions; CLI; kill -9 durability."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nocsoc.cli.app import app
from nocsoc.detections.alerts import AlertStore, TriageError
from nocsoc.detections.engine import Detection
from nocsoc.events import LogEvent
from tests.servers.base import free_port, wait_until
from tests.servers.postgres import create_database, pg_server  # noqa: F401 - a fixture

StoreFactory = Callable[..., AlertStore]


@pytest.fixture(params=["sqlite", "postgresql"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """The same store behaviour on both backends: the SQLite file and a shared PostgreSQL."""
    if request.param == "sqlite":
        return lambda **kw: AlertStore(tmp_path / "a.db", **kw)
    from nocsoc.detections.alerts.postgres import PostgresAlertStore

    pg = request.getfixturevalue("pg_server")
    dsn = create_database(pg, f"t{uuid.uuid4().hex[:16]}")
    return lambda **kw: PostgresAlertStore(dsn, password=pg.password, owner="d1", **kw)


def det(
    rule: str = "r1", src: str = "203.0.113.5", t: float = 1000.0, count: int = 1, group: str = ""
) -> Detection:
    ev = LogEvent(f"line from {src}", {"src_ip": src}, host="h1", time=t)
    return Detection(
        rule,
        f"Rule {rule}",
        "high",
        ("attack.credential-access", "attack.t1110"),
        "rule",
        group or f"src={src}",
        True,
        count,
        t,
        t,
        "h1",
        src,
        "",
        "root",
        [ev],
    )


def test_dedup_within_window_and_per_group(make_store: StoreFactory) -> None:
    st = make_store(dedup_window_s=600)
    r = st.ingest([det(t=1000), det(t=1100), det(src="198.51.100.1", t=1100), det(t=1200, count=5)])
    assert r.created == [1, 2] and r.updated == []
    a = st.get(1)
    assert (a.count, a.first_seen, a.last_seen, a.tactic, len(a.samples)) == (
        7,
        1000,
        1200,
        "credential-access",
        3,
    )
    st.ingest([det(t=1200 + 601)])  # beyond the window: a new alert
    assert [x.count for x in st.list_alerts(rule="r1")] == [1, 7, 1]  # most recent first
    st.transition(3, "close", "lan", "handled")
    r = st.ingest([det(t=1850)])  # a closed alert is not incremented by dedup: a new one starts
    assert r.created == [4] and st.get(3).count == 1
    st.close()


def test_triage_transitions_and_audit(make_store: StoreFactory) -> None:
    st = make_store()
    st.ingest([det()])
    st.transition(1, "ack", "hoa", "looking", now=10)
    with pytest.raises(TriageError, match="cannot ack"):
        st.transition(1, "ack", "hoa", now=11)
    with pytest.raises(TriageError, match="needs a reason"):
        st.transition(1, "close", "hoa", "  ")
    st.transition(1, "false_positive", "hoa", "pentest from the vendor", now=12)
    st.transition(1, "reopen", "minh", "vendor denies it", now=13)
    st.transition(1, "close", "minh", "blocked at the border", now=14)
    trail = [(e.action, e.from_state, e.to_state, e.who, e.at, e.comment) for e in st.audit(alert_id=1)]
    assert trail == [
        ("ack", "new", "acknowledged", "hoa", 10, "looking"),
        ("false_positive", "acknowledged", "false_positive", "hoa", 12, "pentest from the vendor"),
        ("reopen", "false_positive", "new", "minh", 13, "vendor denies it"),
        ("close", "new", "closed", "minh", 14, "blocked at the border"),
    ]
    with pytest.raises(TriageError, match="no alert 9"):
        st.transition(9, "ack", "x")


def test_suppression_with_expiry_and_audit(make_store: StoreFactory) -> None:
    st = make_store()
    s = st.suppress("r1", "src_ip", "203.0.113.5", 3600, "lan", "scanner of the provincial CERT", now=1000)
    r = st.ingest([det(), det(), det(src="198.51.100.9"), det(rule="r2")], now=1500)
    assert (r.suppressed, len(r.created)) == (2, 2)
    assert st.suppression(s.id).hits == 2
    r = st.ingest([det()], now=1000 + 3601)  # expired
    assert (r.suppressed, len(r.created)) == (0, 1)
    st.unsuppress(s.id, "hoa", "no longer needed")
    assert [(e.action, e.who) for e in st.audit(suppression_id=s.id)] == [
        ("suppress", "lan"),
        ("unsuppress", "hoa"),
    ]
    with pytest.raises(TriageError):
        st.unsuppress(s.id, "hoa")


def _cli(db: Path, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(
        app,
        [*args, "--db", str(db)],
        env={"NOCSOC_USER": "analyst1", "NOCSOC_CONFIG": str(db.parent / "none.yaml")},
    )
    return res.exit_code, res.stdout


def test_cli_triage_and_suppression(tmp_path: Path) -> None:
    db = tmp_path / "alerts.db"
    with AlertStore(db) as st:
        st.ingest([det(), det(rule="r2", src="198.51.100.2")])
    code, out = _cli(db, "alerts", "list", "--json", "--state", "new")
    assert code == 0 and sorted(a["rule_id"] for a in json.loads(out)) == ["r1", "r2"]
    assert _cli(db, "alerts", "ack", "1", "-m", "on it")[0] == 0
    assert _cli(db, "alerts", "ack", "1")[0] == 2  # not allowed twice
    assert _cli(db, "alerts", "close", "1", "--reason", "password reset")[0] == 0
    assert _cli(db, "alerts", "reopen", "1", "-m", "came back")[0] == 0
    assert _cli(db, "alerts", "close", "2", "--false-positive", "--reason", "backup job")[0] == 0
    code, out = _cli(db, "alerts", "show", "1", "--json")
    shown = json.loads(out)
    assert shown["state"] == "new"
    assert [(e["action"], e["who"], e["comment"]) for e in shown["audit"]] == [
        ("ack", "analyst1", "on it"),
        ("close", "analyst1", "password reset"),
        ("reopen", "analyst1", "came back"),
    ]
    code, out = _cli(db, "alerts", "list", "--json", "--state", "false_positive")
    assert [a["id"] for a in json.loads(out)] == [2]
    # suppressions are validated: the rule must exist (a title resolves to its id), fields must
    # be the rule's, values typed, several --where ANDed, an expiry given
    brute = "SSH Brute Force From One Source"
    brute_id = "81c1a0c6-766d-4cd4-836e-2bbed4767834"
    assert _cli(db, "alerts", "suppress", "r1", "--where", "src_ip=203.0.113.5", "--for", "7d")[0] == 2
    assert _cli(db, "alerts", "suppress", brute, "--where", "srcip=203.0.113.5", "--for", "7d")[0] == 2
    assert _cli(db, "alerts", "suppress", brute, "--where", "src_ip=203.0.113.999", "--for", "7d")[0] == 2
    assert _cli(db, "alerts", "suppress", brute, "--where", "oops", "--for", "7d")[0] == 2
    assert _cli(db, "alerts", "suppress", brute, "--where", "src_ip=203.0.113.5", "--for", "7x")[0] == 2
    assert _cli(db, "alerts", "suppress", brute, "--where", "src_ip=203.0.113.5")[0] == 2  # no expiry
    code, out = _cli(
        db, "alerts", "suppress", brute, "--where", "src_ip=203.0.113.5", "--where", "user=admin",
        "--for", "7d", "--json",
    )
    assert code == 0 and json.loads(out)["created_by"] == "analyst1"
    code, out = _cli(db, "alerts", "suppressions", "--json")
    supp = json.loads(out)
    assert [(s["rule_id"], json.loads(s["conditions"]), s["audit"][0]["action"]) for s in supp] == [
        (brute_id, [["src_ip", "203.0.113.5"], ["user", "admin"]], "suppress")
    ]
    with AlertStore(db) as st:
        admin = det(rule=brute_id)
        admin.user = "admin"
        other = det(rule=brute_id, t=1001.0)
        other.user = "root"  # the same source, another account: ANDed, so not suppressed
        res = st.ingest([admin, other])
        assert (res.suppressed, len(res.created) + len(res.updated)) == (1, 1)
    assert _cli(db, "alerts", "list", "--level", "urgent")[0] == 2


def test_kill_9_loses_no_alert_and_no_triage_state(tmp_path: Path) -> None:
    port = free_port(socket.SOCK_DGRAM)
    db = tmp_path / "alerts.db"
    env = {**os.environ, "NOCSOC_CONFIG": str(tmp_path / "absent.yaml"), "NOCSOC_USER": "soc"}

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                str(Path(sys.executable).parent / "nocsoc"),
                "logs",
                "listen",
                "--bind",
                f"127.0.0.1:{port}",
                "--db",
                str(db),
                "--no-sinks",
                "--stats-every",
                "0",
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def send(lines: list[str]) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for ln in lines:
                s.sendto(ln.encode(), ("127.0.0.1", port))

    def count() -> int:
        with AlertStore(db) as st:
            alerts = st.list_alerts(rule="81c1a0c6-766d-4cd4-836e-2bbed4767834")
            return alerts[0].count if alerts else 0

    fails = [
        f"<38>Nov 25 04:01:{i:02d} dns1 sshd[5{i}]: Failed password for root from 192.0.2.77 port 4{i} ssh2"
        for i in range(0, 40)
    ]
    proc = start()
    try:
        wait_until(lambda: db.exists() and proc.poll() is None, what="listener up")
        def receiving() -> bool:
            send(fails[:1])
            return count() == 0 and _listening(port)

        wait_until(receiving, timeout=20, what="listener receiving")
        send(fails[1:12])
        wait_until(lambda: count() >= 10, timeout=20, what="brute-force alert stored")
        n_before = count()
        assert _cli(db, "alerts", "ack", "1", "-m", "blocking 192.0.2.77")[0] == 0
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        with AlertStore(db) as st:
            a = st.get(1)
            assert (a.count, a.state) == (n_before, "acknowledged")
            assert [e.comment for e in st.audit(alert_id=1)] == ["blocking 192.0.2.77"]
        proc = start()
        wait_until(lambda: proc.poll() is None and _listening(port), what="listener restarted")
        send(fails[20:32])  # a new incident from the same source: dedup into the open alert
        wait_until(lambda: count() >= n_before + 10, timeout=20, what="alert incremented after restart")
        with AlertStore(db) as st:
            assert len(st.list_alerts()) == 1 and st.get(1).state == "acknowledged"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0  # the TCP side of the same bind is up
