"""The PostgreSQL alert store shared by several detectors (issue #19, item 3), on a real server.

Two detectors (log pipelines on their own UDP ports, each with its own connection) receive one
attack's lines between them and must raise exactly the alerts one detector raises alone on the
SQLite store: one alert per incident, counts adding up, nothing raised twice by a race.
"""

from __future__ import annotations

import socket
import threading
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nocsoc.cli.app import app
from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.logs.pipeline import LogPipeline
from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.alerts.postgres import PostgresAlertStore
from nocsoc.detections.config import AlertsPostgresConfig, DetectionsConfig
from nocsoc.detections.engine import Detection
from nocsoc.events import LogEvent
from nocsoc.sinks.memory import MemorySink
from tests.servers.base import free_port, wait_until
from tests.servers.postgres import Postgres, create_database, pg_server  # noqa: F401 - a fixture

# path traversal probes from several sources and failed device logins: plain (non-correlation)
# rules, so each line is a detection and every incident's count is its number of lines
WEB = ("<190>Nov 25 08:12:{s:02d} portal nginx: 203.0.113.{src} - - [25/Nov/2026:08:12:{s:02d} +0700] "
       '"GET /dichvucong/../../../../etc/passwd?n={n} HTTP/1.1" 404 162 "-" "Mozilla/5.0"')
CISCO = ("<188>22{n}: core-dx1: Nov 25 12:00:{s:02d}.123 ICT: %SEC_LOGIN-4-LOGIN_FAILED: Login failed "
         "[user: admin] [Source: 198.51.100.{src}] [localport: 22] [Reason: Login Authentication Failed]")
PASSWORD_ENV = "NOCSOC_TEST_PG_PASSWORD"


def _lines() -> list[str]:
    out = []
    for n in range(240):
        src, s = 10 + (n // 3) % 6, n % 60
        out.append((WEB if n % 3 else CISCO).format(src=src, s=s, n=n))
    return out


def _fresh(pg: Postgres) -> str:
    return create_database(pg, f"t{uuid.uuid4().hex[:16]}")


def _pipeline(tmp: Path, det: DetectionsConfig) -> LogPipeline:
    p = LogPipeline(LogsConfig(syslog_udp=f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}", syslog_tcp=None),
                    det, MemorySink(), base_dir=tmp)
    p.start()
    return p


def _feed(pipes: list[LogPipeline], lines: list[str]) -> None:
    """Line i to detector i mod n, every detector's share sent at once from its own thread."""
    def send(p: LogPipeline, share: list[str]) -> None:
        assert p.udp is not None
        host, port = p.udp.address
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for line in share:
                s.sendto(line.encode(), (host, port))

    shares = [lines[i::len(pipes)] for i in range(len(pipes))]
    threads = [threading.Thread(target=send, args=(p, sh)) for p, sh in zip(pipes, shares, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p, sh in zip(pipes, shares, strict=True):
        n = len(sh)
        wait_until(lambda p=p, n=n: p.processed() >= n and p.idle(), 30, what=f"{n} lines stored")


def _incidents(store: AlertStore) -> dict[tuple[str, str], tuple[int, str]]:
    return {(a.rule_title, a.group_key): (a.count, a.state) for a in store.list_alerts()}


def test_two_detectors_on_postgres_raise_what_one_raises_on_sqlite(
    tmp_path: Path, pg_server: Postgres, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    lines = _lines()
    sqlite = DetectionsConfig(alerts_db=str(tmp_path / "alerts.db"), flush_interval_s=0.02)
    alone = _pipeline(tmp_path, sqlite)
    try:
        _feed([alone], lines)
        expected = _incidents(alone.store)
    finally:
        alone.stop()
    assert len(expected) == 12 and sum(c for c, _ in expected.values()) == len(lines)

    monkeypatch.setenv(PASSWORD_ENV, pg_server.password)
    dsn = _fresh(pg_server)
    pipes = [_pipeline(tmp_path, DetectionsConfig(
        alerts_postgres=AlertsPostgresConfig(dsn=dsn, password=f"env:{PASSWORD_ENV}", owner=f"d{i}"),
        flush_interval_s=0.001)) for i in (1, 2)]
    try:
        _feed(pipes, lines)
        assert all(isinstance(p.store, PostgresAlertStore) for p in pipes)
        assert _incidents(pipes[0].store) == expected
        assert sum(len(p.store.list_alerts()) for p in pipes) == 2 * len(expected)  # one shared queue
    finally:
        for p in pipes:
            p.stop()


def _det(group: str, t: float) -> Detection:
    ev = LogEvent("x", {"src_ip": "203.0.113.5"}, host="h1", time=t)
    return Detection("r1", "Rule r1", "high", ("attack.t1110",), "rule", group, True, 1, t, t, "h1",
                     "203.0.113.5", "", "root", [ev])


def test_concurrent_ingests_of_one_incident_make_one_alert(pg_server: Postgres) -> None:  # noqa: F811
    """Two detectors ingesting the same incident at the same instant, 300 times each: the write
    lock makes the second wait and increment the first's alert (without it, both would insert)."""
    dsn = _fresh(pg_server)
    stores = [PostgresAlertStore(dsn, password=pg_server.password, owner=f"d{i}") for i in (1, 2)]
    start = threading.Barrier(2)

    def hammer(st: PostgresAlertStore) -> None:
        start.wait()
        for i in range(300):
            st.ingest([_det("src=203.0.113.5", 1000.0 + i)], now=2000.0)

    threads = [threading.Thread(target=hammer, args=(st,)) for st in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (alert,) = stores[0].list_alerts()
    assert (alert.count, alert.first_seen, alert.last_seen) == (600, 1000.0, 1299.0)
    for st in stores:
        st.close()


def test_each_detector_keeps_its_own_windows_and_offsets(pg_server: Postgres) -> None:  # noqa: F811
    dsn = _fresh(pg_server)
    a = PostgresAlertStore(dsn, password=pg_server.password, owner="hcm-det1")
    b = PostgresAlertStore(dsn, password=pg_server.password, owner="dn-det2")
    a.ingest([], offsets={"/var/log/auth.log": (11, 100)}, correlations={"bf": {"g": [1]}})
    b.ingest([], offsets={"/var/log/auth.log": (22, 200)}, correlations={"bf": {"g": [2]}, "sp": {}})
    a.ingest([], correlations={"bf": {"g": [1, 3]}})  # a's save replaces only a's windows
    assert a.correlations() == {"bf": {"g": [1, 3]}}
    assert b.correlations() == {"bf": {"g": [2]}, "sp": {}}
    log = "/var/log/auth.log"
    assert (a.input_offset(log), b.input_offset(log)) == ((11, 100), (22, 200))
    # a bus partition's mark is every detector's: another host's successor resumes after it
    a.ingest([], offsets={"bus:nocsoc-logs-3": (0, 4711)})
    assert b.input_offset("bus:nocsoc-logs-3") == (0, 4711)
    a.close()
    b.close()


def _cli_config(tmp_path: Path, dsn: str) -> Path:
    cfg = tmp_path / "nocsoc.yaml"
    cfg.write_text(f"detections:\n  alerts_postgres:\n    dsn: {dsn}\n    password: env:{PASSWORD_ENV}\n")
    return cfg


def test_cli_triages_the_shared_store(tmp_path: Path, pg_server: Postgres) -> None:  # noqa: F811
    dsn = _fresh(pg_server)
    with PostgresAlertStore(dsn, password=pg_server.password) as st:
        st.ingest([_det("src=203.0.113.5", 1000.0)])
    env = {"NOCSOC_CONFIG": str(_cli_config(tmp_path, dsn)), PASSWORD_ENV: pg_server.password,
           "NOCSOC_USER": "analyst1"}
    res = CliRunner().invoke(app, ["alerts", "ack", "1", "--comment", "đang xem xét"], env=env)
    assert res.exit_code == 0, res.output
    with PostgresAlertStore(dsn, password=pg_server.password) as st:
        assert st.get(1).state == "acknowledged"
        assert [(e.action, e.who, e.comment) for e in st.audit(alert_id=1)] == [
            ("ack", "analyst1", "đang xem xét")]


@pytest.mark.parametrize("case", ["unset-password", "wrong-password", "nobody-listens", "literal-password"])
def test_cli_bad_shared_store_is_one_line(tmp_path: Path, pg_server: Postgres, case: str) -> None:  # noqa: F811
    dsn = {"nobody-listens": f"postgresql://nocsoc@127.0.0.1:{free_port()}/postgres",
           "literal-password": f"postgresql://nocsoc:{pg_server.password}@127.0.0.1:{pg_server.port}/postgres",
           }.get(case, pg_server.dsn)
    env = {"NOCSOC_CONFIG": str(_cli_config(tmp_path, dsn))}
    if case != "unset-password":
        env[PASSWORD_ENV] = "not-the-password" if case == "wrong-password" else pg_server.password
    res = CliRunner().invoke(app, ["alerts", "list"], env=env)
    out = res.output.strip()
    assert res.exit_code == 2, out
    assert len(out.splitlines()) <= 3 and "Traceback" not in out, out
    assert {"unset-password": PASSWORD_ENV, "wrong-password": "password authentication failed",
            "nobody-listens": "cannot open the alert store",
            "literal-password": "literal secret"}[case] in out, out
    assert pg_server.password not in out


def test_check_names_an_unset_password_and_warns_of_a_dead_server(tmp_path: Path) -> None:
    """`nocsoc check`: an unresolvable password is fatal (file:line), a server that does not
    answer a warning (the detector retries it, as for sinks)."""
    from nocsoc.service.check import run_checks

    cfg = tmp_path / "nocsoc.yaml"
    dsn = f"postgresql://nocsoc@127.0.0.1:{free_port()}/postgres"
    cfg.write_text("logs: {syslog_udp: null, syslog_tcp: null}\n"
                   f"detections:\n  alerts_postgres:\n    dsn: {dsn}\n"
                   "    password: env:NOCSOC_TEST_UNSET_PG\n")

    def store_findings() -> list[tuple[str, str]]:
        report = run_checks(cfg, services=["logs"], binds=False)
        return [(f.severity, f.render()) for f in report.findings if "alerts_postgres" in f.render()]

    assert store_findings() == [("fatal", f"{cfg}:5: detections.alerts_postgres.password: "
                                          "environment variable NOCSOC_TEST_UNSET_PG is not set")]
    cfg.write_text("logs: {syslog_udp: null, syslog_tcp: null}\n"
                   f"detections:\n  alerts_postgres:\n    dsn: {dsn}\n")
    ((severity, text),) = store_findings()
    assert severity == "warning" and text.startswith(f"{cfg}:3: detections.alerts_postgres: alert store "
                                                     "not reachable: connection failed"), text
