"""TLS on the Winlogbeat (Lumberjack v2) port: a real TLS client (Python's ssl, speaking
Lumberjack frames) against the log pipeline on 127.0.0.1, with a CA, server and client
certificates made here (cryptography). Batches are acknowledged after their alerts are stored;
a client certificate from another CA, none at all, or plain TCP is refused and counted.

No Winlogbeat binary is installed on this machine (nor packaged by Debian), so the client is ours:
the same frames Winlogbeat's `output.logstash` sends (`2W`, `2C`, `2J`; ACK `2A`)."""

from __future__ import annotations

import json
import socket
import ssl
from pathlib import Path

import orjson
import pytest

from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.logs.pipeline import LogPipeline
from nocsoc.collectors.windows.config import WindowsInputsConfig
from nocsoc.collectors.windows.tls import LumberjackTlsConfig
from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.config import DetectionsConfig
from nocsoc.errors import ConfigError
from nocsoc.sinks.memory import MemorySink
from tests.collectors.windows.lumberjack_client import read_ack, window
from tests.collectors.windows.test_live import TESTS
from tests.pki import Pki, make_pki
from tests.servers.base import free_port, wait_until


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"), ca_name="nocsoc test CA", server_name="localhost",
                    client_name="dc01 winlogbeat")


def _pipeline(tmp_path: Path, tls: LumberjackTlsConfig) -> LogPipeline:
    logs = LogsConfig(syslog_udp=None, syslog_tcp=None, windows=WindowsInputsConfig(
        winlogbeat=f"127.0.0.1:{free_port()}", winlogbeat_tls=tls))
    det = DetectionsConfig(alerts_db=str(tmp_path / "alerts.db"), flush_interval_s=0.05)
    return LogPipeline(logs, det, MemorySink(), base_dir=tmp_path)


def _client(pki: Pki, cert: Path | None, key: Path | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki.ca))  # Winlogbeat's ssl.certificate_authorities
    if cert is not None and key is not None:
        ctx.load_cert_chain(cert, key)  # Winlogbeat's ssl.certificate / ssl.key
    return ctx


def _lockout_doc() -> bytes:
    """The AD pack's account-lockout sample (NXLog JSON) as Winlogbeat's document."""
    nx = json.loads((TESTS / "nocsoc_win_account_lockout.match.log").read_text().splitlines()[0])
    return orjson.dumps({"@timestamp": "2026-11-25T03:07:00Z", "winlog": {
        "channel": "Security", "event_id": "4740", "provider_name": nx["SourceName"],
        "computer_name": nx["Hostname"], "record_id": nx["RecordNumber"],
        "event_data": {k: nx[k] for k in ("TargetUserName", "TargetDomainName", "TargetSid",
                                          "SubjectUserSid", "SubjectUserName", "SubjectDomainName",
                                          "SubjectLogonId")}}})


def _refused(address: tuple[str, int], ctx: ssl.SSLContext) -> None:
    """The server ends the handshake (TLS 1.3 may let the client send first: then the first read
    fails); either way no ACK ever comes."""
    with socket.create_connection(address, timeout=20) as raw, pytest.raises((ssl.SSLError, OSError)):
        s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        s.sendall(window([_lockout_doc()], compress=True))
        read_ack(s)


def test_mutual_tls_acknowledges_after_storing_and_refuses_others(tmp_path: Path, pki: Pki) -> None:
    # relative paths: from nocsoc.yaml's directory (base_dir)
    for f in (pki.ca, pki.server_cert, pki.server_key):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    tls = LumberjackTlsConfig(certificate="server.pem", key="server.key", client_ca="ca.pem",
                              handshake_timeout_s=2)
    p = _pipeline(tmp_path, tls)
    p.start()
    try:
        srv = p.windows.winlogbeat
        assert srv is not None
        client = _client(pki, pki.client_cert, pki.client_key)
        with socket.create_connection(srv.address, timeout=20) as raw, \
                client.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            assert s.version() in ("TLSv1.2", "TLSv1.3")
            s.sendall(window([_lockout_doc(), b'{"message": "not a Windows event"}'], compress=True))
            assert read_ack(s) == 2
            # acknowledged: the alert is already in the store
            with AlertStore(tmp_path / "alerts.db") as st:
                assert [a.rule_title for a in st.list_alerts(None, None, None, None, 10)] == [
                    "Windows Account Locked Out"]
            s.sendall(window([_lockout_doc()]))
            assert read_ack(s) == 1
        # a client certificate from another CA, then none at all: the server refuses the handshake
        for n, (cert, key) in enumerate([(pki.other_client_cert, pki.other_client_key), (None, None)], 1):
            _refused(srv.address, _client(pki, cert, key))
            wait_until(lambda n=n: srv.counters.get("tls_errors") == n, timeout=30,
                       what="the refusal counted")
        # plain Lumberjack on the TLS port
        with socket.create_connection(srv.address, timeout=20) as s:
            s.sendall(window([_lockout_doc()], compress=True))
            with pytest.raises((EOFError, ConnectionError)):
                read_ack(s)
        wait_until(lambda: srv.counters.get("tls_errors") == 3, timeout=30, what="plain TCP counted")
        c = srv.counters.snapshot()
        assert (c["batches"], c["acked"], c["received"], c["tls_errors"], c["connections"]) == (2, 2, 3, 3, 4)
    finally:
        p.stop()


def test_server_only_tls(tmp_path: Path, pki: Pki) -> None:
    """Without `client_ca`, any client that trusts the server's certificate may send."""
    p = _pipeline(tmp_path, LumberjackTlsConfig(certificate=str(pki.server_cert), key=str(pki.server_key)))
    p.start()
    try:
        srv = p.windows.winlogbeat
        assert srv is not None
        with socket.create_connection(srv.address, timeout=20) as raw, \
                _client(pki, None, None).wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(window([_lockout_doc()], compress=True))
            assert read_ack(s) == 1
        assert srv.counters.get("tls_errors") == 0
    finally:
        p.stop()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("certificate", "missing.pem",
         "logs.windows.winlogbeat_tls.certificate: {d}/missing.pem: no such file"),
        ("key", "missing.key", "logs.windows.winlogbeat_tls.key: {d}/missing.key: no such file"),
        ("client_ca", "nowhere/ca.pem",
         "logs.windows.winlogbeat_tls.client_ca: {d}/nowhere/ca.pem: no such file"),
        ("client_ca", "server.key", "logs.windows.winlogbeat_tls.client_ca: {d}/server.key: not a PEM CA "
                                    "certificate"),
        ("key", "ca.pem", "logs.windows.winlogbeat_tls.certificate: {d}/server.pem and {d}/ca.pem: not a PEM "
                          "certificate and its private key"),
    ],
)
def test_bad_tls_files_are_one_clear_error(tmp_path: Path, pki: Pki, field: str, value: str,
                                           message: str) -> None:
    for f in (pki.ca, pki.server_cert, pki.server_key):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    tls = {"certificate": "server.pem", "key": "server.key", field: value}
    with pytest.raises(ConfigError) as exc:
        _pipeline(tmp_path, LumberjackTlsConfig(**tls))
    text = str(exc.value)
    assert "\n" not in text and text.startswith(message.format(d=tmp_path)), text


def test_nocsoc_check_names_the_config_line(tmp_path: Path, pki: Pki) -> None:
    from nocsoc.service.check import run_checks

    cfg = tmp_path / "nocsoc.yaml"
    (tmp_path / "inventory.yaml").write_text("version: 1\n")
    cfg.write_text(
        "inventory: inventory.yaml\n"
        "logs:\n"
        "  syslog_udp: null\n"
        "  syslog_tcp: null\n"
        "  windows:\n"
        f"    winlogbeat: 127.0.0.1:{free_port()}\n"
        "    winlogbeat_tls:\n"
        f"      certificate: {pki.server_cert}\n"
        "      key: secrets/winlogbeat.key\n"
    )
    report = run_checks(cfg, ["logs"], probe_sinks=False, binds=False)
    assert [f.render() for f in report.fatal] == [
        f"{cfg}:9: logs.windows.winlogbeat_tls.key: {tmp_path}/secrets/winlogbeat.key: no such file"]
