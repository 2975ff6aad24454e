"""`nocsoc demo` on an existing workspace never destroys the alert store: a trainee's
acknowledgements and comments survive a second run; `--fresh` backs the store up first."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.engine import Detection
from nocsoc.events import LogEvent
from nocsoc.service.demo import DemoOptions, prepare_workspace
from nocsoc.service.summary import check_attacks


def _detection(src: str, t: float) -> Detection:
    ev = LogEvent(f"Failed password from {src}", {"src_ip": src}, host="portal", time=t)
    return Detection("ssh-brute", "SSH brute force", "high", ("attack.t1110",), "rule", f"src={src}",
                     True, 1, t, t, "portal", src, "", "root", [ev])


def _previous_run(workdir: Path) -> Path:
    """A workspace after one demo run: an alert a trainee acknowledged with a comment, left in
    the WAL (not checkpointed), plus the run's other state."""
    prepare_workspace(DemoOptions(workdir=workdir))
    var = workdir / "var"
    var.mkdir(exist_ok=True)
    (var / "nocsoc.db").write_bytes(b"metrics of the previous run")
    (var / "flows").mkdir()
    (var / "flows" / "templates.json").write_text("{}")
    (var / "status-logs.json").write_text("{}")
    db = var / "alerts.db"
    store = AlertStore(db)
    store.ingest([_detection("198.51.100.7", 1000.0)], now=1000.0)
    store.transition(1, "ack", who="trainee", comment="checked with the portal team", now=1001.0)
    return db


def _audit(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute("SELECT action, who, comment FROM audit ORDER BY id"))


def test_second_run_keeps_the_alert_store_and_clears_the_rest(tmp_path: Path) -> None:
    db = _previous_run(tmp_path)
    before = _audit(db)
    assert ("ack", "trainee", "checked with the portal team") in before

    ws = prepare_workspace(DemoOptions(workdir=tmp_path))

    assert ws.kept_alerts == 1 and ws.backup is None
    assert _audit(db) == before
    with AlertStore(db) as store:
        assert [(a.id, a.state) for a in store.list_alerts()] == [(1, "acknowledged")]
    var = tmp_path / "var"
    assert sorted(p.name for p in var.iterdir() if not p.name.startswith("alerts.db")) == []
    assert not (tmp_path / "backups").exists()


def test_fresh_backs_the_store_up_then_starts_empty(tmp_path: Path) -> None:
    db = _previous_run(tmp_path)
    before = _audit(db)

    ws = prepare_workspace(DemoOptions(workdir=tmp_path, fresh=True))

    assert ws.backup is not None and ws.backup.parent == tmp_path / "backups"
    assert ws.backup.name.startswith("alerts-") and ws.backup.suffix == ".db"
    assert not db.exists() and not list((tmp_path / "var").glob("alerts.db*"))
    assert _audit(ws.backup) == before  # the WAL's content made it into the backup
    with AlertStore(ws.backup) as store:
        assert [a.src_ip for a in store.list_alerts()] == ["198.51.100.7"]
    again = prepare_workspace(DemoOptions(workdir=tmp_path, fresh=True))
    assert again.backup is None and again.kept_alerts == 0  # nothing left to back up


def test_kept_alerts_do_not_vouch_for_this_runs_attacks(tmp_path: Path) -> None:
    db = _previous_run(tmp_path)
    manifest = {"attacks": [{"kind": "ssh_bruteforce", "source": "198.51.100.7", "target": "portal",
                             "emitted": 40}]}
    assert check_attacks(manifest, db)[0].rules == ["SSH brute force"]
    assert check_attacks(manifest, db, since=2000.0)[0].rules == []
    with AlertStore(db) as store:  # this run's detection of the same source updates the old alert
        store.ingest([_detection("198.51.100.7", 1500.0)], now=2500.0)
    assert check_attacks(manifest, db, since=2000.0)[0].rules == ["SSH brute force"]
