"""The console's pages and API over real alerts (rules' own test lines through the engine)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from urllib.parse import quote

from nocsoc.web.queue import incidents
from tests.servers.base import wait_until
from tests.web.conftest import BACKENDS, XSS, Console, client, csrf_of, login, random_alerts


def _ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr class="lv-[a-z]+" data-id="(\d+)"', html)]


@BACKENDS
def test_queue_filters_match_the_store(console: Console) -> None:
    cl = login(console, "vic")
    every = console.store.list_alerts(limit=10_000)
    assert len(every) == 49  # the rules' match samples and the hostile lines
    cases = {
        "state=": every,
        "rule=SSH+Brute+Force": [a for a in every if "SSH Brute Force" in a.rule_title],
        "rule=SSH+Brute+Force+From+One+Source": [
            a for a in every if a.rule_title == "SSH Brute Force From One Source"
        ],
        "host=portal-web1": [a for a in every if a.host == "portal-web1"],
        "src=203.0.113.50": [a for a in every if a.src_ip == "203.0.113.50"],
        "user=root": [a for a in every if a.user == "root"],
        "level=high": [a for a in every if a.level == "high"],
        "q=sqlmap": [a for a in every if any("sqlmap" in s["raw"] for s in a.samples)],
    }
    for query, want in cases.items():
        html = cl.get(f"/alerts?state=&{query}&per_page=500").text
        assert sorted(_ids(html)) == sorted(a.id for a in want), query
        assert f'id="total">{len(want)}<' in html
    rid = every[0].rule_id
    assert sorted(_ids(cl.get(f"/alerts?state=&rule={rid}").text)) == sorted(
        a.id for a in every if a.rule_id == rid
    )
    # sort by count ascending, ties by id
    html = cl.get("/alerts?state=&sort=count&dir=asc&per_page=500").text
    assert _ids(html) == [a.id for a in sorted(every, key=lambda a: (a.count, a.id))]
    assert cl.get("/alerts?level=bogus").status_code == 400
    # since (last seen at or after) / until (first seen before), as ISO times (UTC: no zone)
    times = sorted({a.last_seen for a in every})
    cut = times[len(times) // 2]
    assert 0 < sum(a.last_seen >= cut for a in every) < len(every)  # the cut splits them
    iso = datetime.fromtimestamp(cut, UTC).isoformat()
    assert sorted(_ids(cl.get(f"/alerts?state=&since={quote(iso)}&per_page=500").text)) == sorted(
        a.id for a in every if a.last_seen >= cut)
    naive = datetime.fromtimestamp(cut, UTC).replace(tzinfo=None).isoformat(" ")
    assert sorted(_ids(cl.get(f"/alerts?state=&until={quote(naive)}&per_page=500").text)) == sorted(
        a.id for a in every if a.first_seen < cut)
    bad = cl.get("/alerts?since=yesterday")
    assert bad.status_code == 400 and "time 'yesterday': a duration (30m, 24h, 7d) or an ISO time" in bad.text


@BACKENDS
def test_bulk_ack_assign_close_attributed(console: Console) -> None:
    cl = login(console, "ana")
    csrf = csrf_of(cl)
    brute = [a.id for a in console.store.list_alerts(limit=100) if "Brute Force" in a.rule_title]
    r = cl.post("/alerts/bulk", data={"csrf": csrf, "action": "ack", "ids": brute})
    assert r.status_code == 303
    r = cl.post("/alerts/bulk", data={"csrf": csrf, "action": "assign", "assignee": "ana", "ids": brute})
    r = cl.post(
        "/alerts/bulk",
        data={"csrf": csrf, "action": "close", "comment": "đã chặn IP tại tường lửa", "ids": brute[:1]},
    )
    a0, a1 = console.store.get(brute[0]), console.store.get(brute[1])
    assert (a0.state, a1.state, a0.assignee, a1.assignee) == ("closed", "acknowledged", "ana", "ana")
    trail = console.store.audit(alert_id=brute[0])
    assert [(e.action, e.who) for e in trail] == [("ack", "ana"), ("assign", "ana"), ("close", "ana")]
    assert trail[-1].comment == "đã chặn IP tại tường lửa"
    # close without a reason is refused, and said so
    html = cl.post(
        "/alerts/bulk",
        data={"csrf": csrf, "action": "close", "ids": brute[1:]},
        headers={"hx-request": "true"},
    ).text
    assert "close needs a reason" in html
    assert console.store.get(brute[1]).state == "acknowledged"


@BACKENDS
def test_detail_shows_rule_inventory_related_and_no_history(console: Console) -> None:
    cl = login(console, "vic")
    a = next(x for x in console.store.list_alerts(limit=100) if x.rule_title.startswith("SSH Login Success"))
    html = cl.get(f"/alerts/{a.id}").text
    for s in a.samples:
        assert s["raw"].replace("'", "&#39;").replace('"', "&#34;") in html
    related = [x for x in console.store.list_alerts(limit=100) if x.src_ip == a.src_ip and x.id != a.id]
    for r in related:
        assert f'href="/alerts/{r.id}"' in html
    assert 'id="no-history"' in html
    assert "dns1" in html
    assert cl.get("/alerts/99999").status_code == 404


@BACKENDS
def test_incidents_group_one_attack(console: Console) -> None:
    cl = login(console, "vic")
    every = console.store.list_alerts(limit=100)
    inc = incidents(every, 3600)
    dns = next(i for i in inc if i.source == "192.0.2.77")
    assert sorted(a.rule_title for a in dns.alerts) == [
        "SSH Brute Force From One Source",
        "SSH Login Success After Brute Force",
    ]
    html = cl.get("/incidents").text
    assert f'href="/incidents/{dns.id}"' in html
    page = cl.get(f"/incidents/{dns.id}").text
    for a in dns.alerts:
        assert f'href="/alerts/{a.id}"' in page
    api = cl.get("/api/v1/incidents").json()
    assert next(i for i in api if i["source"] == "192.0.2.77")["alerts"] == sorted(x.id for x in dns.alerts)


@BACKENDS
def test_incidents_page_lists_the_grouping(console: Console) -> None:
    """/incidents (open ones) and ?all=1 (any) list exactly the incidents `incidents()` makes of
    every alert, most recent first, with their members, events and rules."""
    cl = login(console, "adm")
    every = console.store.list_alerts(limit=1000)
    for a in every[::4]:  # some incidents closed, some partly
        console.store.transition(a.id, "close", "adm", "xong")
    every = console.store.list_alerts(limit=1000)
    want_all = incidents(every, console.deps.web.incident_window_s)
    want_open = [i for i in want_all if i.open]
    assert 0 < len(want_open) < len(want_all)
    row = re.compile(r'<tr class="lv-([a-z]+)"><td><a href="/incidents/(\d+)">.*?<td class="num">(\d+)</td>'
                     r'<td class="num">(\d+)</td>.*?</td><td>([^<]*)</td></tr>')
    for url, want in (("/incidents", want_open), ("/incidents?all=1", want_all)):
        html = cl.get(url).text
        got = [(lv, int(i), int(n), int(ev), unescape(r)) for lv, i, n, ev, r in row.findall(html)]
        expect = []
        for i in want:
            in_order = sorted(i.alerts, key=lambda a: (a.first_seen, a.id))
            titles = list(dict.fromkeys(a.rule_title for a in in_order))
            expect.append((i.level, i.id, len(i.alerts), i.events, ", ".join(titles)))
        assert got == expect, url
        assert f"({len(want)})" in html, url


@BACKENDS
def test_suppression_editor_validates_and_previews(console: Console) -> None:
    cl = login(console, "ana")
    csrf = csrf_of(cl, "/suppressions")
    bad = cl.post(
        "/suppressions/preview",
        data={
            "csrf": csrf,
            "rule": "SSH Brute Force From One Source",
            "conditions": "srcip=203.0.113.50\nsrc_ip=203.0.113.999",
            "expires": "",
        },
    ).text
    assert "srcip: not a field of" in bad
    assert "src_ip=203.0.113.999: not an IP address" in bad
    assert "an expiry is required" in bad
    ok = cl.post(
        "/suppressions/preview",
        data={
            "csrf": csrf,
            "rule": "SSH Brute Force From One Source",
            "conditions": "src_ip=203.0.113.50\nuser=root",
            "expires": "7d",
        },
    ).text
    assert re.search(r'id="would-hide">[^<]*<b>1</b>[^<]*<b>12</b>', ok), ok
    r = cl.post(
        "/suppressions",
        data={
            "csrf": csrf,
            "rule": "SSH Brute Force From One Source",
            "conditions": "src_ip=203.0.113.50\nuser=root",
            "expires": "7d",
            "comment": "máy quét nội bộ",
        },
    )
    assert r.status_code == 303
    s = console.store.suppressions(now=console.now)[-1]
    assert (s.condition_list(), s.created_by) == ([("src_ip", "203.0.113.50"), ("user", "root")], "ana")


@BACKENDS
def test_ioc_and_language_switch(console: Console) -> None:
    cl = login(console, "vic")
    html = cl.get("/ioc").text
    assert "Tình hình an ninh" in html  # Vietnamese by default
    open_inc = [i for i in incidents(console.store.list_alerts(limit=100), 3600) if i.open]
    n_high = sum(1 for i in open_inc if i.level == "high")
    assert f'id="inc-high">{n_high}<' in html
    r = cl.get("/lang/en?next=/ioc")
    assert r.status_code == 303 and r.headers["location"] == "/ioc"
    assert "Security posture" in cl.get("/ioc").text
    assert cl.get("/lang/en?next=//evil.example").headers["location"] == "/alerts"


@BACKENDS
def test_api_kpi_with_scoped_token(console: Console) -> None:
    auth = console.app.state.auth  # type: ignore[attr-defined]
    _, secret = auth.create_token("ioc", ["read:kpi"], "adm")
    cl = client(console)
    r = cl.get("/api/v1/kpi", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200
    body = r.json()
    every = console.store.list_alerts(limit=100)
    assert sum(body["open_alerts_by_level"].values()) == len(every)
    from collections import Counter

    want = sorted(Counter(a.src_ip for a in every if a.src_ip).items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert [(t["source"], t["alerts"]) for t in body["top_threats"]] == want
    assert cl.get("/api/v1/alerts", headers={"Authorization": f"Bearer {secret}"}).status_code == 403
    doc = cl.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {secret}"}).json()
    assert {"/kpi", "/alerts", "/incidents", "/inventory", "/alerts/{alert_id}/triage"} <= set(doc["paths"])


def test_catalogues_have_the_same_keys() -> None:
    from nocsoc.web.i18n import catalog

    assert set(catalog("vi")) == set(catalog("en"))


@BACKENDS
def test_escaped_everywhere(console: Console) -> None:
    cl = login(console, "adm")
    ids = [a.id for a in console.store.list_alerts(limit=100) if XSS in str(a.to_dict())]
    assert len(ids) == 2
    pages = ["/alerts?state=", "/incidents", "/ioc"] + [f"/alerts/{i}" for i in ids]
    for p in pages:
        html = cl.get(p).text
        assert XSS not in html, p
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in cl.get(f"/alerts/{ids[0]}").text


def test_ioc_figures_cached_per_refresh_interval(console: Console) -> None:
    from nocsoc.detections.engine import Detection
    from nocsoc.events import LogEvent

    cl = login(console, "ana")
    t = [console.now]
    console.deps.clock = lambda: t[0]

    def open_alerts() -> int:
        return sum(cl.get("/api/v1/kpi").json()["open_alerts_by_level"].values())

    n = len(console.store.list_alerts(limit=1000, state="new"))
    assert open_alerts() == n
    ev = LogEvent("a new one", {}, host="mail1", time=console.now, source="file")
    det = Detection("t", "T", "low", (), "rule", "k", True, 1, ev.time, ev.time, samples=[ev])
    console.store.ingest([det])
    assert open_alerts() == n  # within the interval: the interval's figures
    assert console.app.state.counters.snapshot()["ioc_cached"] >= 1  # type: ignore[attr-defined]
    t[0] += console.deps.web.refresh_s
    # the interval is over on a watched screen: the last figures at once, new ones computed
    # in the background for the next view
    assert open_alerts() == n
    wait_until(lambda: open_alerts() == n + 1, what="the IOC figures recomputed in the background")
    # unwatched for two intervals: computed before answering
    det = Detection("t", "T", "low", (), "rule", "k2", True, 1, ev.time, ev.time, samples=[ev])
    console.store.ingest([det])
    t[0] += 2 * console.deps.web.refresh_s
    assert open_alerts() == n + 2
    # a triage made in the console shows at once
    a = console.store.list_alerts(limit=1)[0]
    r = cl.post(
        "/alerts/bulk",
        data={"csrf": csrf_of(cl), "action": "close", "comment": "xong", "ids": [a.id]},
    )
    assert r.status_code == 303 and open_alerts() == n + 1


def _random_store(path: Path) -> None:
    from nocsoc.detections.alerts import AlertStore

    with AlertStore(path) as store:
        random_alerts(store)


def test_open_incident_levels_equal_the_incident_grouping(tmp_path: Path) -> None:
    """The IOC's count of open incidents by level (SQL order, one pass) against `incidents()`
    over the same open alerts, on 2,000 alerts of few sources and targets, some closed."""
    from nocsoc.web.queue import LEVELS, QueueReader

    path = tmp_path / "a.db"
    _random_store(path)
    reader = QueueReader(path)
    since = 1_795_000_000.0 + 3 * 86400
    for window in (600.0, 3600.0, 86400.0):
        want = dict.fromkeys(LEVELS, 0)
        for inc in incidents(reader.briefs(since=since, open_only=True), window):
            want[inc.level] += 1
        assert reader.open_incident_levels(since, window) == want, window


def test_recent_incidents_equal_the_incident_grouping(tmp_path: Path) -> None:
    """The incidents page's list (the keys and times chained in SQL order, then the members'
    briefs) is `incidents()` of every alert's brief, filtered and cut, exactly: ids, times,
    members (in order, every field), level, events; any state or open ones, cut anywhere."""
    from nocsoc.web.queue import QueueReader

    path = tmp_path / "a.db"
    _random_store(path)
    reader = QueueReader(path)
    n_multi = 0
    for since in (1_795_000_000.0, 1_795_000_000.0 + 3 * 86400):
        for window in (0.0, 600.0, 3600.0, 86400.0):
            every = incidents(reader.briefs(since=since), window)
            n_multi += sum(len(i.alerts) > 1 for i in every)
            for open_only in (True, False):
                want = [i for i in every if i.open or not open_only]
                assert 0 < len(want) < 2000
                for limit in (0, 1, 7, 500, 10_000):
                    got = reader.recent_incidents(since, window, open_only=open_only, limit=limit)
                    assert got == want[:limit], (since, window, open_only, limit)
                    assert [i.to_dict() for i in got] == [i.to_dict() for i in want[:limit]]
    assert n_multi > 100  # incidents of several alerts, not only single ones


def test_ioc_figures_exact(tmp_path: Path) -> None:
    """Every IOC figure the reader computes against the same figure counted here from the
    alerts themselves: open alerts by level, most targeted hosts, top sources, open count,
    alerts raised (the store's indexes and one-pass counts change how, never what)."""
    from collections import Counter

    from nocsoc.detections.alerts import AlertStore
    from nocsoc.web.queue import QueueReader

    path = tmp_path / "a.db"
    _random_store(path)
    store = AlertStore(path)
    every = store.list_alerts(limit=5000)
    store.close()
    reader = QueueReader(path)
    live = [a for a in every if a.state in ("new", "acknowledged")]
    assert 0 < len(live) < len(every) == 2000
    assert reader.open_by_level() == dict(Counter(a.level for a in live))
    targets = Counter(a.dst_ip or a.host for a in live)
    assert reader.top_targets() == sorted(targets.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    sources = Counter(a.src_ip for a in live if a.src_ip)
    assert reader.top_sources() == sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    kpis = reader.triage_kpis(0.0)
    assert (kpis["open"], kpis["raised"]) == (len(live), 2000)
    assert reader.triage_kpis(0.0, open_alerts=len(live)) == kpis


def test_store_before_the_covering_indexes_migrates(tmp_path: Path) -> None:
    """A store written before the IOC's covering indexes (its open target/source indexes read
    every alert row) gets them when opened, loses the old ones, and the IOC's and incidents'
    reads are then planned on the indexes alone."""
    import sqlite3

    from nocsoc.detections.alerts import AlertStore
    from nocsoc.web.queue import QueueReader

    path = tmp_path / "a.db"
    _random_store(path)
    store = AlertStore(path)
    store.optimize()  # the planner's statistics, as a console has made them
    store.close()
    db = sqlite3.connect(path)
    for name in ("alerts_open_targets", "alerts_open_sources", "alerts_incident"):
        db.execute(f"DROP INDEX {name}")
    db.execute("CREATE INDEX alerts_open_target ON alerts "
               "((CASE WHEN dst_ip != '' THEN dst_ip ELSE host END)) WHERE state IN ('new', 'acknowledged')")
    db.execute("CREATE INDEX alerts_open_source ON alerts (src_ip) WHERE state IN ('new', 'acknowledged')")
    db.commit()
    db.close()
    AlertStore(path).close()
    db = sqlite3.connect(path)
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"alerts_open_targets", "alerts_open_sources", "alerts_incident"} <= names
    assert not names & {"alerts_open_target", "alerts_open_source"}
    stats = {r[0] for r in db.execute("SELECT idx FROM sqlite_stat1")}
    assert {"alerts_open_targets", "alerts_open_sources", "alerts_incident"} <= stats
    plans: list[str] = []
    reader = QueueReader(path)
    real = reader._tuples

    def explained(sql: str, args: object = ()) -> list[tuple[object, ...]]:
        plans.append(" ".join(str(r[3]) for r in db.execute("EXPLAIN QUERY PLAN " + sql, list(args))))  # type: ignore[call-overload]
        return real(sql, args)  # type: ignore[arg-type]

    reader._tuples = explained  # type: ignore[method-assign]
    since = 1_795_000_000.0 + 3 * 86400
    reader.open_incident_levels(since, 3600.0)
    reader.recent_incidents(since, 3600.0)
    assert "COVERING INDEX alerts_incident" in plans[0] and "COVERING INDEX alerts_incident" in plans[1]
    for sql in (
        "SELECT CASE WHEN dst_ip != '' THEN dst_ip ELSE host END AS t, count(*) FROM alerts "
        "WHERE state IN ('new', 'acknowledged') GROUP BY t ORDER BY 2 DESC, 1 LIMIT 10",
        "SELECT src_ip, count(*) FROM alerts WHERE state IN ('new', 'acknowledged') AND src_ip != '' "
        "GROUP BY src_ip ORDER BY 2 DESC, 1 LIMIT 10",
    ):
        plan = " ".join(str(r[3]) for r in db.execute("EXPLAIN QUERY PLAN " + sql))
        assert "COVERING INDEX alerts_open_" in plan, plan
