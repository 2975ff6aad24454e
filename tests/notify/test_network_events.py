"""Network notifications end to end, delivered to a loopback webhook and a real SMTP server
(aiosmtpd): a linkDown trap sent by Debian's `snmptrap` to the trap receiver, and a link going
down and an optic fading on the simulator's SNMP agents, polled by nocsoc's SNMP poller into the
SQLite sink. Each produces one notification, and again nothing while it stays so."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nocsoc.collectors.snmp.config import SnmpConfig
from nocsoc.collectors.snmp.poller import SnmpPoller
from nocsoc.collectors.traps.receiver import TrapReceiver
from nocsoc.context import load_context
from nocsoc.detections.alerts import AlertStore
from nocsoc.inventory.model import Inventory
from nocsoc.notify.netevents import NetEvent
from nocsoc.notify.service import NotifyService, network_reader
from nocsoc.simulate.events import LinkFlap, OpticsDegrade, Script
from nocsoc.simulate.scenario import Scenario, SimulateConfig
from nocsoc.sinks.factory import build_sink
from nocsoc.sinks.plugins.sqlite import SqliteSinkConfig
from tests.collectors.traps.conftest import Rig, inventory_data, trap_env, traps_config
from tests.collectors.traps.test_snmptrap import LINK_DOWN, LINK_UP, link_trap, v2c
from tests.notify.test_notify import Hook, Mailbox, _subject, smtp
from tests.servers.base import free_port, wait_until
from tests.simulate.conftest import COMMUNITY, COMMUNITY_ENV, small_inventory

__all__ = ["smtp", "trap_env"]  # fixtures of the trap and notify tests, used here


def _config(tmp: Path, hook: Hook, smtp_port: int, kinds: list[str], inventory: dict[str, Any]) -> Path:
    (tmp / "inventory.yaml").write_text(yaml.safe_dump(inventory, allow_unicode=True))
    cfg = tmp / "nocsoc.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "detections": {"alerts_db": "./var/alerts.db"},
                "sinks": [{"type": "sqlite", "path": "./var/nocsoc.db"}],
                "notify": {
                    "enabled": True,
                    "routes": [
                        {
                            "name": "noc",
                            "locale": "vi",
                            "match": {"kind": kinds},
                            "to": [
                                f"json://127.0.0.1:{hook.port}/hook",
                                f"mailto://127.0.0.1:{smtp_port}?from=noc@example.org&to=truc@example.org"
                                "&mode=insecure",
                            ],
                        },
                        # a SOC route: a trap is no security alert
                        {"name": "soc", "match": {"kind": "alert"}, "to": [f"json://127.0.0.1:{hook.port}/soc"]},
                    ],
                },
            },
            allow_unicode=True,
        )
    )
    return cfg


@pytest.fixture()
def receivers(smtp: tuple[int, Mailbox]) -> Iterator[tuple[Hook, int, Mailbox]]:
    hook = Hook(free_port())
    hook.start()
    yield hook, smtp[0], smtp[1]
    hook.stop()


def _delivered(hook: Hook, box: Mailbox, n: int) -> list[str]:
    """Wait for `n` messages on each channel; their titles (webhook) once the mail agrees."""
    wait_until(lambda: len(hook.posts) >= n and len(box.messages) >= n, what=f"{n} notifications")
    titles = [p["title"] for p in hook.posts]
    assert sorted(titles) == sorted(_subject(m) for m in box.messages)
    return titles


def test_link_down_trap_notifies_once(
    trap_env: None, tmp_path: Path, receivers: tuple[Hook, int, Mailbox]
) -> None:
    hook, smtp_port, box = receivers
    cfg = _config(tmp_path, hook, smtp_port, ["trap", "link_down"], inventory_data())
    ctx = load_context(cfg)
    inv = Inventory.model_validate(inventory_data())
    store = AlertStore(tmp_path / "var" / "alerts.db")
    rig = Rig(TrapReceiver(traps_config(), inv, None, base_dir=tmp_path, store=store), None,  # type: ignore[arg-type]
              store, tmp_path / "snmp")
    rig.snmp_dir.mkdir()
    rig.receiver.start()
    svc = NotifyService(ctx, inv)
    try:
        svc.poll()  # the first pass: nothing is news yet
        rig.send(*v2c(rig), *link_trap(LINK_DOWN, 7, 1, 2, "Gi0/7"))
        rig.receiver.flush()
        svc.poll()
        [title] = _delivered(hook, box, 1)
        assert title == "[MEDIUM] SNMP trap: Cổng mất kết nối (linkDown): core-01 Gi0/7"
        [post] = hook.posts
        assert "Tuyến: core-01--dist-01" in post["message"] and "Địa điểm: dc1" in post["message"]
        # the poller seeing the same link down after the trap: the same key, not sent again
        seen = NetEvent("link_down", "dist-01", "Gi0/1", time.time())  # the link's other end
        assert svc.notifier.submit(svc._net_notification(seen)) == []
        assert svc.notifier.counters.snapshot()["deduplicated"] == 1
        # the same link down again (the alert is incremented), and its linkUp: nothing more
        rig.send(*v2c(rig), *link_trap(LINK_DOWN, 7, 1, 2, "Gi0/7"))
        rig.send(*v2c(rig), *link_trap(LINK_UP, 7, 1, 1, "Gi0/7"))
        rig.receiver.flush()
        svc.poll()
        # another interface going down is news
        rig.send(*v2c(rig), *link_trap(LINK_DOWN, 8, 1, 2, "Gi0/8"))
        rig.receiver.flush()
        svc.poll()
        titles = _delivered(hook, box, 2)
        assert titles[1] == "[MEDIUM] SNMP trap: Cổng mất kết nối (linkDown): core-01 Gi0/8"
        assert len(hook.posts) == 2 and len(box.messages) == 2  # nothing went to the SOC route
        assert store.list_alerts()[-1].count == 2  # the repeated trap was counted, not resent
    finally:
        rig.receiver.stop()
        store.close()


# Simulated seconds at x60: the flap from real 10 s to 20 s, the optic fading from 4 s to 8 s.
FLAP = "core-02--dist-dongphu"
SCRIPT = Script(
    link_flaps=[LinkFlap(link=FLAP, at_s=600, down_s=600)],
    optics=[OpticsDegrade(device="dist-dongphu", interface="Te0/0/0", at_s=240, ramp_s=240)],
)


def test_poller_link_down_and_optics_low_notify_once(
    tmp_path: Path, receivers: tuple[Hook, int, Mailbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    hook, smtp_port, box = receivers
    monkeypatch.setenv(COMMUNITY_ENV, COMMUNITY)
    port = free_port()
    inv = small_inventory(port)
    cfg = _config(tmp_path, hook, smtp_port, ["link_down", "optics_low"],
                  inv.model_dump(mode="json", exclude_none=True))
    ctx = load_context(cfg)
    sc = Scenario(inv, SimulateConfig(seed=5, speed=60.0, flows_to=None, syslog_to=None, script=SCRIPT))
    sc.start()
    sink = build_sink(SqliteSinkConfig(path="./var/nocsoc.db"), tmp_path)
    poller = SnmpPoller(SnmpConfig(), inv, sink, devices=["core-02", "dist-dongphu"])
    net = network_reader(ctx)
    assert net is not None
    svc = NotifyService(ctx, inv, network=net)
    try:
        assert sc.lab.clock.sim_offset() < 200, "the machine is too slow for the script"
        assert all(r.ok for r in poller.run_once())
        assert sink.flush(30)
        svc.poll()  # what was there before is not news
        assert hook.posts == []
        wait_until(lambda: sc.lab.clock.sim_offset() > 700, timeout=30, what="the link flap and faded optic")
        assert all(r.ok for r in poller.run_once())
        assert sink.flush(30)
        svc.poll()
        titles = _delivered(hook, box, 2)
        # both ends of the link went down: one notification, at the link's (core) level; the
        # optic that faded, not the two ends of the down link that have no light at all
        ends = ("core-02 Te0/0/0/1", "dist-dongphu Te0/0/1")
        assert sorted(titles) == sorted(
            [next(f"[HIGH] Tuyến mất kết nối: {FLAP} ({e})" for e in ends if titles[0].endswith(f"({e})")
                  or titles[1].endswith(f"({e})")),
             "[LOW] Công suất quang thấp: dist-dongphu Te0/0/0"]
        )
        optics = next(p for p in hook.posts if "quang" in p["title"])
        assert "Ngưỡng: -20 dBm" in optics["message"]
        # still down, still faded: nothing more
        assert all(r.ok for r in poller.run_once())
        assert sink.flush(30)
        svc.poll()
        assert len(hook.posts) == 2 and len(box.messages) == 2
    finally:
        sc.stop()
        sink.close()


def test_routes_match_by_device() -> None:
    from nocsoc.notify.config import Route
    from nocsoc.notify.notifier import Notification, matches

    route = Route.model_validate({"name": "r", "match": {"kind": "link_down", "device": "core-01"},
                                  "to": ["json://127.0.0.1:1/x"]})
    n = Notification("link_down", "high", "t", "k", 0.0, device="core-01")
    assert matches(route, n)
    assert not matches(route, Notification("link_down", "high", "t", "k", 0.0, device="core-02"))
    assert not matches(route, Notification("optics_low", "high", "t", "k", 0.0, device="core-01"))


def test_link_events_late_from_the_sink_are_reported_once(tmp_path: Path) -> None:
    """Points reach the sink in batches after their time: one stamped before the last pass but
    written after it is still news, once; what was there at the start is history, and a reader
    started from a saved mark does not report again what came before it."""
    from nocsoc.notify.netevents import NetEventReader
    from nocsoc.schema import INTERFACE_EVENT

    sink = build_sink(SqliteSinkConfig(path="./nocsoc.db"), tmp_path)

    def down(device: str, ifname: str, at: float) -> None:
        tags = {"device": device, "ifname": ifname, "event": "down"}
        fields = {"oper_status": 2, "previous_status": 1, "message": "down"}
        sink.write([INTERFACE_EVENT.point(int(at * 1e9), tags, fields)])
        assert sink.flush(30)

    t0 = float(int(time.time()) - 3600)  # inside the sink's retention
    down("r1", "Gi0/1", t0 - 30)  # before the notifier started
    reader = NetEventReader(tmp_path / "nocsoc.db", -20.0)
    assert reader.poll(t0) == []
    down("r1", "Gi0/2", t0 + 10)
    assert [(e.device, e.ifname) for e in reader.poll(t0 + 12)] == [("r1", "Gi0/2")]
    down("r2", "Gi0/3", t0 + 8)  # stamped before that pass, written after it
    assert [(e.device, e.ifname) for e in reader.poll(t0 + 20)] == [("r2", "Gi0/3")]
    assert reader.poll(t0 + 30) == []
    again = NetEventReader(tmp_path / "nocsoc.db", -20.0)
    again.start_at(reader.mark_ns)  # a restart from the saved mark
    assert again.poll(t0 + 40) == []
    down("r1", "Gi0/4", t0 + 41)
    assert [(e.device, e.ifname) for e in again.poll(t0 + 45)] == [("r1", "Gi0/4")]
    sink.close()
