"""Free-text search over alerts (FTS5): words of the title, evidence, hosts and users, user text
never read as FTS5 syntax, the index kept in step by every write and built for an older store.

Ground truth: the same words looked up in Python over each alert's own fields, tokenised as
FTS5's unicode61 tokenizer does for this (ASCII) data: runs of letters and digits, lower-cased."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3

import pytest

from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.alerts.store import Alert
from nocsoc.web import queue
from nocsoc.web.queue import fts_query
from tests.web.conftest import BACKENDS, Console, login

_ID = re.compile(r'<tr class="lv-[a-z]+" data-id="(\d+)"')


def _tokens(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())


def _values(x: object) -> list[str]:
    if isinstance(x, dict):
        return [v for item in x.values() for v in _values(item)]
    if isinstance(x, list):
        return [v for item in x for v in _values(item)]
    return [] if x is None else [str(x)]


def _text_of(a: Alert) -> list[list[str]]:
    """Each indexed column's tokens (evidence: every sample value but the sample's own time)."""
    evidence = [v for s in a.samples for k, item in s.items() if k != "time" for v in _values(item)]
    return [
        _tokens(a.rule_title),
        _tokens(" ".join(evidence)),
        _tokens(f"{a.host} {a.src_ip} {a.dst_ip}"),
        _tokens(f"{a.user} {a.assignee}"),
    ]


def _has_phrase(cols: list[list[str]], phrase: list[str], prefix: bool) -> bool:
    n = len(phrase)
    for toks in cols:
        for i in range(len(toks) - n + 1):
            head, last = toks[i : i + n - 1], toks[i + n - 1]
            if head == phrase[:-1] and (last.startswith(phrase[-1]) if prefix else last == phrase[-1]):
                return True
    return False


def _want(alerts: list[Alert], words: list[tuple[str, bool]]) -> list[int]:
    return sorted(
        a.id for a in alerts if all(_has_phrase(_text_of(a), _tokens(w), p) for w, p in words)
    )


def ingest_one(store: AlertStore, raw: str, key: str) -> None:
    from nocsoc.detections.engine import Detection
    from nocsoc.events import LogEvent

    ev = LogEvent(raw, {"user": raw.split()[3]}, host="mail1", time=1_795_600_000.0, source="file")
    store.ingest([Detection("test-rule", "Test rule", "low", (), "rule", key, True, 1, ev.time, ev.time,
                            host="mail1", samples=[ev])])


def _search(cl, q: str) -> list[int]:  # type: ignore[no-untyped-def]
    r = cl.get("/alerts", params={"state": "", "q": q, "per_page": 500})
    assert r.status_code == 200, (q, r.text[:300])
    return sorted(int(x) for x in _ID.findall(r.text))


def test_fts_query_quotes_every_word() -> None:
    assert fts_query("sqlmap") == '"sqlmap"'
    assert fts_query("Failed password") == '"Failed" AND "password"'
    assert fts_query('"failed password" root') == '"failed password" AND "root"'
    assert fts_query("adm*") == '"adm"*'
    # FTS5 operators, column filters and parentheses stay words
    assert fts_query("sqlmap OR x") == '"sqlmap" AND "OR" AND "x"'
    assert fts_query("title:root NEAR(a b)") == '"title:root" AND "NEAR(a" AND "b)"'
    assert fts_query('say "hi') == '"say" AND "hi"'
    assert fts_query('a"b') == '"a""b"'
    assert fts_query("- * ()") is None and fts_query("") is None


@BACKENDS
@pytest.mark.parametrize("many", [False, True], ids=["lookups", "index-walk"])
def test_search_matches_words_of_title_evidence_hosts_users(
    console: Console, many: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # both plans of QueueReader.page: each match looked up, or an index walked in order
    monkeypatch.setattr(queue, "MANY_MATCHES", 0 if many else 10**9)
    cl = login(console, "vic")
    every = console.store.list_alerts(limit=10_000)
    some = next(a for a in every if a.src_ip)
    cases: dict[str, list[tuple[str, bool]]] = {
        "sqlmap": [("sqlmap", False)],
        "SQLMAP": [("sqlmap", False)],
        "Failed password": [("failed", False), ("password", False)],
        '"Failed password" root': [("failed password", False), ("root", False)],
        "brute": [("brute", False)],
        "sqlm*": [("sqlm", True)],
        some.src_ip: [(some.src_ip, False)],
        "portal-web1": [("portal-web1", False)],
        "root": [("root", False)],
        # FTS5 syntax typed by a user is searched as words, never run
        "sqlmap OR root": [("sqlmap", False), ("or", False), ("root", False)],
        "NEAR(sqlmap": [("near(sqlmap", False)],
        "host:root": [("host:root", False)],
    }
    nonempty = 0
    for q, words in cases.items():
        want = _want(every, words)
        assert _search(cl, q) == want, q
        nonempty += bool(want)
    assert nonempty >= 8  # the cases find alerts, not only agree on nothing
    assert _search(cl, "sqlm*") == _search(cl, "sqlmap") != []
    # the script tag of a hostile user agent is searchable, and only shown escaped
    r = cl.get("/alerts", params={"state": "", "q": "<script>alert(1)</script>"})
    assert r.status_code == 200 and "<script>alert(1)</script>" not in r.text
    assert _search(cl, "script alert") == _want(every, [("script", False), ("alert", False)]) != []
    # punctuation only: no word to look up, searched as a substring
    pct = sorted(
        a.id
        for a in every
        if any("%" in v for v in (a.rule_title, a.host, a.src_ip, a.dst_ip, a.user, a.assignee))
        or "%" in json.dumps(a.samples)
    )
    assert _search(cl, "%") == pct != []
    # the order is the queue's whatever the plan: newest first, ties by id
    r = cl.get("/alerts", params={"state": "", "q": "root", "per_page": 500})
    want = sorted((a for a in every if a.id in _want(every, [("root", False)])),
                  key=lambda a: (a.last_seen, a.id), reverse=True)
    assert [int(x) for x in _ID.findall(r.text)] == [a.id for a in want]
    # the API filters the same way
    api = cl.get("/api/v1/alerts", params={"state": "", "q": "sqlmap", "per_page": 500}).json()
    assert sorted(a["id"] for a in api) == _want(every, [("sqlmap", False)])


def test_index_follows_triage_ingest_and_delete(console: Console) -> None:
    cl = login(console, "ana")
    store = console.store
    a = store.list_alerts(limit=1)[0]
    assert _search(cl, "zarathustra") == []
    store.assign(a.id, "zarathustra", "ana")
    assert _search(cl, "zarathustra") == [a.id]
    store.assign(a.id, "", "ana")
    assert _search(cl, "zarathustra") == []
    # a new alert is found by the words of its evidence; more evidence later is found too
    ingest_one(store, "Accepted password for quetzal from 10.9.8.7", key="q1")
    [new] = [x.id for x in store.list_alerts(limit=100) if x.group_key == "q1"]
    assert _search(cl, "quetzal") == [new] and _search(cl, "10.9.8.7") == [new]
    assert _search(cl, "xochitl") == []
    ingest_one(store, "Accepted password for xochitl from 10.9.8.7", key="q1")  # the same alert
    assert store.get(new).count == 2
    assert _search(cl, "xochitl quetzal") == [new]
    found = [new]
    # a row deleted (retention, by hand) leaves the index with it
    with sqlite3.connect(console.tmp / "alerts.db") as db:
        db.execute(f"DELETE FROM alerts WHERE id IN ({','.join(map(str, found))})")
    assert _search(cl, "quetzal") == []
    with sqlite3.connect(console.tmp / "alerts.db") as db:
        db.execute("INSERT INTO alerts_fts (alerts_fts, rank) VALUES ('integrity-check', 0)")


def test_a_store_written_before_the_index_is_indexed_when_opened(console: Console) -> None:
    path = console.tmp / "old.db"
    store = AlertStore(path)
    with sqlite3.connect(path) as db:  # as the store was before the index existed
        db.executescript(
            "DROP TRIGGER alerts_fts_ai; DROP TRIGGER alerts_fts_ad; DROP TRIGGER alerts_fts_au;"
            "DROP TABLE alerts_fts;"
        )
    ingest_one(store, "Accepted password for quetzal from 10.9.8.7", key="q1")
    store.close()
    with AlertStore(path) as reopened:
        [a] = [x for x in reopened.list_alerts(limit=100) if x.group_key == "q1"]
        with sqlite3.connect(path) as db:
            got = db.execute(
                "SELECT rowid FROM alerts_fts WHERE alerts_fts MATCH ?", (fts_query("quetzal"),)
            ).fetchall()
        assert got == [(a.id,)]


@BACKENDS
@pytest.mark.parametrize("bad", ['"', "*", "AND", "NOT x", "x:", "^a", "a + b", "(((", "NEAR(a b, 1)"])
def test_no_user_text_makes_the_search_fail(console: Console, bad: str) -> None:
    cl = login(console, "vic")
    r = cl.get("/alerts", params={"state": "", "q": bad})
    assert r.status_code == 200, (bad, r.text[:200])


def test_cli_alerts_list_filters_as_the_console(console: Console) -> None:
    """`nocsoc alerts list` takes the queue's filters: host, source, account, free text and a rule
    by title (which used to give 0 alerts silently)."""
    from typer.testing import CliRunner

    from nocsoc.cli.app import app

    every = console.store.list_alerts(limit=10_000)
    some = next(a for a in every if a.src_ip and a.user)
    cases = {
        ("--text", "sqlmap"): _want(every, [("sqlmap", False)]),
        ("-q", "Failed password"): _want(every, [("failed", False), ("password", False)]),
        ("--src", some.src_ip): sorted(a.id for a in every if a.src_ip == some.src_ip),
        ("--user", some.user.upper()): sorted(a.id for a in every if a.user.lower() == some.user.lower()),
        ("--host", "portal-web1"): sorted(a.id for a in every if a.host == "portal-web1"),
        ("--rule", "SSH Brute Force From One Source"): sorted(
            a.id for a in every if a.rule_title == "SSH Brute Force From One Source"
        ),
        ("--rule", "Brute Force"): sorted(a.id for a in every if "Brute Force" in a.rule_title),
        ("--state", "open"): sorted(a.id for a in every if a.state in ("new", "acknowledged")),
    }
    env = {"NOCSOC_CONFIG": str(console.tmp / "nocsoc.yaml")}
    db = ["--db", str(console.tmp / "alerts.db")]
    for args, want in cases.items():
        r = CliRunner().invoke(app, ["alerts", "list", *args, "--json", *db], env=env)
        assert r.exit_code == 0, (args, r.output)
        got = [a["id"] for a in json.loads(r.stdout)]
        assert sorted(got) == want and want, args
        assert got == [a.id for a in sorted((x for x in every if x.id in want),
                                            key=lambda x: (x.last_seen, x.id), reverse=True)]
    r = CliRunner().invoke(app, ["alerts", "list", "--state", "opened", *db], env=env)
    assert r.exit_code == 2 and "--state 'opened'" in r.output
    times = sorted({a.last_seen for a in every})
    cut = times[len(times) // 2]
    iso = dt.datetime.fromtimestamp(cut, dt.UTC).isoformat()
    r = CliRunner().invoke(app, ["alerts", "list", "--since", iso, "--json", *db], env=env)
    assert r.exit_code == 0, r.output
    assert sorted(a["id"] for a in json.loads(r.stdout)) == sorted(a.id for a in every if a.last_seen >= cut)
    r = CliRunner().invoke(app, ["alerts", "list", "--since", "yesterday", *db], env=env)
    assert r.exit_code == 2
    assert "--since 'yesterday': use a duration (30m, 24h, 7d) or an ISO time" in r.output
