"""Per-role NATS permissions (nocsoc.bus.permissions) on a real nats-server 2.9: a user per role
with only the permissions `role_permissions` lists, in the `authorization` block
`server_config` writes. Each role does its whole job with them (a detector lays the streams out,
a receiver publishes syslog into them, the detector raises the alert; a poller heartbeats and
takes device leases), and a role missing one permission gets one line naming it."""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from nocsoc.bus.config import BusConfig
from nocsoc.bus.logs import BusLogDetector
from nocsoc.bus.permissions import RolePermissions, role_permissions, server_config
from nocsoc.bus.receiver import BusReceiver
from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.detections.config import DetectionsConfig
from nocsoc.shard.config import ShardConfig
from nocsoc.sinks.memory import MemorySink
from tests.servers.base import free_port, wait_until
from tests.servers.nats import NatsConfigured, NatsSingle

FAIL = ("<38>Nov 25 04:01:{s:02d} srv1 sshd[7{s:02d}]: Failed password for root from 192.0.2.77 "
        "port 5{s:04d} ssh2")
LINES = [FAIL.format(s=2 * i) for i in range(12)]  # a brute force: 12 failures (rule: 10 in 5 min)


@pytest.fixture
def users(tmp_path: Path):  # type: ignore[no-untyped-def]
    started: list[NatsConfigured] = []

    def start(perms: dict[str, RolePermissions], passwords: dict[str, str]) -> NatsConfigured:
        s = NatsConfigured(tmp_path / f"nats{len(started)}", server_config(perms, passwords))
        started.append(s)
        s.start()
        return s
    yield start
    for s in started:
        s.stop()


def _bus(server: NatsSingle, role: str, password: str, monkeypatch: pytest.MonkeyPatch) -> BusConfig:
    var = f"NOCSOC_TEST_NATS_{role.upper()}"
    monkeypatch.setenv(var, password)
    return BusConfig.model_validate({"url": server.url, "replicas": 1, "log_partitions": 2,
                                     "lease_ttl_s": 2.0, "stream_max_bytes": 4 << 20,
                                     "auth": {"user": role, "password": f"env:{var}"}})


def _send(port: int, lines: list[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.3.9", 0))
        for line in lines:
            s.sendto(line.encode(), ("127.0.0.1", port))


def _violations(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "refused a permission" in r.getMessage()]


def _detect(tmp_path: Path, server: NatsSingle, monkeypatch: pytest.MonkeyPatch,
            passwords: dict[str, str], caplog: pytest.LogCaptureFixture,
            then: Callable[[], bool] | None = None) -> tuple[list[tuple[str, int]], int]:
    """Receiver -> bus -> detector with the roles' users: the alerts raised (rule, count), and
    the receiver's publish errors; `then`: awaited before the detector stops."""
    port = free_port(socket.SOCK_DGRAM)
    logs = LogsConfig(syslog_udp=f"127.0.0.1:{port}", syslog_tcp=None)
    det_cfg = DetectionsConfig(alerts_db=str(tmp_path / "bus.db"), flush_interval_s=0.05)
    rbus = _bus(server, "receiver", passwords["receiver"], monkeypatch)
    dbus = _bus(server, "detector", passwords["detector"], monkeypatch)
    det = BusLogDetector(logs, det_cfg, dbus, MemorySink(), tmp_path, "d1")
    receiver = BusReceiver(rbus, None, logs, tmp_path / "buffer", "r1")
    det.start()
    try:
        wait_until(lambda: len(det.runner.held) == 2, 60, what="the detector holds both partitions")
        receiver.start()
        try:
            _send(port, LINES)
            pub = receiver.publisher.counters["logs"]
            wait_until(lambda: pub.get("records") == len(LINES) and receiver.publisher.idle()
                       and ((pub.get("messages") > 0 and not receiver.publisher.buffer)
                            or bool(_violations(caplog))), 60, what="published, or refused")
            if pub.get("messages"):
                wait_until(lambda: det.pipeline.processed() == len(LINES) and det.pipeline.idle(), 60,
                           what="the detector detected every line")
            if then is not None:
                wait_until(then, 60, what="the detector's end condition")
            errors = pub.get("publish_errors")
        finally:
            receiver.stop()
        alerts = sorted((a.rule_title, a.count) for a in det.pipeline.store.list_alerts())
    finally:
        det.stop()
    return alerts, errors


def test_receiver_and_detector_work_with_their_least_permissions(tmp_path: Path, users, caplog,  # type: ignore[no-untyped-def]
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.ERROR, logger="nocsoc.bus")
    passwords = {r: secrets.token_hex(12) for r in ("receiver", "detector")}
    perms = role_permissions(BusConfig())
    server = users(perms, passwords)
    alerts, errors = _detect(tmp_path, server, monkeypatch, passwords, caplog)
    assert _violations(caplog) == []
    assert errors == 0
    assert ("SSH Brute Force From One Source", 12) in alerts


def test_a_receiver_missing_a_permission_is_told_which(tmp_path: Path, users, caplog,  # type: ignore[no-untyped-def]
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.ERROR, logger="nocsoc.bus")
    passwords = {r: secrets.token_hex(12) for r in ("receiver", "detector")}
    perms = role_permissions(BusConfig())
    r = perms["receiver"]
    perms["receiver"] = RolePermissions("receiver", tuple(s for s in r.publish if s != "nocsoc.logs.>"),
                                        r.subscribe)
    server = users(perms, passwords)
    alerts, errors = _detect(tmp_path, server, monkeypatch, passwords, caplog)
    said = _violations(caplog)
    assert len(said) == 1, said  # once, not once per retry
    assert said[0].startswith("bus nocsoc-receiver-r1: the server refused a permission: Permissions "
                              'Violation for Publish to "nocsoc.logs.p')
    assert "give the user of bus.auth this permission" in said[0] and "\n" not in said[0]
    assert errors >= 1 and alerts == []
    assert passwords["receiver"] not in "".join(r.getMessage() for r in caplog.records)


def test_a_detector_missing_a_permission_is_told_which(tmp_path: Path, users, caplog,  # type: ignore[no-untyped-def]
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the permission to acknowledge, a detector detects and commits, but the stream
    keeps redelivering: named once (not once per redelivery)."""
    caplog.set_level(logging.ERROR, logger="nocsoc.bus")
    passwords = {r: secrets.token_hex(12) for r in ("receiver", "detector")}
    perms = role_permissions(BusConfig())
    d = perms["detector"]
    perms["detector"] = RolePermissions("detector", tuple(
        s for s in d.publish if not s.startswith("$JS.ACK.")), d.subscribe)
    server = users(perms, passwords)
    # the runner commits (acknowledges) every second while it runs: refused, and said
    alerts, errors = _detect(tmp_path, server, monkeypatch, passwords, caplog,
                             then=lambda: bool(_violations(caplog)))
    assert errors == 0 and ("SSH Brute Force From One Source", 12) in alerts
    (said,) = _violations(caplog)
    assert said.startswith("bus nocsoc-detector-d1: the server refused a permission: Permissions "
                           'Violation for Publish to "$JS.ACK.NOCSOC_LOGS_P'), said


def test_a_decoder_works_with_its_least_permissions(users, caplog,  # type: ignore[no-untyped-def]
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """What a flows or traps decoder does on the bus, as the decoder's user: lay the streams
    out, read a partition from a sequence and acknowledge, keep a commit record (the state
    bucket, compare-and-set), heartbeat and take a lease, dead-letter a poison message. The
    receiver's user publishes the records."""
    from nocsoc.bus import envelope
    from nocsoc.bus.transport import make_transport

    caplog.set_level(logging.ERROR, logger="nocsoc.bus")
    passwords = {r: secrets.token_hex(12) for r in ("receiver", "decoder")}
    server = users(role_permissions(BusConfig()), passwords)
    rbus = _bus(server, "receiver", passwords["receiver"], monkeypatch)
    dbus = _bus(server, "decoder", passwords["decoder"], monkeypatch)
    records = [(f"datagram {i}".encode(), "10.0.0.1", 1000.0 + i) for i in range(5)]

    async def go() -> tuple[list[object], bytes, bool]:
        dec = make_transport(dbus, "test-decoder")
        await dec.connect()
        try:
            await dec.ensure("flows", dbus.flow_partitions)
            rec = make_transport(rbus, "test-receiver")
            await rec.connect()
            try:
                await rec.ensure("flows", rbus.flow_partitions)  # laid out: nothing to create
                await rec.publish("flows", 3, "10.0.0.1", envelope.encode(records), "m1")
            finally:
                await rec.close()
            await dec.heartbeat("flows", "d1")
            assert await dec.members("flows") == ["d1"]
            rev = await dec.acquire("flows.p003", "d1")
            assert rev is not None
            await dec.renew("flows.p003", "d1", rev)
            reader = await dec.open_partition("flows", 3, 1)
            try:
                msgs = await reader.fetch(10, 5.0)
                got = [r for m in msgs for r in envelope.decode(m.data)]
                await msgs[-1].ack()
                for _ in range(200):  # the acknowledgement landed (a refused one never does)
                    if await reader.pending() == 0:
                        break
                    await asyncio.sleep(0.05)
                acked = await reader.pending() == 0
            finally:
                await reader.close()
            srev = await dec.put_state("flows.p003", b'{"floor": 1}', None)
            await dec.put_state("flows.p003", b'{"floor": 2}', srev)
            state = await dec.get_state("flows.p003")
            await dec.publish_dead("flows", b"poison", "p3 seq 9: test")
            return got, state[0] if state else b"", acked
        finally:
            await dec.close()
    got, state, acked = asyncio.run(go())
    assert got == records and state == b'{"floor": 2}' and acked
    assert _violations(caplog) == []


def test_a_poller_works_with_its_least_permissions(tmp_path: Path, users, caplog,  # type: ignore[no-untyped-def]
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from nocsoc.bus.security import connect_options
    from nocsoc.shard.member import ShardMember

    caplog.set_level(logging.WARNING)
    shard = ShardConfig(heartbeat_s=0.2, member_ttl_s=5.0, lease_ttl_s=5.0)
    passwords = {"poller": secrets.token_hex(12)}
    server = users(role_permissions(BusConfig(), shard), passwords)
    bus = _bus(server, "poller", passwords["poller"], monkeypatch)

    async def go() -> tuple[tuple[str, ...], list[str]]:
        m = ShardMember(shard, [server.url], "p1", connect_options=connect_options(bus))
        await m.start(["r1", "r2", "r3"])
        try:
            for _ in range(600):
                if m.members or m.counters.get("heartbeat_failures") >= 2:
                    break
                await asyncio.sleep(0.05)
            now = time.time()
            leased = [d for d in ("r1", "r2", "r3") if await m.claim(d, now, now + 30)]
            return m.members, leased
        finally:
            await m.stop()
    members, leased = asyncio.run(go())
    assert members == ("p1",)
    assert leased == ["r1", "r2", "r3"]
    assert [r.getMessage() for r in caplog.records if "iolation" in r.getMessage()] == []


pytestmark = pytest.mark.timeout(180)


def test_a_poller_missing_a_permission_is_told_which(tmp_path: Path, users, caplog,  # type: ignore[no-untyped-def]
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Without writing the leases bucket a poller polls nothing (each claim fails once its time
    is up), and says why once, not once per device or retry."""
    from nocsoc.bus.security import connect_options
    from nocsoc.shard.member import ShardMember

    caplog.set_level(logging.ERROR, logger="nocsoc.shard")
    shard = ShardConfig(heartbeat_s=0.2, member_ttl_s=5.0, lease_ttl_s=5.0, request_timeout_s=0.5)
    passwords = {"poller": secrets.token_hex(12)}
    perms = role_permissions(BusConfig(), shard)
    p = perms["poller"]
    perms["poller"] = RolePermissions("poller", tuple(
        s for s in p.publish if s != f"$KV.{shard.leases_bucket}.>"), p.subscribe)
    server = users(perms, passwords)
    bus = _bus(server, "poller", passwords["poller"], monkeypatch)

    async def go() -> list[str]:
        m = ShardMember(shard, [server.url], "p1", connect_options=connect_options(bus))
        await m.start(["r1", "r2"])
        try:
            for _ in range(600):
                if m.members:
                    break
                await asyncio.sleep(0.05)
            now = time.time()
            return [d for d in ("r1", "r2") if await m.claim(d, now, time.time() + 2)]
        finally:
            await m.stop()
    assert asyncio.run(go()) == []
    said = [r.getMessage() for r in caplog.records if "refused a permission" in r.getMessage()]
    assert len(said) == 1, said
    assert said[0].startswith("snmp shard p1: the server refused a permission: Permissions Violation for "
                              f'Publish to "$KV.{shard.leases_bucket}.'), said
    assert said[0].endswith('"; give the user of bus.auth this permission '
                            '(docs/scale.md, "Permissions per role")')


def test_the_line_restores_the_subject_nats_py_lower_cases() -> None:
    from nocsoc.bus.permissions import denied, permission_line

    said: set[str] = set()
    err = 'nats: permissions violation for publish to "$js.api.consumer.info.kv_nocsoc_leases.{}"'
    first, again = Exception(err.format("ab12")), Exception(err.format("cd34"))
    assert denied(first, said) and not denied(again, said)  # a retry names a new consumer: not said again
    assert not denied(Exception("nats: stale connection"), said)
    assert permission_line(str(first), "nocsoc").startswith(
        'the server refused a permission: Permissions Violation for Publish to '
        '"$JS.API.CONSUMER.INFO.KV_NOCSOC_LEASES.ab12"; give the user of bus.auth this permission')
    assert "a decoder or detector creates it when it starts" in permission_line(
        'nats: permissions violation for publish to "$js.api.stream.create.nocsoc_flows_p002"', "nocsoc")


def test_the_cli_prints_the_block_for_the_config(tmp_path: Path) -> None:
    """`nocsoc bus permissions` for nocsoc.yaml's prefix and partition counts: streams named one
    by one (a wildcard is a whole token)."""
    from typer.testing import CliRunner

    from nocsoc.cli.app import app

    conf = tmp_path / "nocsoc.yaml"
    conf.write_text("bus:\n  url: nats://127.0.0.1:4222\n  prefix: prov1\n  flow_partitions: 1\n"
                    "  log_partitions: 2\n  trap_partitions: 1\n")
    res = CliRunner().invoke(app, ["-c", str(conf), "bus", "permissions", "--role", "receiver"])
    assert res.exit_code == 0, res.output
    allowed = ["prov1.flows.>", "prov1.logs.>", "prov1.traps.>"] + [
        f"$JS.API.STREAM.INFO.{s}" for s in ("PROV1_FLOWS_P000", "PROV1_LOGS_P000", "PROV1_LOGS_P001",
                                             "PROV1_TRAPS_P000", "PROV1_DEAD", "KV_PROV1_LEASES",
                                             "KV_PROV1_STATE")]
    quoted = ",\n".join(f'          "{s}"' for s in allowed)
    assert res.output == (
        'authorization {\n  users: [\n    {\n      user: "receiver", password: "<receiver password or '
        'bcrypt hash>"\n      permissions: {\n        publish: { allow: [\n' + quoted + "\n        ] }\n"
        '        subscribe: { allow: [\n          "_INBOX.>"\n        ] }\n      }\n    }\n  ]\n}\n')
    bad = CliRunner().invoke(app, ["-c", str(conf), "bus", "permissions", "--role", "sender"])
    assert bad.exit_code == 2 and "--role 'sender': not a role (roles: receiver, decoder, detector, poller)" \
        in bad.output
