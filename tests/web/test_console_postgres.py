"""The queue's reads on the PostgreSQL store equal the SQLite store's, on a real server.

The same alerts (the rules' own attack lines through the engine, hostile lines included) are
ingested into a SQLite file and a fresh PostgreSQL database, and triaged the same way at the same
times; every read the console, the API, the IOC page and `alerts list` make is then compared:
pages under each filter and sort, incidents, related alerts, open incidents by level, top
targets and sources, triage KPIs. The SQLite reader is the ground truth (its own tests check it
against the alerts themselves)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.alerts.postgres import PostgresAlertStore
from nocsoc.detections.alerts.store import Alert
from nocsoc.web.queue import SORTS, QueueFilter, QueueQueries, QueueReader, incidents, reader_for
from nocsoc.web.queue_postgres import PostgresQueueReader, tsquery
from tests.servers.postgres import Postgres, create_database
from tests.servers.postgres import pg_server as pg_server  # a fixture
from tests.web.conftest import ingest, random_alerts, rule_lines

T0 = 1_795_700_000.0
Readers = tuple[QueueQueries, QueueQueries, list[Alert]]  # SQLite's, PostgreSQL's, every alert


def _triage(store: AlertStore) -> None:
    every = sorted(store.list_alerts(limit=10_000), key=lambda a: a.id)
    for i, a in enumerate(every):
        at = T0 + 60 * i
        if i % 3 == 0:
            store.transition(a.id, "ack", "ana", "xem", now=at)
        if i % 5 == 0:
            store.transition(a.id, "close", "ana", "đã chặn IP", now=at + 600)
        if i % 7 == 0:
            store.assign(a.id, "bình", "adm", now=at + 30)


@pytest.fixture(scope="module")
def readers(pg_server: Postgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Readers]:
    lite = AlertStore(tmp_path_factory.mktemp("lite") / "alerts.db")
    pg = PostgresAlertStore(create_database(pg_server, f"q{uuid.uuid4().hex[:16]}"),
                            password=pg_server.password, owner="t")
    for store in (lite, pg):
        ingest(store, rule_lines(), now=T0 - 3600)  # created_at: the same in both
        _triage(store)
    sites = {"s1": {"portal-web1", "10.0.0.5"}}
    a, b = reader_for(lite, sites), reader_for(pg, sites)
    assert isinstance(a, QueueReader) and isinstance(b, PostgresQueueReader)
    yield a, b, lite.list_alerts(limit=10_000)
    lite.close()
    pg.close()


def _filters(every: list[Alert]) -> list[QueueFilter]:
    some = next(a for a in every if a.src_ip and a.user)
    out = [
        QueueFilter(),
        QueueFilter(state="open"),
        QueueFilter(state="closed"),
        QueueFilter(level="high"),
        QueueFilter(rule="Brute Force"),
        QueueFilter(rule="brute force"),  # substrings ignore case on both
        QueueFilter(rule=every[0].rule_id, rule_exact=True),
        QueueFilter(host="PORTAL-WEB1"),
        QueueFilter(site="s1"),
        QueueFilter(site="nowhere"),
        QueueFilter(src=some.src_ip),
        QueueFilter(user=some.user.upper()),
        QueueFilter(since=min(a.last_seen for a in every) + 3600),
        QueueFilter(until=max(a.first_seen for a in every) - 3600),
        QueueFilter(state="open", level="medium", per_page=3, page=2),
        QueueFilter(per_page=7, page=3, sort="rule", desc=False),
    ]
    for q in ("sqlmap", "SQLMAP", "Failed password", '"Failed password" root', "sqlm*", "adm*",
              some.src_ip, "portal-web1", "script alert", "<script>alert(1)</script>", "bình",
              "sqlmap OR root", "NEAR(sqlmap", "host:root", "%", "_", "'", "\\", '"', "(((", "ftp",
              "etc passwd", "x.php"):
        out.append(QueueFilter(q=q))
    out += [QueueFilter(sort=s, desc=d) for s in SORTS for d in (True, False)]
    return out


def test_pages_equal_the_sqlite_readers(readers: Readers) -> None:
    lite, pg, every = readers
    assert len(every) == 49
    nonempty = 0
    for f in _filters(every):
        want, got = lite.page(f), pg.page(f)
        assert [a.id for a in got.alerts] == [a.id for a in want.alerts], f
        assert (got.total, got.page, got.pages, got.by_state) == (
            want.total, want.page, want.pages, want.by_state), f
        assert got.alerts == want.alerts, f  # every field, evidence included
        nonempty += bool(want.alerts) and want.total < len(every)
    assert nonempty >= 25  # the filters select, not only agree on all or nothing


def test_incidents_kpis_and_related_equal(readers: Readers) -> None:
    lite, pg, every = readers
    since = min(a.last_seen for a in every)
    for window in (60.0, 3600.0, 86400.0):
        assert pg.open_incident_levels(since, window) == lite.open_incident_levels(since, window)
        want = [i.to_dict() for i in incidents(lite.briefs(open_only=True), window)]
        assert [i.to_dict() for i in incidents(pg.briefs(open_only=True), window)] == want
    assert sum(pg.open_incident_levels(since, 3600.0).values()) > 0
    assert pg.open_by_level() == lite.open_by_level() != {}
    assert pg.top_targets() == lite.top_targets() != []
    assert pg.top_sources() == lite.top_sources() != []
    kpis = lite.triage_kpis(T0 - 86400)
    assert kpis["mtta_s"] is not None and kpis["mttr_s"] is not None
    assert pg.triage_kpis(T0 - 86400) == kpis
    assert pg.alerts(evidence=False) == lite.alerts(evidence=False)
    assert pg.alerts(open_only=True, rule_id=every[0].rule_id) == lite.alerts(
        open_only=True, rule_id=every[0].rule_id)
    for a in every:
        assert pg.related(a, 3600.0) == lite.related(a, 3600.0)
        key = (a.src_ip or a.host, a.dst_ip or a.host)
        # briefs come in no order (incidents() sorts them)
        by_id = sorted(lite.briefs(key=key), key=lambda b: b.id)
        assert sorted(pg.briefs(key=key), key=lambda b: b.id) == by_id != []
    assert pg.get(every[0].id) == lite.get(every[0].id) and pg.get(99_999) is None
    for window in (60.0, 3600.0):
        for open_only in (True, False):
            want = [i for i in incidents(lite.briefs(since=since), window) if i.open or not open_only]
            assert lite.recent_incidents(since, window, open_only, 5) == want[:5] != []
            assert pg.recent_incidents(since, window, open_only, 500) == want


def test_ioc_and_incidents_on_many_alerts_and_an_older_store(
        pg_server: Postgres, tmp_path: Path) -> None:
    """2,000 alerts chaining into incidents, in both stores: the incidents page's list, the
    IOC's figures and the briefs equal the SQLite reader's (itself checked against the alerts);
    a PostgreSQL store written before the IOC's indexes gets them when opened."""
    import psycopg

    lite = AlertStore(tmp_path / "alerts.db")
    dsn = create_database(pg_server, f"m{uuid.uuid4().hex[:16]}")
    pg = PostgresAlertStore(dsn, password=pg_server.password, owner="t")
    for store in (lite, pg):
        random_alerts(store)
    new = {"alerts_created", "alerts_open_targets", "alerts_open_sources"}
    with psycopg.connect(dsn, password=pg_server.password, autocommit=True) as admin:
        for name in new:
            admin.execute(f"DROP INDEX {name}")
        pg.close()
        pg = PostgresAlertStore(dsn, password=pg_server.password, owner="t")
        have = {r[0] for r in admin.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'alerts'")}
    assert new <= have
    a, b = reader_for(lite), reader_for(pg)
    for since in (1_795_000_000.0, 1_795_000_000.0 + 3 * 86400):
        for window in (0.0, 3600.0, 86400.0):
            assert b.open_incident_levels(since, window) == a.open_incident_levels(since, window)
            for open_only in (True, False):
                want = a.recent_incidents(since, window, open_only, 10_000)
                assert want
                assert b.recent_incidents(since, window, open_only, 10_000) == want
                assert b.recent_incidents(since, window, open_only, 7) == want[:7]
    assert b.open_by_level() == a.open_by_level()
    assert b.top_targets() == a.top_targets() and b.top_sources() == a.top_sources()
    assert b.triage_kpis(1_795_000_000.0) == a.triage_kpis(1_795_000_000.0)
    assert sorted(b.briefs(), key=lambda x: x.id) == sorted(a.briefs(), key=lambda x: x.id)
    lite.close()
    pg.close()


def test_tsquery_is_only_words() -> None:
    assert tsquery("sqlmap") == "('sqlmap')"
    assert tsquery('"Failed password" root') == "('failed' <-> 'password') & ('root')"
    assert tsquery("203.0.113.5") == "('203' <-> '0' <-> '113' <-> '5')"
    assert tsquery("adm*") == "('adm':*)"
    assert tsquery("portal-web1*") == "('portal' <-> 'web1':*)"
    assert tsquery("a'b & !c | d:*") == "('a' <-> 'b') & ('c') & ('d':*)"  # a trailing * only
    assert tsquery("- * () '") is None and tsquery("") is None


def test_reader_reconnects_after_the_server_drops_it(
        readers: Readers, pg_server: Postgres) -> None:
    """An administrator's pg_terminate_backend (or a restarted server): the next read after the
    failed one works on a new connection."""
    import psycopg

    _, pg, every = readers
    assert isinstance(pg, PostgresQueueReader)
    pid = pg._db().conn.info.backend_pid
    with psycopg.connect(f"postgresql://{pg_server.user}@127.0.0.1:{pg_server.port}/postgres",
                         password=pg_server.password, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(psycopg.OperationalError):
        pg.page(QueueFilter())
    assert pg.page(QueueFilter()).total == len(every)
    assert pg._db().conn.info.backend_pid != pid


def test_the_reader_cannot_write(readers: Readers) -> None:
    import psycopg

    _, pg, _every = readers
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        pg._rows("DELETE FROM alerts")


def test_configured_console_and_cli_use_the_shared_store(
    pg_server: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With detections.alerts_postgres, `nocsoc run`'s console (console_deps) and `alerts list`
    read the alerts a detector wrote to PostgreSQL; no SQLite file is made."""
    import json

    import yaml
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from nocsoc.cli.app import app as cli
    from nocsoc.context import load_context
    from nocsoc.inventory.sample import init_project
    from nocsoc.web.app import create_app
    from nocsoc.web.service import console_deps

    init_project(tmp_path, force=True)
    dsn = create_database(pg_server, f"c{uuid.uuid4().hex[:16]}")
    monkeypatch.setenv("NOCSOC_TEST_PG_PASSWORD", pg_server.password)
    cfg = tmp_path / "nocsoc.yaml"
    cfg.write_text(yaml.safe_dump({
        "inventory": "inventory.yaml",
        "detections": {"alerts_postgres": {"dsn": dsn, "password": "env:NOCSOC_TEST_PG_PASSWORD"}},
    }))
    with PostgresAlertStore(dsn, password=pg_server.password, owner="detector-1") as detector:
        ingest(detector, rule_lines())
        every = detector.list_alerts(limit=10_000)
    want = sorted(a.id for a in every if any("sqlmap" in s["raw"].lower() for s in a.samples))
    assert want

    ctx = load_context(cfg)
    web = create_app(console_deps(ctx, ctx.load_inventory()))
    assert isinstance(web.state.store, PostgresAlertStore)
    web.state.auth.add_user("vic", "viewer", "viewer-pass-1")
    cl = TestClient(web, base_url="http://127.0.0.1", follow_redirects=False)
    assert cl.post("/login", data={"user": "vic", "password": "viewer-pass-1"}).status_code == 303
    got = cl.get("/api/v1/alerts", params={"state": "", "q": "sqlmap", "per_page": 500}).json()
    assert sorted(a["id"] for a in got) == want
    assert sum(cl.get("/api/v1/kpi").json()["open_alerts_by_level"].values()) == len(every)
    web.state.store.close()

    r = CliRunner().invoke(cli, ["-c", str(cfg), "alerts", "list", "--text", "sqlmap", "--json"])
    assert r.exit_code == 0, r.output
    assert sorted(a["id"] for a in json.loads(r.stdout)) == want
    assert not (tmp_path / "var" / "alerts.db").exists()


def test_words_follow_triage_ingest_delete_and_an_older_store(pg_server: Postgres) -> None:
    """The free-text words are kept in step by triggers (as SQLite's FTS5 index is) and built
    for a store written before them when it is opened."""
    import psycopg

    from nocsoc.detections.engine import Detection
    from nocsoc.events import LogEvent

    def one(store: AlertStore, raw: str, key: str) -> None:
        ev = LogEvent(raw, {"user": raw.split()[3]}, host="mail1", time=T0, source="file")
        store.ingest([Detection("test-rule", "Test rule", "low", (), "rule", key, True, 1, T0, T0,
                                host="mail1", samples=[ev])])

    dsn = create_database(pg_server, f"i{uuid.uuid4().hex[:16]}")
    store = PostgresAlertStore(dsn, password=pg_server.password, owner="t")
    reader = reader_for(store)

    def search(q: str) -> list[int]:
        return sorted(a.id for a in reader.page(QueueFilter(q=q, per_page=500)).alerts)

    one(store, "Accepted password for quetzal from 10.9.8.7", "q1")
    [a] = store.list_alerts()
    assert search("quetzal") == search("10.9.8.7") == [a.id] and search("xochitl") == []
    one(store, "Accepted password for xochitl from 10.9.8.7", "q1")  # the same alert, more evidence
    assert store.get(a.id).count == 2 and search("xochitl quetzal") == [a.id]
    store.assign(a.id, "zarathustra", "ana")
    assert search("zarathustra") == [a.id]
    store.assign(a.id, "", "ana")
    assert search("zarathustra") == []
    admin = psycopg.connect(dsn, password=pg_server.password, autocommit=True)
    admin.execute("DELETE FROM alerts")
    assert search("quetzal") == [] and admin.execute("SELECT count(*) FROM alerts_words").fetchone() == (0,)
    # as a store was before the words: no table, no triggers; opened again, it gets them, filled
    admin.execute("DROP TRIGGER alerts_words_ai ON alerts; DROP TRIGGER alerts_words_au ON alerts; "
                  "DROP TABLE alerts_words")
    one(store, "Accepted password for tlaloc from 10.9.8.7", "q2")
    store.close()
    with PostgresAlertStore(dsn, password=pg_server.password, owner="t") as reopened:
        [b] = reopened.list_alerts()
        assert search("tlaloc") == [b.id]
        one(reopened, "Accepted password for mixcoatl from 10.9.8.7", "q3")
        assert len(search("10.9.8.7")) == 2  # and the triggers are back
    admin.close()
