"""A console over real alerts: log lines run through the parser and the built-in rules into an
alert store, the sample inventory, users of each role, a FastAPI TestClient."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nocsoc.collectors.logs.parsers import LineParser
from nocsoc.collectors.logs.ruletest import TEST_PLACEHOLDERS
from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.engine import Engine
from nocsoc.detections.loader import load_rules
from nocsoc.inventory.sample import init_project
from nocsoc.inventory.store import load_inventory
from nocsoc.web.app import ConsoleDeps, create_app
from nocsoc.web.config import WebConfig
from nocsoc.web.pivot import HistoryPivot
from tests.servers.postgres import pg_server  # noqa: F401 - a fixture (the postgresql backend)

RULE_TESTS = Path(__file__).resolve().parents[2] / "nocsoc" / "detections" / "rules" / "tests"
XSS = "<script>alert(1)</script>"
PASSWORDS = {"ana": "analyst-pass-1", "vic": "viewer-pass-1", "adm": "admin-pass-12"}
# an attacker-controlled user agent and user name, to be shown escaped everywhere
HOSTILE = [
    f'198.51.100.77 - - [25/Nov/2026:10:00:01 +0700] "GET /?id=1%27%20or%20%271%27=%271 HTTP/1.1" 200 41 "-" '
    f'"sqlmap/1.7 {XSS}"',
    f"<188>2299: core-dx1: Nov 25 12:10:01.123 ICT: %SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: {XSS}] "
    "[Source: 203.0.113.99] [localport: 22] [Reason: Login Authentication Failed] "
    "at 12:10:01 ICT Wed Nov 25 2026",
]


@dataclass
class Console:
    app: object
    deps: ConsoleDeps
    store: AlertStore
    now: float
    tmp: Path


def ingest(store: AlertStore, lines: list[str], now: float | None = None) -> None:
    rs = load_rules([], include_builtin=True, placeholders=TEST_PLACEHOLDERS)
    engine, parser, dets, last = Engine(rs), LineParser(default_host="portal-web1"), [], 0.0
    for line in lines:
        ev = (
            parser.parse_syslog(line, source="file")
            if line.startswith("<")
            else parser.parse_line(line, source="file")
        )
        last = max(last, ev.time)
        dets.extend(engine.process(ev))
    dets.extend(engine.flush(last + 366 * 86400))
    store.ingest(dets, now=now)


def random_alerts(store: AlertStore) -> None:
    """2,000 alerts of few sources and targets at random times over 10 days from T 1_795_000_000
    (so attacks chain into incidents of many alerts, and some stand apart), every fifth closed,
    raised at 1_796_000_000: the same alerts, ids and times in any store, from a seed."""
    import random

    from nocsoc.detections.engine import Detection
    from nocsoc.events import LogEvent
    from nocsoc.web.queue import LEVELS

    rnd = random.Random(3)
    dets = []
    for i in range(2000):
        t = 1_795_000_000.0 + rnd.uniform(0, 10 * 86400)
        src = rnd.choice(["", "198.51.100.1", "198.51.100.2", "203.0.113.9"])
        dst = rnd.choice(["", "10.0.0.1", "10.0.0.2"])
        ev = LogEvent("x", {}, host=rnd.choice(["h1", "h2"]), time=t, source="file")
        dets.append(Detection(f"r{i % 7}", f"R{i % 5}", rnd.choice(LEVELS), (), "rule", f"g{i}", True,
                              1 + i % 3, t, t + rnd.uniform(0, 7200), host=ev.host, src_ip=src,
                              dst_ip=dst, samples=[ev]))
    store.ingest(dets, now=1_796_000_000.0)
    for a in sorted(store.list_alerts(limit=5000), key=lambda a: a.id)[::5]:
        store.transition(a.id, "close", "t", "done", now=1_796_000_600.0)


def rule_lines() -> list[str]:
    out = []
    for f in sorted(RULE_TESTS.glob("*.match.log")):
        out += [ln for ln in f.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    return out + HOSTILE


BACKENDS = pytest.mark.parametrize("console", ["sqlite", "postgresql"], indirect=True)


def store_opener(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], AlertStore] | None:
    """Opens the alert store of the backend the test is parametrized with (`BACKENDS`): None
    for the default, the SQLite file `alerts.db`; else a fresh database on the session's real
    PostgreSQL server."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return None
    import uuid

    from nocsoc.detections.alerts.postgres import PostgresAlertStore
    from tests.servers.postgres import create_database

    pg = request.getfixturevalue("pg_server")
    dsn = create_database(pg, f"w{uuid.uuid4().hex[:16]}")
    return lambda: PostgresAlertStore(dsn, password=pg.password, owner="console-test")


@pytest.fixture()
def console(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Console]:
    init_project(tmp_path, force=True)
    inv = load_inventory(tmp_path / "inventory.yaml")
    opener = store_opener(request, tmp_path)
    store = AlertStore(tmp_path / "alerts.db") if opener is None else opener()
    ingest(store, rule_lines())
    now = max(a.last_seen for a in store.list_alerts(limit=10_000)) + 3600
    rs = load_rules([], include_builtin=True, placeholders=TEST_PLACEHOLDERS)
    deps = ConsoleDeps(
        web=WebConfig(),
        alerts_db=tmp_path / "alerts.db",
        users_db=tmp_path / "web.db",
        backbone=None,
        inventory=inv,
        ruleset=lambda: rs,
        pivot=HistoryPivot(None),
        clock=lambda: now,
        open_store=opener,
    )
    app = create_app(deps)
    auth = app.state.auth
    auth.add_user("ana", "analyst", PASSWORDS["ana"])
    auth.add_user("vic", "viewer", PASSWORDS["vic"])
    auth.add_user("adm", "admin", PASSWORDS["adm"])
    yield Console(app, deps, store, now, tmp_path)
    store.close()


def client(c: Console):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    return TestClient(c.app, base_url="http://127.0.0.1", follow_redirects=False)


def login(c: Console, user: str):  # type: ignore[no-untyped-def]
    cl = client(c)
    r = cl.post("/login", data={"user": user, "password": PASSWORDS[user]})
    assert r.status_code == 303, r.text
    return cl


def csrf_of(cl, path: str = "/alerts") -> str:  # type: ignore[no-untyped-def]
    m = re.search(r'name="csrf" value="([^"]+)"', cl.get(path, headers={"accept": "text/html"}).text)
    assert m
    return m[1]
