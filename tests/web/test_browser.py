"""The console in a real browser: Debian's chromium driven by Playwright (no browser download).

An analyst's path over the engine's alerts: login (and a lockout), filter, free-text search,
bulk ack, an incident, an alert's detail with its pivot, GeoIP/ASN and the target's bandwidth, a
suppression preview, the IOC page, the language switch. Screenshots go to
$NOCSOC_SCREENSHOT_DIR (docs/console/ for the docs), else tmp.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nocsoc.schema import INTERFACE
from nocsoc.sinks.factory import build_sink
from nocsoc.sinks.plugins.sqlite import SqliteSinkConfig
from nocsoc.web.enrich import GeoLookup
from nocsoc.web.service import WebService
from tests.collectors.flows.test_geoip import write_dbs
from tests.servers.base import require_binary, wait_until
from tests.web.conftest import PASSWORDS, RULE_TESTS, Console, ingest


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium (skip where absent; under CI=true that fails, as for every server)."""
    return require_binary("chromium", "chromium")


SCAN_SOURCE = "203.113.5.9"  # in the test GeoIP files: VN, AS7552 Viettel


def _scan_on_a_backbone_router(console: Console) -> tuple[str, str]:
    """A port scan from a public address against the first inventory link's router (the
    firewall's own test lines, re-addressed), and that link's rates around it in the SQLite
    sink: what the detail's GeoIP and bandwidth show. (link name, router name)"""
    inv = console.deps.inventory
    link = inv.links[0]
    router = next(d for d in inv.devices if d.name == link.a.device)
    lines = (RULE_TESTS / "nocsoc_fw_portscan.match.log").read_text().splitlines()
    ingest(
        console.store,
        [
            ln.replace("203.0.113.66", SCAN_SOURCE).replace("10.10.0.5", router.address)
            for ln in lines
            if ln.strip() and not ln.startswith("#")
        ],
    )
    scan = next(a for a in console.store.list_alerts(limit=100) if a.src_ip == SCAN_SOURCE)
    sink = build_sink(SqliteSinkConfig(path="./nocsoc.db"), console.tmp)
    t0 = int(scan.first_seen * 1e9)
    sink.write(
        [
            INTERFACE.point(
                t0 + k * 60_000_000_000,
                {"device": end.device, "ifname": end.interface, "link": link.name},
                {"in_bps": (6 + k) * 1e8, "out_bps": 2e8, "in_util_pct": 6.0 + k, "out_util_pct": 2.0,
                 "speed_mbps": 10_000, "oper_status": 1},
            )
            for k in range(-5, 6)
            for end in (link.a, link.b)
        ]
    )
    assert sink.flush(30)
    sink.close()
    return link.name, router.name


@pytest.fixture()
def served(console: Console) -> Iterator[tuple[Console, str]]:
    country, asn = write_dbs(console.tmp)
    console.deps = dataclasses.replace(
        console.deps, geo=GeoLookup(country, asn), sink_db=console.tmp / "nocsoc.db"
    )
    svc = WebService(console.deps, "127.0.0.1:0")
    svc.start()
    wait_until(lambda: svc.started, what="uvicorn")
    yield console, f"http://127.0.0.1:{svc.port}"
    svc.stop()


@pytest.fixture()
def page(tmp_path: Path, chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        ctx = browser.new_context(viewport={"width": 1366, "height": 768})
        pg = ctx.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.errors = errors  # type: ignore[attr-defined]
        yield pg
        browser.close()


def _shot(pg: Any, name: str, tmp: Path) -> None:
    out = Path(os.environ.get("NOCSOC_SCREENSHOT_DIR") or tmp)
    out.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(out / f"{name}.png"), full_page=True)


def test_analyst_triages_in_the_browser(served: tuple[Console, str], page: Any, tmp_path: Path) -> None:
    console, base = served
    link, router = _scan_on_a_backbone_router(console)
    pg = page
    # not logged in: sent to the login page
    pg.goto(base + "/alerts")
    assert pg.url == base + "/login"
    # lockout: 10 wrong passwords for the viewer
    for i in range(10):
        pg.fill("input[name=user]", "vic")
        pg.fill("input[name=password]", f"wrong-{i}")
        pg.click("button[type=submit]")
    assert "tạm khóa" in pg.inner_text("#login-error")
    _shot(pg, "login-locked", tmp_path)
    # the analyst logs in
    pg.fill("input[name=user]", "ana")
    pg.fill("input[name=password]", PASSWORDS["ana"])
    pg.click("button[type=submit]")
    pg.wait_for_url(base + "/alerts")
    every = console.store.list_alerts(limit=100)
    assert pg.inner_text("#total") == str(len(every))
    _shot(pg, "queue", tmp_path)
    # filter by rule title (htmx swaps the queue)
    pg.fill("input[name=rule]", "SSH Brute Force")
    pg.click("#filters button[type=submit]")
    brute = sorted(a.id for a in every if "SSH Brute Force" in a.rule_title)
    # polled from Python: the console's CSP forbids the eval behind wait_for_function(string)
    wait_until(lambda: pg.inner_text("#total") == str(len(brute)), what="the filtered queue")
    assert (
        sorted(int(x) for x in pg.eval_on_selector_all("tr[data-id]", "r => r.map(e => e.dataset.id)"))
        == brute
    )
    # free text: whole words of the evidence (FTS5), quoted as data
    pg.fill("input[name=rule]", "")
    pg.fill("input[name=q]", "sqlmap")
    pg.click("#filters button[type=submit]")
    sqlmap = sorted(a.id for a in every if any("sqlmap" in x["raw"] for x in a.samples))

    def shown() -> list[int]:  # the rows, not the total: both lists may count the same
        return sorted(int(x) for x in pg.eval_on_selector_all("tr[data-id]", "r => r.map(e => e.dataset.id)"))

    assert sqlmap and sqlmap != brute
    wait_until(lambda: shown() == sqlmap, what="the free-text search")
    assert pg.inner_text("#total") == str(len(sqlmap))
    _shot(pg, "queue-search", tmp_path)
    pg.fill("input[name=q]", "")
    pg.fill("input[name=rule]", "SSH Brute Force")
    pg.click("#filters button[type=submit]")
    wait_until(lambda: shown() == brute, what="the filtered queue again")
    # bulk ack both
    for aid in brute:
        pg.check(f"input[name=ids][value='{aid}']")
    pg.click("fieldset.bulk button[value=ack]")

    def states() -> list[str]:
        return list(pg.eval_on_selector_all("td.state", "r => r.map(e => e.textContent)"))

    wait_until(lambda: set(states()) == {"Đã tiếp nhận"}, what="the acknowledged rows")
    assert [console.store.get(a).state for a in brute] == ["acknowledged"] * len(brute)
    assert all(console.store.audit(alert_id=a)[-1].who == "ana" for a in brute)
    # the incident of the SSH attack on dns1
    pg.click("text=Sự cố")
    dns = [a for a in every if a.src_ip == "192.0.2.77"]
    pg.click(f"a[href='/incidents/{min(a.id for a in dns)}']")
    assert {
        int(x) for x in pg.eval_on_selector_all("#incident-bulk input[name=ids]", "r => r.map(e => e.value)")
    } == {a.id for a in dns}
    _shot(pg, "incident", tmp_path)
    # detail with the pivot
    crit = next(a for a in dns if a.level == "critical")
    pg.goto(f"{base}/alerts/{crit.id}")
    assert "Chưa cấu hình lưu trữ lịch sử" in pg.inner_text("#no-history")
    assert crit.samples[0]["raw"] in pg.inner_text("pre.evidence")
    pg.fill("#triage textarea[name=comment]", "Đã khóa tài khoản root, chặn 192.0.2.77")
    pg.click("#triage button[value=comment]")
    assert "Đã khóa tài khoản root" in pg.inner_text("#audit")
    _shot(pg, "detail", tmp_path)
    # the port scan's detail: the source's country and AS, the router's link load around it
    scan = next(a for a in console.store.list_alerts(limit=100) if a.src_ip == SCAN_SOURCE)
    pg.goto(f"{base}/alerts/{scan.id}")
    geo = pg.inner_text(f"#geoip tr[data-ip='{SCAN_SOURCE}']")
    assert geo.split() == [SCAN_SOURCE, "VN", "AS7552", "Viettel"]
    assert "không phải địa chỉ công cộng" in pg.inner_text(f"#geoip tr[data-ip='{scan.dst_ip}']")
    rows = pg.eval_on_selector_all("#bandwidth tr[data-port]", "r => r.map(e => e.innerText)")
    on_link = [r for r in rows if f"\t{link}\t" in r]
    assert len(on_link) == 2 and all("1.1 Gb/s" in r and "11.0 %" in r for r in on_link)
    assert all("không rõ" in r for r in rows if r not in on_link)  # no rates written for the others
    assert f"= {router}" in pg.inner_text("#bw-target")
    _shot(pg, "detail-geoip-bandwidth", tmp_path)
    # suppression editor: a mistake, then a preview
    pg.goto(base + "/suppressions")
    pg.fill("input[name=rule]", "SSH Brute Force From One Source")
    pg.fill("textarea[name=conditions]", "srcip=203.0.113.50")
    pg.click("button[hx-post='/suppressions/preview']")
    pg.wait_for_selector("#problems")
    assert "srcip: not a field" in pg.inner_text("#problems")
    pg.fill("textarea[name=conditions]", "src_ip=203.0.113.50\nuser=root")
    pg.click("button[hx-post='/suppressions/preview']")
    pg.wait_for_selector("#would-hide")
    assert "1 cảnh báo" in pg.inner_text("#would-hide").replace("\n", " ")
    _shot(pg, "suppression-preview", tmp_path)
    # IOC page, then English
    pg.goto(base + "/ioc")
    assert "Tình hình an ninh" in pg.content()
    _shot(pg, "ioc", tmp_path)
    pg.click("#lang")
    pg.wait_for_url(base + "/ioc")
    assert "Security posture" in pg.content()
    _shot(pg, "ioc-en", tmp_path)
    assert pg.errors == []  # type: ignore[attr-defined]
