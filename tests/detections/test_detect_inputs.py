"""`nocsoc detect` over rotated logs: .gz/.bz2/.xz, directories and globs read oldest first, a
corrupt archive reported by name (no traceback), and `--store` run twice counting nothing twice."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
from pathlib import Path

from typer.testing import CliRunner

from nocsoc.cli.app import app
from nocsoc.collectors.logs import hunt_inputs
from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.loader import builtin_rules_dir

BRUTE = (builtin_rules_dir() / "tests" / "nocsoc_ssh_bruteforce.match.log").read_text().splitlines(True)


def run(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, list(args), env={"NOCSOC_CONFIG": str(tmp_path / "none.yaml")})
    return res.exit_code, res.stdout, res.stderr


def rotated(tmp_path: Path) -> Path:
    """The 12 failed logins of one brute force split over auth.log.2.gz, auth.log.1.bz2, auth.log
    (oldest to newest, by mtime, as logrotate leaves them) plus an .xz copy elsewhere."""
    d = tmp_path / "logs"
    d.mkdir()
    parts = [("auth.log.2.gz", gzip.compress), ("auth.log.1.bz2", bz2.compress), ("auth.log", None)]
    for i, (name, pack) in enumerate(parts):
        data = "".join(BRUTE[i * 4 : i * 4 + 4]).encode()
        (d / name).write_bytes(pack(data) if pack else data)
        os.utime(d / name, (1_795_000_000 + i * 3600, 1_795_000_000 + i * 3600))
    return d


def test_expand_orders_rotations_oldest_first(tmp_path: Path) -> None:
    d = rotated(tmp_path)
    assert [p.name for p in hunt_inputs.expand([d])] == ["auth.log.2.gz", "auth.log.1.bz2", "auth.log"]
    assert [p.name for p in hunt_inputs.expand([str(d / "auth.log*")])] == [
        "auth.log.2.gz",
        "auth.log.1.bz2",
        "auth.log",
    ]
    for f in d.iterdir():  # same mtime (copied together): the rotation number decides
        os.utime(f, (1_795_000_000, 1_795_000_000))
    assert [p.name for p in hunt_inputs.expand([d])] == ["auth.log.2.gz", "auth.log.1.bz2", "auth.log"]
    x = tmp_path / "old.log.xz"
    x.write_bytes(lzma.compress(b"a\nb\n"))
    assert list(hunt_inputs.lines(x)) == [b"a\n", b"b\n"]


def test_detect_reads_compressed_rotations_of_a_directory(tmp_path: Path) -> None:
    d = rotated(tmp_path)
    code, out, _ = run(tmp_path, "detect", str(d), "--json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["events"], doc["unparsed"]) == (12, 0)
    assert sorted((a["rule_title"], a["count"]) for a in doc["alerts"]) == [
        ("SSH Brute Force From One Source", 12)
    ]
    code, out, _ = run(tmp_path, "detect", str(d / "auth.log*"), "--json")
    assert (code, json.loads(out)["events"]) == (0, 12)


def test_corrupt_archive_is_named_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "auth.log.3.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage")
    code, out, err = run(tmp_path, "detect", str(bad), "--json")
    assert code == 0 and json.loads(out)["events"] == 0
    flat = "".join(err.split())  # rich wraps long lines, inside a long path's words too
    assert "auth.log.3.gz:unreadable" in flat and "Traceback" not in err
    code, _, err = run(tmp_path, "detect", str(tmp_path / "nothing*.log"))
    assert code == 2 and "nothing*.log:nofilematches" in "".join(err.split())


def test_store_twice_counts_once(tmp_path: Path) -> None:
    d = rotated(tmp_path)
    db = tmp_path / "alerts.db"
    assert run(tmp_path, "detect", str(d), "--store", "--db", str(db), "--json")[0] == 0
    code, out, err = run(tmp_path, "detect", str(d), "--store", "--db", str(db), "--json")
    assert code == 0 and json.loads(out)["events"] == 0
    assert err.count("already stored, skipped") == 3
    with AlertStore(db) as store:
        alerts = store.list_alerts()
    assert [(a.rule_title, a.count) for a in alerts] == [("SSH Brute Force From One Source", 12)]
