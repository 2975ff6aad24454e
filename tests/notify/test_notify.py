"""Notifications delivered to a real SMTP server (aiosmtpd) and a loopback webhook receiver:
routing, dedup, rate limit, quiet hours, the spool while a channel is down, vi/en text."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from nocsoc.notify.config import NotifyConfig
from nocsoc.notify.notifier import Notification, Notifier
from tests.servers.base import free_port, wait_until
from tests.servers.postgres import create_database, pg_server  # noqa: F401 - a fixture


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[object] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture()
def smtp() -> Iterator[tuple[int, Mailbox]]:
    box = Mailbox()
    port = free_port()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    yield port, box
    ctl.stop()


class Hook:
    def __init__(self, port: int) -> None:
        self.port = port
        self.posts: list[dict] = []
        self.server: HTTPServer | None = None

    def start(self) -> None:
        hook = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                hook.posts.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", self.port), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def _cfg(smtp_port: int, hook_port: int, **route: object) -> NotifyConfig:
    return NotifyConfig.model_validate(
        {
            "enabled": True,
            "retry_s": 1,
            "routes": [
                {
                    "name": "soc-critical",
                    "match": {"kind": "alert", "level": ["critical", "high"]},
                    "to": [
                        f"json://127.0.0.1:{hook_port}/hook",
                        f"mailto://127.0.0.1:{smtp_port}?from=soc@example.org&to=noc@example.org&mode=insecure",
                    ],
                    **route,
                }
            ],
        }
    )


def _alert(level: str = "critical", key: str = "a1", at: float = 1_795_600_000.0) -> Notification:
    return Notification(
        "alert",
        level,
        "SSH Login Success After Brute Force",
        f"alert:{key}",
        at,
        rule="r1",
        details={"host": "dns1", "source": "192.0.2.77", "user": "root", "count": "4"},
    )


def _subject(msg: object) -> str:
    return str(make_header(decode_header(msg["Subject"])))  # type: ignore[index]


def test_delivered_once_to_smtp_and_webhook(tmp_path: Path, smtp: tuple[int, Mailbox]) -> None:
    smtp_port, box = smtp
    hook = Hook(free_port())
    hook.start()
    try:
        now = [1_795_600_000.0]
        n = Notifier(_cfg(smtp_port, hook.port), tmp_path / "spool", lambda e, w: e, clock=lambda: now[0])
        assert n.submit(_alert()) == ["soc-critical"]
        assert n.submit(_alert()) == []  # dedup
        assert n.submit(_alert(level="medium", key="a2")) == []  # not matched
        assert n.deliver_due() == 2
        assert len(hook.posts) == 1 and len(box.messages) == 1
        post = hook.posts[0]
        assert post["title"] == "[CRITICAL] Cảnh báo an ninh: SSH Login Success After Brute Force"
        assert "Nguồn: 192.0.2.77" in post["message"] and "Tài khoản: root" in post["message"]
        assert _subject(box.messages[0]) == post["title"]
        assert n.counters.snapshot()["deduplicated"] == 1 and n.counters.get("sent") == 2
        assert n.pending() == 0
    finally:
        hook.stop()


def test_spooled_while_the_webhook_is_down(tmp_path: Path, smtp: tuple[int, Mailbox]) -> None:
    smtp_port, box = smtp
    hook = Hook(free_port())  # not started: the channel is down
    now = [1_795_600_000.0]
    n = Notifier(
        _cfg(smtp_port, hook.port, locale="en"), tmp_path / "spool", lambda e, w: e, clock=lambda: now[0]
    )
    n.submit(_alert())
    assert n.deliver_due() == 1  # the mail goes; the webhook fails
    assert n.pending() == 1 and n.counters.get("retried") == 1
    # a restart keeps it: a new notifier over the same spool
    n2 = Notifier(
        _cfg(smtp_port, hook.port, locale="en"), tmp_path / "spool", lambda e, w: e, clock=lambda: now[0]
    )
    assert n2.deliver_due() == 0  # not due before the retry delay
    hook.start()
    try:
        now[0] += 1.0
        assert n2.deliver_due() == 1
        assert hook.posts[0]["title"] == "[CRITICAL] Security alert: SSH Login Success After Brute Force"
        assert n2.pending() == 0 and len(box.messages) == 1
    finally:
        hook.stop()


def test_quiet_hours_hold_and_rate_limit(tmp_path: Path) -> None:
    sent: list[tuple[str, str]] = []
    # 2026-11-25 23:00 in Asia/Ho_Chi_Minh (UTC+7) = 16:00 UTC
    now = [1_795_593_600.0 + 16 * 3600 - 1_795_593_600.0 % 86400]
    cfg = NotifyConfig.model_validate(
        {
            "routes": [
                {
                    "name": "noc",
                    "to": ["json://127.0.0.1:9/x"],
                    "quiet_hours": "22:00-06:00",
                    "max_per_hour": 3,
                    "dedup_s": 0,
                }
            ]
        }
    )
    n = Notifier(
        cfg,
        tmp_path / "s",
        lambda e, w: e,
        clock=lambda: now[0],
        deliver=lambda url, title, body, t: sent.append((title, body)) is None,
    )
    n.submit(_alert(level="high", key="h"))  # held until 06:00
    n.submit(_alert(level="critical", key="c"))  # passes quiet hours
    assert n.deliver_due() == 1 and sent[0][0].startswith("[CRITICAL]")
    now[0] += 6 * 3600
    assert n.deliver_due() == 0  # 05:00: still held
    now[0] += 3600
    assert n.deliver_due() == 1 and sent[1][0].startswith("[HIGH]")
    for i in range(4):  # 4 in the hour with max_per_hour 3: the 4th is dropped, counted
        n.submit(_alert(key=f"r{i}"))
    assert n.counters.get("rate_limited") == 1
    assert n.counters.get("held_quiet") == 1


def test_literal_secret_in_a_url_refused(tmp_path: Path) -> None:
    from nocsoc.config import load_config
    from nocsoc.errors import ConfigError

    cfg = tmp_path / "nocsoc.yaml"
    cfg.write_text("notify:\n  routes:\n    - name: x\n      to: ['mailto://u:hunter2@example.org']\n")
    with pytest.raises(ConfigError) as exc:
        load_config(cfg)
    text = str(exc.value)
    assert "must be a reference" in text and "nocsoc.yaml:4" in text and "hunter2" not in text


def test_notify_test_cli(tmp_path: Path, smtp: tuple[int, Mailbox]) -> None:
    import yaml
    from typer.testing import CliRunner

    from nocsoc.cli.app import app

    smtp_port, box = smtp
    cfg = tmp_path / "nocsoc.yaml"
    cfg.write_text(
        yaml.safe_dump({"notify": {"routes": [{"name": "mail", "to": ["env:NOCSOC_TEST_MAIL_URL"]}]}})
    )
    (tmp_path / "inventory.yaml").write_text("version: 1\n")
    url = f"mailto://127.0.0.1:{smtp_port}?from=soc@example.org&to=noc@example.org&mode=insecure"
    r = CliRunner().invoke(app, ["-c", str(cfg), "notify", "test", "mail"], env={"NOCSOC_TEST_MAIL_URL": url})
    assert r.exit_code == 0, r.output
    wait_until(lambda: len(box.messages) == 1, what="the test mail")
    assert _subject(box.messages[0]) == "[INFORMATIONAL] Thử thông báo nocsoc: mail"
    r = CliRunner().invoke(app, ["-c", str(cfg), "notify", "test", "nope"])
    assert r.exit_code == 2 and "no notify route 'nope'" in r.output


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_service_notifies_new_alerts_and_incidents(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same alerts, in the SQLite file or the shared PostgreSQL store (a real server), give
    the same notifications, once."""
    import uuid

    import yaml

    from nocsoc.context import load_context
    from nocsoc.detections.alerts.factory import open_alert_store
    from nocsoc.inventory.model import Inventory
    from nocsoc.notify.service import NotifyService
    from tests.web.conftest import ingest

    detections: dict[str, object] = {"alerts_db": "./var/alerts.db"}
    if backend == "postgresql":
        pg = request.getfixturevalue("pg_server")
        monkeypatch.setenv("NOCSOC_TEST_PG_PASSWORD", pg.password)
        detections["alerts_postgres"] = {
            "dsn": create_database(pg, f"n{uuid.uuid4().hex[:16]}"),
            "password": "env:NOCSOC_TEST_PG_PASSWORD",
            "owner": "detector-1",
        }
    hook = Hook(free_port())
    hook.start()
    cfg = tmp_path / "nocsoc.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "detections": detections,
                "notify": {
                    "enabled": True,
                    "routes": [
                        {
                            "name": "soc",
                            "locale": "en",
                            "match": {"kind": ["alert", "incident"]},
                            "to": [f"json://127.0.0.1:{hook.port}/hook"],
                        }
                    ],
                },
            }
        )
    )
    ctx = load_context(cfg)
    store = open_alert_store(ctx.config.detections, ctx)
    assert type(store).__name__ == {"sqlite": "AlertStore", "postgresql": "PostgresAlertStore"}[backend]
    svc = None
    try:
        ingest(store, ["Nov 25 03:00:01 mail1 sshd[1]: Accepted password for lan from 10.0.0.8 port 5 ssh2"])
        before = {a.id for a in store.list_alerts(limit=100)}
        svc = NotifyService(ctx, Inventory())
        svc.poll()  # the first pass marks what is there: not news
        assert hook.posts == []
        brute = (
            (
                Path(__file__).resolve().parents[2]
                / "nocsoc"
                / "detections"
                / "rules"
                / "tests"
                / "nocsoc_ssh_success_after_bruteforce.match.log"
            )
            .read_text()
            .splitlines()
        )
        ingest(store, [ln for ln in brute if ln.strip() and not ln.startswith("#")])
        new = [a for a in store.list_alerts(limit=100) if a.id not in before]
        svc.poll()
        # each new alert, and one incident for the attack (its first alert opens it)
        first = min(new, key=lambda a: a.id)
        want = sorted(
            [f"[{a.level.upper()}] Security alert: {a.rule_title}" for a in new]
            + [f"[{first.level.upper()}] Security incident: {first.src_ip} -> {first.dst_ip or first.host}"]
        )
        assert sorted(p["title"] for p in hook.posts) == want and len(new) == 2
        svc.poll()  # nothing new: nothing sent
        assert len(hook.posts) == len(want)
        assert not (tmp_path / "var" / "alerts.db").exists() or backend == "sqlite"
    finally:
        if svc is not None:
            svc.stop()
        store.close()
        hook.stop()


def test_service_goes_on_while_the_postgresql_store_is_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No server on the store's port: each pass counts it, one warning line names the store
    (never the password), and the pass goes on (device-down notifications still go out)."""
    import logging

    import yaml

    from nocsoc.context import load_context
    from nocsoc.inventory.model import Inventory
    from nocsoc.notify.service import NotifyService

    monkeypatch.setenv("NOCSOC_TEST_PG_PASSWORD", "pw-never-shown")
    dsn = f"postgresql://nocsoc@127.0.0.1:{free_port()}/nocsoc"  # nothing listens there
    cfg = tmp_path / "nocsoc.yaml"
    cfg.write_text(yaml.safe_dump({
        "detections": {"alerts_postgres": {"dsn": dsn, "password": "env:NOCSOC_TEST_PG_PASSWORD",
                                           "connect_timeout_s": 1}},
        "notify": {"enabled": True, "routes": [{"name": "noc", "match": {"kind": "device_down"},
                                                "to": ["json://127.0.0.1:9/hook"]}]},
    }))
    svc = NotifyService(load_context(cfg), Inventory(), unreachable=lambda now: ["core-dx1"])
    with caplog.at_level(logging.INFO, logger="nocsoc.notify.service"):
        svc.poll()
        svc.poll()
    counters = svc.notifier.counters.snapshot()
    assert counters["store_errors"] == 2 and counters["submitted"] == 1  # the device went down
    warnings = [r.getMessage() for r in caplog.records
                if r.levelno == logging.WARNING and r.name == "nocsoc.notify.service"]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"notify: alert store detections.alerts_postgres {dsn}: ")
    assert "Traceback" not in caplog.text and "pw-never-shown" not in caplog.text
