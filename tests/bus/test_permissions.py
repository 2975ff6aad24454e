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
from tests.servers.nats import NatsSingle

FAIL = ("<38>Nov 25 04:01:{s:02d} srv1 sshd[7{s:02d}]: Failed password for root from 192.0.2.77 "
        "port 5{s:04d} ssh2")
LINES = [FAIL.format(s=2 * i) for i in range(12)]  # a brute force: 12 failures (rule: 10 in 5 min)


class NatsWithUsers(NatsSingle):
    def __init__(self, root: Path, block: str) -> None:
        super().__init__(root)
        conf = self.nodes[0].root / "nats.conf"
        conf.write_text(conf.read_text() + block)


@pytest.fixture
def users(tmp_path: Path):  # type: ignore[no-untyped-def]
    started: list[NatsWithUsers] = []

    def start(perms: dict[str, RolePermissions], passwords: dict[str, str]) -> NatsWithUsers:
        s = NatsWithUsers(tmp_path / f"nats{len(started)}", server_config(perms, passwords))
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
