"""The pivot against the real history store (nocsoc.history): flows of an alert's source and
log lines around it, written by the history writers and shown on the alert's page.

Skipped where nocsoc.history is not installed (the console then shows "no history
configured", tested in test_console.py)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import numpy as np

from nocsoc.collectors.flows.records import UNSAMPLED, make_batch
from nocsoc.events import LogEvent
from nocsoc.history.config import HistoryConfig
from nocsoc.history.flows import FlowHistoryWriter
from nocsoc.history.logs import LogArchiveWriter
from nocsoc.web.pivot import HistoryPivot
from tests.web.conftest import Console, login

ATTACKER, SERVER, OTHER = "203.0.113.50", "10.10.0.5", "10.10.0.6"


def _batch(t: float, rows: list[tuple[str, str, int, int, int, int]]):  # type: ignore[no-untyped-def]
    n = len(rows)
    cols = {
        "src": np.array([int(ipaddress.IPv4Address(r[0])) for r in rows], np.uint32),
        "dst": np.array([int(ipaddress.IPv4Address(r[1])) for r in rows], np.uint32),
        "sport": np.array([r[2] for r in rows], np.uint32),
        "dport": np.array([r[3] for r in rows], np.uint32),
        "proto": np.full(n, 6, np.uint32),
        "in_if": np.full(n, 1, np.uint32),
        "out_if": np.full(n, 2, np.uint32),
        "bytes": np.array([r[4] for r in rows], np.int64),
        "packets": np.array([r[5] for r in rows], np.int64),
    }
    return make_batch("192.0.2.1", "10", 4, t, cols, np.full(n, 1, np.int64), np.full(n, UNSAMPLED, np.int8))


def test_detail_shows_flows_and_log_lines_from_history(console: Console, tmp_path: Path) -> None:
    a = next(x for x in console.store.list_alerts(limit=100) if x.src_ip == ATTACKER)
    t = a.first_seen
    root = tmp_path / "history"
    cfg = HistoryConfig.model_validate(
        {
            "minute_grace_s": 0.0,
            "compact_after_s": 0.0,
            "maintenance_interval_s": 3600,
            "flush_interval_s": 0.05,
        }
    )
    fw = FlowHistoryWriter(cfg, root, clock=lambda: t + 7200)
    fw.add(_batch(t, [(ATTACKER, SERVER, 41000, 22, 1200, 20), (ATTACKER, OTHER, 41001, 22, 300, 5)]))
    fw.add(_batch(t + 60, [(SERVER, ATTACKER, 22, 41000, 9000, 30)]))
    fw.add(_batch(t + 86400, [(ATTACKER, SERVER, 41002, 22, 777, 1)]))  # a day later: outside the window
    fw.sync()
    lw = LogArchiveWriter(cfg, root, clock=lambda: t + 7200)
    for s in a.samples:
        lw.add(
            LogEvent(
                s["raw"], dict(s["fields"]), host=s["host"], time=s["time"], parser="sshd", source="syslog"
            )
        )
    lw.add(LogEvent("unrelated line", {}, host="other-host", time=t + 1, source="syslog"))
    lw.sync()

    p = HistoryPivot(root).around(a.src_ip, a.dst_ip, a.host, a.first_seen, a.last_seen)
    assert p.available and p.errors == []
    peers = {(f["peer"], f["direction"], f["bytes"]) for f in p.flows[ATTACKER]}
    assert peers == {(SERVER, "out", 1200), (OTHER, "out", 300), (SERVER, "in", 9000)}
    assert [ln["raw"] for ln in p.logs] == [s["raw"] for s in sorted(a.samples, key=lambda s: s["time"])]

    console.deps.pivot = HistoryPivot(root)
    html = login(console, "vic").get(f"/alerts/{a.id}").text
    assert 'id="no-history"' not in html
    assert html.count(f'<td class="ip">{SERVER}</td>') == 2 and "9000" in html
