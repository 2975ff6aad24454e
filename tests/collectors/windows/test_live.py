"""Live Windows inputs under the log pipeline, on real sockets (127.0.0.1): Winlogbeat over
Lumberjack v2 (acknowledged only after the alerts are stored), NXLog JSON over TCP and UDP."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from evtx import PyEvtxParser

from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.logs.pipeline import LogPipeline
from nocsoc.collectors.windows.config import WindowsInputsConfig
from nocsoc.collectors.windows.evtx import read_evtx
from nocsoc.collectors.windows.report import InputReport
from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.config import DetectionsConfig
from nocsoc.detections.loader import builtin_rules_dir
from nocsoc.sinks.memory import MemorySink
from tests.collectors.windows.lumberjack_client import read_ack, window
from tests.collectors.windows.test_documents import _winlogbeat
from tests.servers.base import free_port, wait_until

TESTS = builtin_rules_dir() / "tests"


def _pipeline(tmp_path: Path, rules: list[str], flush_s: float = 0.05) -> LogPipeline:
    tcp = free_port()
    udp = free_port(socket.SOCK_DGRAM)
    wlb = free_port()
    logs = LogsConfig(syslog_udp=None, syslog_tcp=None, windows=WindowsInputsConfig(
        winlogbeat=f"127.0.0.1:{wlb}", nxlog_tcp=f"127.0.0.1:{tcp}", nxlog_udp=f"127.0.0.1:{udp}"))
    det = DetectionsConfig(alerts_db=str(tmp_path / "alerts.db"), flush_interval_s=flush_s, rules=rules)
    return LogPipeline(logs, det, MemorySink(), base_dir=tmp_path)


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[LogPipeline]:
    p = _pipeline(tmp_path, [])
    p.start()
    yield p
    p.stop()


def _winlogbeat_docs(shared_dir: Path, names: list[str]) -> list[bytes]:
    root = shared_dir / "sigmahq" / "regression_data"
    out = []
    for n in names:
        f = next(root.rglob(f"{n}.evtx"))
        recs = PyEvtxParser(str(f)).records_json()
        for rec, ev in zip(recs, read_evtx(f, InputReport(f.name)), strict=True):
            out.append(orjson.dumps(_winlogbeat(ev.fields, orjson.loads(rec["data"]))))
    return out


def test_winlogbeat_batch_acknowledged_after_alerts_stored(tmp_path: Path, shared_dir: Path) -> None:
    sig = shared_dir / "sigmahq" / "rules" / "windows"
    p = _pipeline(tmp_path, [str(sig / "builtin"), str(sig / "process_creation")])
    p.start()
    try:
        assert p.windows.winlogbeat is not None
        docs = _winlogbeat_docs(shared_dir, ["e3c6d245-7b8f-4e2a-c17f-a9d0e5b38f62",  # Security 4648
                                             "7dbbcac2-57a0-45ac-b306-ff30a8bd2981"])  # Sysmon 1
        docs.append(b'{"message": "not a Windows event"}')
        with socket.create_connection(p.windows.winlogbeat.address, timeout=20) as s:
            s.sendall(window(docs, compress=True))
            assert read_ack(s) == 3
            # acknowledged: the alerts are already in the store, not merely queued
            with AlertStore(tmp_path / "alerts.db") as st:
                titles = sorted(a.rule_title for a in st.list_alerts(None, None, None, None, 100))
            assert titles == ["Potentially Suspicious Explicit Credential Local Logon",
                              "Windows AMSI Related Registry Tampering Via CommandLine"]
            s.sendall(window(docs[:1]))
            assert read_ack(s) == 1
        c = p.windows.winlogbeat.counters.snapshot()
        assert (c["batches"], c["acked"], c["received"]) == (2, 2, 4)
        reports = {k: r for k, r in p.windows.reports.items()}
        rep = reports[("winlogbeat", "127.0.0.1")]
        assert (rep.events, rep.not_events) == (3, 1)
    finally:
        p.stop()


def test_winlogbeat_unacknowledged_on_stop(tmp_path: Path, shared_dir: Path) -> None:
    p = _pipeline(tmp_path, [], flush_s=30.0)  # detections wait 30 s for their commit
    p.start()
    assert p.windows.winlogbeat is not None
    lines = (TESTS / "nocsoc_win_account_lockout.match.log").read_text().splitlines()
    nx = json.loads(lines[0])
    doc = {"@timestamp": "2026-11-25T03:07:00Z", "winlog": {
        "channel": "Security", "event_id": "4740", "provider_name": nx["SourceName"],
        "computer_name": nx["Hostname"], "record_id": nx["RecordNumber"],
        "event_data": {k: nx[k] for k in ("TargetUserName", "TargetDomainName", "TargetSid",
                                          "SubjectUserSid", "SubjectUserName", "SubjectDomainName",
                                          "SubjectLogonId")}}}
    with socket.create_connection(p.windows.winlogbeat.address, timeout=20) as s:
        s.sendall(window([orjson.dumps(doc)], compress=True))
        wait_until(lambda: p.counters.get("matches") >= 1, timeout=20, what="the lockout matched")
        p.stop()  # before the commit: the batch must not be acknowledged (Winlogbeat resends it)
        with pytest.raises((EOFError, ConnectionError)):
            read_ack(s)
    with AlertStore(tmp_path / "alerts.db") as st:  # the drain at stop still stored it
        assert [a.rule_title for a in st.list_alerts(None, None, None, None, 10)] == [
            "Windows Account Locked Out"]


def test_nxlog_tcp_and_udp(pipeline: LogPipeline) -> None:
    p = pipeline
    assert p.windows.nxlog_tcp is not None and p.windows.nxlog_udp is not None
    spray = (TESTS / "nocsoc_win_password_spraying.match.log").read_text()
    with socket.create_connection(p.windows.nxlog_tcp.address, timeout=10) as s:
        s.sendall(b'{"EventID": 4625, "Channel": "Security", "x": "' + b"a" * 70000 + b'"}\r\n')
        s.sendall(spray.encode() + b"[1, 2]\n")
    lockout = (TESTS / "nocsoc_win_account_lockout.match.log").read_text().strip()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.sendto(lockout.encode(), p.windows.nxlog_udp.address)
        u.sendto(b"<13>Nov 25 03:00:00 host app: plain syslog", p.windows.nxlog_udp.address)
    wait_until(lambda: p.processed() >= 8 and p.idle(), timeout=20, what="8 documents processed")
    with AlertStore(p.store.path) as st:
        got = sorted((a.rule_title, a.src_ip, a.count) for a in st.list_alerts(None, None, None, None, 10))
    assert got == [("Windows Account Locked Out", "", 1),
                   ("Windows Password Spraying From One Source", "203.0.113.77", 5)]  # incident size
    assert p.windows.nxlog_tcp.counters.get("oversized") == 1  # skipped to its newline, counted
    reps = {k[0]: r for k, r in p.windows.reports.items()}
    assert (reps["nxlog_tcp"].events, reps["nxlog_tcp"].not_events) == (5, 1)
    assert (reps["nxlog_udp"].events, reps["nxlog_udp"].not_events) == (1, 1)
    from nocsoc.component import counter_points

    points = counter_points(p.counter_sets()) + p.self_points()
    names = {(pt.tags["input"], pt.tags["sender"]) for pt in points if pt.measurement == "windows_input"}
    assert names == {("winlogbeat", "all"), ("nxlog_tcp", "all"), ("nxlog_udp", "all"),
                     ("nxlog_tcp", "127.0.0.1"), ("nxlog_udp", "127.0.0.1")}


def test_lumberjack_protocol_error_closes_only_that_connection(pipeline: LogPipeline) -> None:
    p = pipeline
    assert p.windows.winlogbeat is not None
    with socket.create_connection(p.windows.winlogbeat.address, timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\n\r\n")
        # closed by nocsoc: an orderly end, or a reset when our bytes were left unread
        with contextlib.suppress(ConnectionResetError):
            assert s.recv(10) == b""
    wait_until(lambda: p.windows.winlogbeat.counters.get("protocol_errors") == 1, timeout=30,
               what="protocol error counted")
    with socket.create_connection(p.windows.winlogbeat.address, timeout=10) as s:
        s.sendall(window([b'{"winlog": {"event_id": 1102, "channel": "Security"}}'], compress=True))
        assert read_ack(s) == 1
