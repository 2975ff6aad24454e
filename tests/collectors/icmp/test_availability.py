"""Availability per device and site from what a real SqliteSink stored: ping rounds combined with
the SNMP poll at or before each round (SNMP down is not down; ICMP filtered is not down)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from nocsoc.cli.app import app
from nocsoc.collectors.icmp.availability import device_availability, site_availability, state
from nocsoc.schema import PING, SNMP_POLL
from nocsoc.sinks.factory import build_sink
from nocsoc.sinks.plugins.sqlite import SqliteSinkConfig
from nocsoc.sinks.sqlite import SqliteReader

S = 1_000_000_000


@pytest.mark.parametrize(("ping", "snmp", "want"), [
    (True, True, "up"), (True, False, "snmp_down"), (True, None, "up"), (False, True, "up"),
    (False, False, "down"), (False, None, "down"), (None, False, "down"), (None, True, "up"),
    (None, None, "unknown"),
])
def test_state_table(ping: bool | None, snmp: bool | None, want: str) -> None:
    assert state(ping, snmp) == want


def _store(db: Path, t0: int) -> None:
    """10 ping rounds a minute apart per device, SNMP polls between them:
    a (dc1): ping fails rounds 3 and 7, SNMP always answers  -> 10/10 (ICMP filtered then)
    b (dc1): ping always answers, SNMP fails from round 6     -> 10/10, 4 SNMP down, now snmp_down
    c (dist): ping and SNMP both fail rounds 0-2              -> 7/10, now up
    d (dist): never pinged, SNMP answers 3 of 4 polls         -> 3/4 from SNMP alone
    """
    sink = build_sink(SqliteSinkConfig(path=str(db)), db.parent)
    pts = []
    for i in range(10):
        t = t0 + i * 60 * S
        for dev, site, ping_ok, snmp_ok in (("a", "dc1", i not in (3, 7), True),
                                            ("b", "dc1", True, i < 6),
                                            ("c", "dist", i > 2, i > 2)):
            tags = {"device": dev, "site": site, "role": "access"}
            pts.append(SNMP_POLL.point(t - 10 * S, tags, {"reachable": int(snmp_ok), "duration_s": 0.1}))
            pts.append(PING.point(t, tags, {"reachable": int(ping_ok), "sent": 3,
                                            "received": 3 if ping_ok else 0,
                                            "loss_pct": 0.0 if ping_ok else 100.0}))
    for i, ok in enumerate((True, False, True, True)):
        pts.append(SNMP_POLL.point(t0 + i * 120 * S, {"device": "d", "site": "dist", "role": "ups"},
                                   {"reachable": int(ok)}))
    sink.write(pts)
    sink.flush(30)
    sink.close()


def test_device_and_site_availability(tmp_path: Path) -> None:
    t0 = 1_800_000_000 * S
    db = tmp_path / "nocsoc.db"
    _store(db, t0)
    rows = device_availability(SqliteReader(db), t0 - 60 * S, t0 + 3600 * S, snmp_max_age_s=120)
    got = {r.device: (r.site, r.samples, r.available, r.snmp_down, r.availability_pct, r.last_state)
           for r in rows}
    assert got == {"a": ("dc1", 10, 10, 0, 100.0, "up"), "b": ("dc1", 10, 10, 4, 100.0, "snmp_down"),
                   "c": ("dist", 10, 7, 0, 70.0, "up"), "d": ("dist", 4, 3, 0, 75.0, "up")}
    sites = {s.site: (s.devices, s.availability_pct) for s in site_availability(rows)}
    assert sites == {"dc1": (2, 100.0), "dist": (2, 72.5)}


def test_an_snmp_poll_older_than_the_max_age_does_not_count(tmp_path: Path) -> None:
    t0 = 1_800_000_000 * S
    db = tmp_path / "nocsoc.db"
    _store(db, t0)
    # polls are 10 s before each round: with a 5 s max age none covers a round, so a's two failed
    # pings are down and b is never "SNMP down" (its SNMP state is unknown at every round)
    rows = {r.device: r for r in device_availability(SqliteReader(db), t0 - 60 * S, None, snmp_max_age_s=5)}
    assert (rows["a"].available, rows["b"].snmp_down, rows["b"].last_state) == (8, 0, "up")


def test_cli_availability_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    t0 = time.time_ns() - 3600 * S
    _store(tmp_path / "var" / "nocsoc.db", t0)
    (tmp_path / "nocsoc.yaml").write_text(yaml.safe_dump(
        {"sinks": [{"type": "sqlite", "path": "./var/nocsoc.db"}]}))
    res = CliRunner().invoke(app, ["-c", str(tmp_path / "nocsoc.yaml"), "ping", "--availability",
                                   "--since", "2h", "--snmp-max-age", "120", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert {d["device"]: d["availability_pct"] for d in out["devices"]} == {"a": 100.0, "b": 100.0,
                                                                            "c": 70.0, "d": 75.0}
    assert {s["site"]: s["availability_pct"] for s in out["sites"]} == {"dc1": 100.0, "dist": 72.5}
    res = CliRunner().invoke(app, ["-c", str(tmp_path / "nocsoc.yaml"), "ping", "--availability",
                                   "--since", "2h", "--site", "dc1", "--snmp-max-age", "120"])
    assert res.exit_code == 0 and "snmp_down" in res.stdout and " c " not in res.stdout
