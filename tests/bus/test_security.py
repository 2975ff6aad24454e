"""Credentials and TLS on the bus (`bus.auth`, `bus.tls`) against a real nats-server 2.9 with
`authorization {}` and `tls {}` blocks, and certificates made here (cryptography).

Right credentials publish and consume (the records read back equal the ones handed over);
wrong ones fail with one clear line naming `bus.auth` or `bus.tls`, never the secret, and the
receiver's disk buffer keeps every batch until a receiver with the right credentials replays
it. Settings that cannot be used (an unset variable, a missing or world-readable file, a bad
seed) are one line naming the key and the file, before any connection is tried.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import secrets
import time
from pathlib import Path

import nkeys
import pytest

from nocsoc.bus import envelope
from nocsoc.bus.config import BusConfig
from nocsoc.bus.publish import BusPublisher
from nocsoc.bus.security import BusSecurityError, connect_options, problems
from nocsoc.bus.transport import BusError, make_transport
from nocsoc.service.check import run_checks
from tests.pki import Pki, make_pki
from tests.servers.base import wait_until
from tests.servers.nats import NatsConfigured, NatsSingle

RECORDS = [(f"<38>Nov 25 04:01:{i % 60:02d} web1 sshd[1]: line {i}".encode(), "10.0.0.1", 1000.0 + i)
           for i in range(300)]


# --- a secured server and a PKI ----------------------------------------------------------------

@pytest.fixture
def secured(tmp_path: Path):  # type: ignore[no-untyped-def]
    started: list[NatsConfigured] = []

    def start(block: str) -> NatsConfigured:
        s = NatsConfigured(tmp_path / f"nats{len(started)}", block)
        started.append(s)
        s.start()
        return s
    yield start
    for s in started:
        s.stop()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"), ca_name="nocsoc bus test CA", server_name="nats.test",
                    client_name="nocsoc receiver")


def _tls_block(pki: Pki, verify: bool) -> str:
    return (f'tls {{\n  cert_file: "{pki.server_cert}"\n  key_file: "{pki.server_key}"\n'
            f'  ca_file: "{pki.ca}"\n  verify: {"true" if verify else "false"}\n  timeout: 5\n}}\n')


def _secret_file(path: Path, value: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value + "\n")
    path.chmod(0o600)
    return path


def _bus(server: NatsSingle, base: Path | None = None, **kw: object) -> BusConfig:
    cfg = BusConfig.model_validate({"url": server.url, "replicas": 1, "log_partitions": 1,
                                    "lease_ttl_s": 2.0, "stream_max_bytes": 1 << 20, **kw})
    return cfg.for_dir(base) if base is not None else cfg


# --- what the bus does with them ---------------------------------------------------------------

def _publish(bus: BusConfig, buffer: Path) -> BusPublisher:
    """A receiver's publisher handed RECORDS, once they are published or buffered."""
    pub = BusPublisher(bus, make_transport(bus, "test-receiver"), buffer, "r1", {"logs": None})
    pub.start()
    pub.submit("logs", RECORDS)
    c = pub.counters["logs"]
    wait_until(lambda: pub.idle() and c.get("records") == len(RECORDS)
               and (c.get("messages") > 0 or c.get("buffered") > 0), 60, what="records published or buffered")
    return pub


def _consume(bus: BusConfig) -> list[tuple[bytes, str, float]]:
    """Every record in the logs partition, read through the transport (a durable pull consumer)."""
    async def read() -> list[tuple[bytes, str, float]]:
        t = make_transport(bus, "test-consumer")
        await t.connect()
        try:
            await t.ensure("logs", 1)
            reader = await t.open_partition("logs", 0, 1)
            out: list[tuple[bytes, str, float]] = []
            try:
                while True:
                    msgs = await reader.fetch(64, 2.0)
                    if not msgs:
                        return out
                    for m in msgs:
                        out += envelope.decode(m.data)
                    await msgs[-1].ack()
            finally:
                await reader.close()  # else the close below drains the pull subscription (30 s)
        finally:
            await t.close()
    return asyncio.run(read())


def _connect_error(bus: BusConfig) -> str:
    async def go() -> str:
        t = make_transport(bus, "test")
        try:
            await t.connect()
        except BusError as exc:
            return str(exc)
        finally:
            await t.close()
        return ""
    return asyncio.run(go())


def test_password_right_publishes_wrong_buffers_until_fixed(tmp_path: Path, secured, caplog,  # type: ignore[no-untyped-def]
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    password = secrets.token_hex(16)
    server = secured(f'authorization {{\n  user: nocsoc\n  password: "{password}"\n}}\n')
    conf = tmp_path / "conf"
    _secret_file(conf / "nats.pw", password)
    monkeypatch.setenv("NOCSOC_TEST_NATS_PW", "not-" + password)
    wrong = _bus(server, conf, auth={"user": "nocsoc", "password": "env:NOCSOC_TEST_NATS_PW"})
    right = _bus(server, conf, auth={"user": "nocsoc", "password": "file:nats.pw"})

    caplog.set_level(logging.WARNING, logger="nocsoc.bus")
    pub = _publish(wrong, tmp_path / "buffer")
    c = pub.counters["logs"]
    assert c.get("messages") == 0 and c.get("buffered") >= 1 and pub.buffer.size > 0
    pub.stop()
    said = [r.getMessage() for r in caplog.records if "bus" in r.getMessage()]
    assert len(said) == 1, said  # one line, not one per retry
    assert "the server refused the credentials (bus.auth)" in said[0] and "Authorization Violation" in said[0]
    assert "\n" not in said[0]
    assert all(password not in r.getMessage() for r in caplog.records)

    # fixed: a receiver with the right password replays the buffer; nothing lost, nothing twice
    pub2 = BusPublisher(right, make_transport(right, "test-receiver"), tmp_path / "buffer", "r1",
                        {"logs": None})
    pub2.start()
    try:
        wait_until(lambda: pub2.connected and not pub2.buffer and pub2.idle(), 60, what="buffer replayed")
        assert pub2.counters["logs"].get("replayed") == c.get("buffered")
    finally:
        pub2.stop()
    assert _consume(right) == RECORDS


def test_token(tmp_path: Path, secured, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    token = secrets.token_urlsafe(24)
    server = secured(f'authorization {{\n  token: "{token}"\n}}\n')
    monkeypatch.setenv("NOCSOC_TEST_NATS_TOKEN", token)
    right = _bus(server, auth={"token": "env:NOCSOC_TEST_NATS_TOKEN"})
    pub = _publish(right, tmp_path / "buffer")
    pub.stop()
    assert pub.counters["logs"].get("buffered") == 0
    assert _consume(right) == RECORDS
    monkeypatch.setenv("NOCSOC_TEST_NATS_TOKEN", token[::-1])
    why = _connect_error(_bus(server, auth={"token": "env:NOCSOC_TEST_NATS_TOKEN"}))
    assert "the server refused the credentials (bus.auth)" in why and token[::-1] not in why
    assert "Authorization Violation" in _connect_error(_bus(server))  # anonymous


def _user_seed() -> tuple[str, str]:
    seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER).decode()
    return seed, nkeys.from_seed(bytearray(seed.encode())).public_key.decode()


def test_nkey_seed(tmp_path: Path, secured) -> None:  # type: ignore[no-untyped-def]
    seed, public = _user_seed()
    server = secured(f"authorization {{\n  users: [ {{ nkey: {public} }} ]\n}}\n")
    conf = tmp_path / "conf"
    _secret_file(conf / "nocsoc.nk", seed)
    right = _bus(server, conf, auth={"nkey_seed": "file:nocsoc.nk"})
    pub = _publish(right, tmp_path / "buffer")
    pub.stop()
    assert pub.counters["logs"].get("buffered") == 0
    assert _consume(right) == RECORDS
    other, _ = _user_seed()
    _secret_file(conf / "other.nk", other)
    why = _connect_error(_bus(server, conf, auth={"nkey_seed": "file:other.nk"}))
    assert "the server refused the credentials (bus.auth)" in why and other not in why


def test_mutual_tls(tmp_path: Path, secured, pki: Pki) -> None:  # type: ignore[no-untyped-def]
    server = secured(_tls_block(pki, verify=True))
    tls = {"ca_file": "ca.pem", "cert_file": "client.pem", "key_file": "client.key"}
    right = _bus(server, pki.dir, tls=tls)
    pub = _publish(right, tmp_path / "buffer")
    pub.stop()
    assert pub.counters["logs"].get("buffered") == 0
    assert _consume(right) == RECORDS
    # the name the certificate must carry: its SAN has nats.test, not nats.example
    assert _consume(_bus(server, pki.dir, tls={**tls, "server_name": "nats.test"})) == RECORDS
    why = _connect_error(_bus(server, pki.dir, tls={**tls, "server_name": "nats.example"}))
    assert "the server's certificate does not verify (bus.tls.ca_file, server_name)" in why, why
    why = _connect_error(_bus(server, pki.dir, tls={**tls, "ca_file": "other-ca.pem"}))
    assert "the server's certificate does not verify" in why, why
    why = _connect_error(_bus(server, pki.dir, tls={"ca_file": "ca.pem"}))  # no client certificate
    assert "the server refused this client's certificate or its absence (bus.tls.cert_file, key_file)" \
        in why and "\n" not in why, why
    why = _connect_error(_bus(server))  # no bus.tls for a TLS server
    assert "the server requires TLS, its certificate does not verify: set bus.tls" in why, why


def test_tls_without_client_certificate(tmp_path: Path, secured, pki: Pki) -> None:  # type: ignore[no-untyped-def]
    password = secrets.token_hex(8)
    server = secured(_tls_block(pki, verify=False)
                     + f'authorization {{\n  user: nocsoc\n  password: "{password}"\n}}\n')
    _secret_file(tmp_path / "conf" / "pw", password)
    right = _bus(server, tmp_path / "conf", tls={"ca_file": str(pki.ca)},
                 auth={"user": "nocsoc", "password": "file:pw"})
    pub = _publish(right, tmp_path / "buffer")
    pub.stop()
    assert _consume(right) == RECORDS


# --- settings that cannot be used: one line, the key and the place -------------------------------

def _err(cfg: BusConfig) -> BusSecurityError:
    with pytest.raises(BusSecurityError) as info:
        connect_options(cfg)
    assert "\n" not in str(info.value)
    return info.value


def test_unusable_settings_are_one_line(tmp_path: Path, pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "nats://127.0.0.1:4222"
    monkeypatch.delenv("NOCSOC_TEST_UNSET", raising=False)
    e = _err(BusConfig(url=url, auth={"user": "u", "password": "env:NOCSOC_TEST_UNSET"}))
    assert str(e) == ("bus.auth.password: env:NOCSOC_TEST_UNSET: environment variable NOCSOC_TEST_UNSET "
                      "is not set")
    e = _err(BusConfig(url=url, auth={"token": "file:none.tok"}).for_dir(tmp_path))
    assert str(e) == f"{tmp_path / 'none.tok'}: bus.auth.token: secret file not found"
    loose = tmp_path / "loose.nk"
    loose.write_text(_user_seed()[0])
    loose.chmod(0o644)
    e = _err(BusConfig(url=url, auth={"nkey_seed": "file:loose.nk"}).for_dir(tmp_path))
    assert e.field == "bus.auth.nkey_seed" and "mode 0644" in str(e) and f"chmod 600 {loose}" in str(e)
    _secret_file(tmp_path / "bad.nk", "SUNOTASEED")
    e = _err(BusConfig(url=url, auth={"nkey_seed": "file:bad.nk"}).for_dir(tmp_path))
    assert e.field == "bus.auth.nkey_seed" and "file:bad.nk: not an NKey user seed" in str(e)
    _secret_file(tmp_path / "bad.creds", "-----BEGIN NATS USER JWT-----\nx\n------END NATS USER JWT------\n")
    e = _err(BusConfig(url=url, auth={"credentials": "file:bad.creds"}).for_dir(tmp_path))
    assert str(e) == ("bus.auth.credentials: file:bad.creds: not a NATS .creds file "
                      "(no 'BEGIN USER NKEY SEED' block)")
    e = _err(BusConfig(url=url, tls={"ca_file": "nope.pem"}).for_dir(tmp_path))
    assert str(e) == f"bus.tls.ca_file: {tmp_path / 'nope.pem'}: no such file"
    e = _err(BusConfig(url=url, tls={"ca_file": str(pki.server_key)}))
    assert e.field == "bus.tls.ca_file" and "not a PEM CA certificate" in str(e)
    key = tmp_path / "client.key"
    key.write_bytes(pki.client_key.read_bytes())
    key.chmod(0o644)
    e = _err(BusConfig(url=url, tls={"cert_file": str(pki.client_cert), "key_file": str(key)}))
    assert e.field == "bus.tls.key_file" and "mode 0644" in str(e)
    e = _err(BusConfig(url=url, tls={"cert_file": str(pki.ca), "key_file": str(pki.client_key)}))
    assert e.field == "bus.tls.cert_file" and "not a PEM certificate and its private key" in str(e)
    # the transport is never built with them: the role refuses to start with that line
    with pytest.raises(BusSecurityError):
        make_transport(BusConfig(url=url, tls={"ca_file": "nope.pem"}).for_dir(tmp_path), "x")
    assert problems(BusConfig(url=url, tls={"ca_file": "nope.pem"}).for_dir(tmp_path)) == [
        ("bus.tls.ca_file", f"{tmp_path / 'nope.pem'}: no such file")]


@pytest.mark.parametrize("auth, why", [
    ({"user": "u"}, "user and password go together"),
    ({"token": "hunter2"}, "must be a secret reference, never a literal"),
    ({"token": "env:A", "nkey_seed": "file:x"},
     "one authentication method at a time, not token and nkey_seed"),
])
def test_config_refuses(auth: dict[str, str], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        BusConfig(url="nats://127.0.0.1", auth=auth)


def test_kafka_takes_its_own_settings() -> None:
    with pytest.raises(ValueError, match="auth and tls are NATS settings; a Kafka bus takes its own"):
        BusConfig(url="kafka://127.0.0.1", tls={"ca_file": "ca.pem"})


def test_nocsoc_check_reports_the_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOCSOC_TEST_UNSET", raising=False)
    (tmp_path / "inventory.yaml").write_text("devices: []\n")
    cfg = tmp_path / "nocsoc.yaml"
    cfg.write_text("inventory: inventory.yaml\nsinks: []\nbus:\n  url: nats://127.0.0.1:4222\n"
                   "  auth:\n    user: nocsoc\n    password: env:NOCSOC_TEST_UNSET\n"
                   "  tls:\n    ca_file: ca.pem\n")
    report = run_checks(cfg, [], probe_sinks=False, binds=False)
    got = [f.problem.render() for f in report.findings if f.severity == "fatal"]
    assert got == [f"{cfg}:7: bus.auth.password: env:NOCSOC_TEST_UNSET: environment variable "
                   "NOCSOC_TEST_UNSET is not set"], got


def test_sharded_pollers_use_the_bus_credentials(tmp_path: Path, secured, pki: Pki) -> None:  # type: ignore[no-untyped-def]
    """Pollers share the bus's NATS: their membership connection takes bus.auth and bus.tls."""
    from nocsoc.shard.config import ShardConfig
    from nocsoc.shard.member import ShardMember

    seed, public = _user_seed()
    server = secured(_tls_block(pki, verify=False)
                     + f"authorization {{\n  users: [ {{ nkey: {public} }} ]\n}}\n")
    _secret_file(pki.dir / "poller.nk", seed)
    bus = _bus(server, pki.dir, tls={"ca_file": "ca.pem"}, auth={"nkey_seed": "file:poller.nk"})
    shard = ShardConfig(heartbeat_s=0.2, member_ttl_s=5.0, lease_ttl_s=5.0)

    async def go(options: dict[str, object]) -> tuple[str, ...]:
        m = ShardMember(shard, [server.url], "p1", connect_options=options)
        await m.start(["r1", "r2"])
        try:  # until a heartbeat went through or failed twice
            deadline = time.monotonic() + 30
            while not m.members and m.counters.get("heartbeat_failures") < 2:
                assert time.monotonic() < deadline, "no heartbeat in 30 s"
                await asyncio.sleep(0.05)
            return m.members
        finally:
            await m.stop()
    assert asyncio.run(go(connect_options(bus))) == ("p1",)
    assert asyncio.run(go({"tls": connect_options(bus)["tls"]})) == ()  # without the seed: refused


# --- .creds in operator mode: JWTs made here ---------------------------------------------------

def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _jwt(claims: dict[str, object], signer: nkeys.KeyPair) -> str:
    """A NATS JWT (v2): header.claims.signature, ed25519 by the issuer's NKey. Made by hand because
    nsc (the tool that makes them) is not installed here; nats-server checks the signatures."""
    head = _b64(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode())
    body = {**claims, "iat": int(time.time()), "jti": ""}
    body["jti"] = base64.b32encode(hashlib.sha256(json.dumps(body).encode()).digest()).decode().rstrip("=")
    payload = _b64(json.dumps(body).encode())
    return f"{head}.{payload}.{_b64(signer.sign(f'{head}.{payload}'.encode()))}"


def _kp(prefix: int) -> tuple[nkeys.KeyPair, str, str]:
    seed = nkeys.encode_seed(os.urandom(32), prefix)
    kp = nkeys.from_seed(bytearray(seed))
    return kp, kp.public_key.decode(), seed.decode()


LIMITS = {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1, "wildcards": True, "conn": -1,
          "leaf": -1}


def _account(op: nkeys.KeyPair, op_pub: str, name: str, jetstream: bool) -> tuple[nkeys.KeyPair, str, str]:
    kp, pub, _ = _kp(nkeys.PREFIX_BYTE_ACCOUNT)
    limits = {**LIMITS, **({"mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1}
                           if jetstream else {})}
    claims = {"limits": limits, "default_permissions": {"pub": {}, "sub": {}}, "type": "account",
              "version": 2}
    return kp, pub, _jwt({"iss": op_pub, "sub": pub, "name": name, "nats": claims}, op)


def _creds(account: nkeys.KeyPair, account_pub: str) -> str:
    _, pub, seed = _kp(nkeys.PREFIX_BYTE_USER)
    user = _jwt({"iss": account_pub, "sub": pub, "name": "receiver", "nats": {
        "pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1, "type": "user", "version": 2}}, account)
    return (f"-----BEGIN NATS USER JWT-----\n{user}\n------END NATS USER JWT------\n\n"
            f"-----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n")


def test_creds_file_in_operator_mode(tmp_path: Path, secured) -> None:  # type: ignore[no-untyped-def]
    op, op_pub, _ = _kp(nkeys.PREFIX_BYTE_OPERATOR)
    operator = _jwt({"iss": op_pub, "sub": op_pub, "name": "nocsoc-test", "nats": {"type": "operator",
                                                                                   "version": 2}}, op)
    acc, acc_pub, acc_jwt = _account(op, op_pub, "NOCSOC", jetstream=True)
    _, sys_pub, sys_jwt = _account(op, op_pub, "SYS", jetstream=False)
    server = secured(f"operator: {operator}\nsystem_account: {sys_pub}\nresolver: MEMORY\n"
                     f"resolver_preload: {{\n  {acc_pub}: {acc_jwt}\n  {sys_pub}: {sys_jwt}\n}}\n")
    conf = tmp_path / "conf"
    _secret_file(conf / "receiver.creds", _creds(acc, acc_pub))
    right = _bus(server, conf, auth={"credentials": "file:receiver.creds"})
    pub = _publish(right, tmp_path / "buffer")
    pub.stop()
    assert pub.counters["logs"].get("buffered") == 0
    assert _consume(right) == RECORDS
    stranger, stranger_pub, _ = _account(op, op_pub, "UNKNOWN", jetstream=True)  # not on the server
    _secret_file(conf / "stranger.creds", _creds(stranger, stranger_pub))
    why = _connect_error(_bus(server, conf, auth={"credentials": "file:stranger.creds"}))
    assert "the server refused the credentials (bus.auth)" in why and "\n" not in why, why
