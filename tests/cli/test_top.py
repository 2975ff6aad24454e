"""`nocsoc top`: the header (window, refresh time, collector liveness), "no data" instead of a
false all-clear, and a frame that fits 80x24 with whole names, in English and Vietnamese.
Rendered on a rich Console of the terminal's size; the data is written by the real sqlite sink."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from nocsoc import schema
from nocsoc.cli.demo import top_frame
from nocsoc.service.status import WorkerStatus, write_status
from nocsoc.sinks.factory import build_sink
from nocsoc.sinks.plugins.sqlite import SqliteSinkConfig

NOW = 1_800_000_000.0
LINK = "ring-phuoclong-bugiamap"  # a long link name that must not be cut
DEVICES = ("phuoclong-dist-01", "bugiamap-dist-01")


def frame(db: Path, state: Path, lang: str = "en", width: int = 80, alerts: Path | None = None) -> str:
    console = Console(width=width, height=24, record=True, color_system=None, file=io.StringIO())
    console.print(
        top_frame(db, alerts or db.parent / "alerts.db", state, {}, lang, 2.0, width, 60, 80, -20, now=NOW)
    )
    return console.export_text()


@pytest.fixture
def polled(tmp_path: Path) -> Path:
    """Two ends of a backbone link and eight more interfaces; one device unreachable; a weak optic."""
    sink = build_sink(SqliteSinkConfig(path=str(tmp_path / "nocsoc.db")), tmp_path)
    t = int((NOW - 60) * 1e9)
    points = []
    for i, dev in enumerate(DEVICES):
        tags = {
            "device": dev,
            "site": dev.split("-")[0],
            "role": "distribution",
            "ifname": "Te0/0/9",
            "ifalias": "ring",
            "link": LINK,
        }
        fields = {
            "in_bps": 8.5e9 - i * 1e9,
            "out_bps": 2e9,
            "in_util_pct": 85.0 - i * 10,
            "out_util_pct": 20.0,
            "oper_status": 1,
        }
        points.append(schema.INTERFACE.point(t, tags, fields))
        points.append(
            schema.DEVICE.point(t, {"device": dev, "site": "x", "role": "distribution"}, {"reachable": 1})
        )
    for n in range(8):
        tags = {
            "device": f"access-switch-{n:02d}",
            "site": "x",
            "role": "access",
            "ifname": f"Gi0/0/{n}",
            "ifalias": "",
            "link": f"uplink-{n:02d}",
        }
        fields = {
            "in_bps": 1e6 * n,
            "out_bps": 1e6,
            "in_util_pct": n * 1.0,
            "out_util_pct": 0.1,
            "oper_status": 1,
        }
        points.append(schema.INTERFACE.point(t, tags, fields))
    points.append(
        schema.DEVICE.point(
            t, {"device": "thienhung-acc-02", "site": "thienhung", "role": "access"}, {"reachable": 0}
        )
    )
    # polled before its agent answered (start-up), answering now: shown, not hidden
    down = {"device": DEVICES[0], "site": "x", "role": "distribution", "event": "unreachable"}
    points.append(schema.DEVICE_EVENT.point(t - 60_000_000_000, down, {"message": "no answer"}))
    optic = {"device": DEVICES[1], "site": "x", "role": "distribution", "ifname": "Te0/0/9", "sensor": "rx"}
    points.append(schema.OPTICS.point(t, optic, {"rx_dbm": -27.5}))
    sink.write(points)
    assert sink.flush(30)
    sink.close()
    return tmp_path / "nocsoc.db"


def test_nothing_running_says_no_data_never_none(tmp_path: Path) -> None:
    text = frame(tmp_path / "absent.db", tmp_path / "state")
    assert "window: last 15 min" in text and "refreshed " in text and "every 2s" in text
    # whitespace removed: rich may wrap a long tmp path inside a word (xdist's are longer)
    said = f"nothing running (no status in {tmp_path / 'state' / 'status'})"
    assert "".join(said.split()) in "".join(text.split())
    assert "unreachable" in text and "none" not in text.split()  # no false all-clear anywhere
    assert text.count("no data: nothing polled in the window") == 1  # why, once, under the links title
    assert text.count("no data") == 1 + 5 + 1 + 1  # and in the five health rows, talkers, alerts
    assert "no data: no alert store" in text
    wide = frame(tmp_path / "absent.db", tmp_path / "state", width=160)
    assert "no data: no flow rollups in the window" in wide and "none" not in wide.split()
    vi = " ".join(frame(tmp_path / "absent.db", tmp_path / "state", "vi").split())
    # "không có" ("none") only inside the no-data and nothing-running explanations
    assert "không có" not in vi.replace("không có tiến trình", "").replace("không có kho", "").replace(
        "(không có trạng thái", ""
    ).replace("không có lần thăm dò", "")
    assert vi.count("chưa có dữ liệu: không có lần thăm dò nào trong khoảng thời gian") == 1
    assert vi.count("chưa có dữ liệu") == 8


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_fits_80x24_with_whole_names(polled: Path, tmp_path: Path, lang: str) -> None:
    text = frame(polled, tmp_path / "state", lang)
    lines = text.rstrip("\n").splitlines()
    assert len(lines) <= 24 and max(map(len, lines)) <= 80, text
    assert "…" not in text, text  # nothing cut
    assert LINK in text and all(d in text for d in DEVICES)
    row = next(line for line in lines if line.startswith(LINK) and DEVICES[0] in line)
    assert row.split()[-3:] == ["8.5G", "2G", "85.0"]  # in, out, util of the busiest end
    assert "thienhung-acc-02" in text  # the unreachable device, by its whole name
    recovered = next(line for line in lines if "answering again" in line or "phản hồi lại sau" in line)
    assert recovered.split()[-2:] == ["1:", DEVICES[0]]
    assert "-27.5 dBm" in text
    wide = frame(polled, tmp_path / "state", lang, width=160)
    assert "Te0/0/9" in wide and len(wide.splitlines()) > len(lines)  # the full layout when there is room


def test_header_shows_each_collectors_liveness(polled: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    write_status(state, WorkerStatus("snmp", 11, NOW - 600, NOW - 3, interval_s=5))
    write_status(state, WorkerStatus("flows", 12, NOW - 600, NOW - 60, interval_s=5))  # 3 intervals missed
    write_status(state, WorkerStatus("logs", 13, NOW - 600, NOW - 30, state="failed", error="bind: in use"))
    header = " ".join(frame(polled, state).splitlines()[:3])
    assert "snmp ● running, 3s ago" in header
    assert "flows ✗ not answering for 60s" in header
    assert "logs ✗ failed: bind: in use" in header
    vi = " ".join(frame(polled, state, "vi").splitlines()[:3])
    assert "snmp ● đang chạy, 3s trước" in vi and "flows ✗ không phản hồi 60s" in vi


def test_the_cli_takes_lang_and_locale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from nocsoc.cli.app import app

    (tmp_path / "nocsoc.yaml").write_text("inventory: inventory.yaml\nsinks:\n  - type: sqlite\n")
    monkeypatch.delenv("NOCSOC_LANG", raising=False)
    monkeypatch.setenv("LANG", "vi_VN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    run = CliRunner().invoke
    vi = run(app, ["-c", str(tmp_path / "nocsoc.yaml"), "top", "--once"])
    assert vi.exit_code == 0, vi.output
    assert "khoảng thời gian: 15 phút gần nhất" in vi.output
    en = run(app, ["-c", str(tmp_path / "nocsoc.yaml"), "--lang", "en", "top", "--once"])
    assert "window: last 15 min" in en.output
    bad = run(app, ["--lang", "fr", "top", "--once"])
    assert bad.exit_code == 2 and "--lang must be vi or en" in bad.output
