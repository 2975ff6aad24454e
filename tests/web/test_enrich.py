"""The alert detail's GeoIP/ASN (MaxMind-format files written here with mmdb-writer, as the
flows' tests do) and the target's interface bandwidth (the inventory's links, interface rates
written through nocsoc's SQLite sink), each unknown said as such, with its reason."""

from __future__ import annotations

import dataclasses
import html
import re
from typing import Any

from nocsoc.detections.engine import Detection
from nocsoc.events import LogEvent
from nocsoc.schema import INTERFACE
from nocsoc.sinks.factory import build_sink
from nocsoc.sinks.plugins.sqlite import SqliteSinkConfig
from nocsoc.web.app import create_app
from nocsoc.web.enrich import GeoLookup
from nocsoc.web.i18n import catalog
from tests.collectors.flows.test_geoip import write_dbs
from tests.web.conftest import PASSWORDS, Console

EN = catalog("en")


def _alert(c: Console, src: str, dst: str, key: str) -> int:
    ev = LogEvent(f"probe from {src} to {dst}", {}, host="fw-x", time=c.now - 1800, source="file")
    det = Detection("enrich-test", "Enrich test", "high", (), "rule", key, True, 1, ev.time, ev.time + 60,
                    host="fw-x", src_ip=src, dst_ip=dst, samples=[ev])
    res = c.store.ingest([det])
    return res.created[0]


def _client(c: Console, **deps: Any):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    app = create_app(dataclasses.replace(c.deps, **deps))
    cl = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
    cl.cookies.set("nocsoc_lang", "en")
    assert cl.post("/login", data={"user": "vic", "password": PASSWORDS["vic"]}).status_code == 303
    return cl


def _geo_rows(html: str) -> dict[str, str]:
    rows = re.findall(r'<tr data-ip="([^"]+)">(.*?)</tr>', html, re.S)
    return {ip: _text(body) for ip, body in rows}


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip())


def test_geoip_and_asn_of_source_and_target(console: Console) -> None:
    country, asn = write_dbs(console.tmp)
    public = _alert(console, "203.113.5.9", "8.8.4.4", "g1")
    private = _alert(console, "10.1.2.3", "8.8.8.8", "g2")
    cl = _client(console, geo=GeoLookup(country, asn))
    rows = _geo_rows(cl.get(f"/alerts/{public}").text)
    assert rows == {
        "203.113.5.9": "203.113.5.9 VN AS7552 Viettel",
        "8.8.4.4": f"8.8.4.4 {EN['unknown']}: {EN['geo_not_found']}",  # not in either file
    }
    rows = _geo_rows(cl.get(f"/alerts/{private}").text)
    assert rows == {
        "10.1.2.3": f"10.1.2.3 (private) {EN['unknown']}: {EN['geo_non_public']}",
        "8.8.8.8": f"8.8.8.8 US {EN['unknown']}",  # a country, no AS in the ASN file
    }
    api = cl.get(f"/api/v1/alerts/{public}").json()["addresses"]
    assert [(x["address"], x["country"], x["asn"], x["as_org"], x["reason"]) for x in api] == [
        ("203.113.5.9", "VN", "AS7552", "Viettel", ""),
        ("8.8.4.4", None, None, None, "geo_not_found"),
    ]
    # no database configured: said so, not shown as "no country"
    rows = _geo_rows(_client(console).get(f"/alerts/{public}").text)
    assert rows["203.113.5.9"] == f"203.113.5.9 {EN['unknown']}: {EN['geo_no_db']}"
    # a file that is not a database: the page still renders, and says it
    bad = console.tmp / "junk.mmdb"
    bad.write_bytes(b"not a database" * 10)
    r = _client(console, geo=GeoLookup(bad, None)).get(f"/alerts/{public}")
    assert r.status_code == 200 and EN["geo_db_error"] in r.text


def _port_rows(html: str) -> dict[str, list[str]]:
    rows = re.findall(r'<tr data-port="([^"]+)">(.*?)</tr>', html, re.S)
    return {
        port: [_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", b, re.S)] for port, b in rows
    }


def test_bandwidth_of_the_target_interfaces(console: Console) -> None:
    inv = console.deps.inventory
    link = inv.links[0]
    target = next(d for d in inv.devices if d.name == link.a.device)
    far = link.b
    aid = _alert(console, "203.113.5.9", target.address, "b1")
    a = console.store.get(aid)
    sink = build_sink(SqliteSinkConfig(path="./nocsoc.db"), console.tmp)
    t0 = int(a.first_seen * 1e9)
    pts = []
    # the target's end: 3 readings inside the window, a bigger one 2 h before (outside)
    for dt_s, rate in ((-600, 2e8), (0, 9.5e8), (600, 3e8), (-7200, 9.9e9)):
        pts.append(INTERFACE.point(t0 + int(dt_s * 1e9), {"device": target.name, "ifname": link.a.interface,
                                                         "link": link.name},
                                   {"in_bps": rate, "out_bps": rate / 10, "in_util_pct": rate / 1e8,
                                    "out_util_pct": rate / 1e9, "speed_mbps": 10000, "oper_status": 1}))
    # the far end: down, no rate yet (first poll)
    pts.append(INTERFACE.point(t0, {"device": far.device, "ifname": far.interface, "link": link.name},
                               {"speed_mbps": 10000, "oper_status": 2}))
    sink.write(pts)
    assert sink.flush(30)
    sink.close()
    cl = _client(console, sink_db=console.tmp / "nocsoc.db")
    html = cl.get(f"/alerts/{aid}").text
    assert f"= {target.name}" in html and 'id="bw-unknown"' not in html
    ports = _port_rows(html)
    own, peer = f"{target.name} {link.a.interface}", f"{far.device} {far.interface}"
    assert ports[own] == [f"{target.name} ({EN['side_own']})", link.a.interface, link.name, "10.0 Gb/s",
                          "950.0 Mb/s", "95.0 Mb/s", "9.5 %", EN["oper_up"]]
    assert ports[peer] == [f"{far.device} ({EN['side_peer']})", far.interface, link.name, "10.0 Gb/s",
                           EN["unknown"], EN["oper_down"]]
    bw = cl.get(f"/api/v1/alerts/{aid}").json()["bandwidth"]
    assert bw["device"] == target.name and bw["reason"] is None
    got = {(x["device"], x["ifname"]): (x["peak_in_bps"], x["peak_out_bps"], x["samples"])
           for x in bw["interfaces"]}
    assert got[(target.name, link.a.interface)] == (9.5e8, 9.5e7, 3)
    assert got[(far.device, far.interface)] == (None, None, 0)


def test_bandwidth_unknown_says_why(console: Console) -> None:
    inv = console.deps.inventory
    outsider = _alert(console, "203.113.5.9", "192.0.2.200", "u1")  # no device has this address
    inside = _alert(console, "203.113.5.9", inv.links[0].a.device, "u2")
    cl = _client(console)  # no SQLite sink
    html = cl.get(f"/alerts/{outsider}").text
    assert f'id="bw-unknown">{EN["unknown"]}: {EN["bw_not_inventory"]}<' in html
    html = cl.get(f"/alerts/{inside}").text
    assert f'id="bw-unknown">{EN["unknown"]}: {EN["bw_no_sink"]}<' in html
    assert inv.links[0].a.interface in html  # the interfaces are still named
    empty = build_sink(SqliteSinkConfig(path="./empty.db"), console.tmp)
    empty.close()
    html = _client(console, sink_db=console.tmp / "empty.db").get(f"/alerts/{inside}").text
    assert f'id="bw-unknown">{EN["unknown"]}: {EN["bw_no_rates"]}<' in html
    vi = _client(console).get(f"/alerts/{outsider}", cookies={"nocsoc_lang": "vi"}).text
    assert catalog("vi")["bw_not_inventory"] in vi
