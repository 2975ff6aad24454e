"""Components do no I/O before `start()` (issue #12 item 1): every registered service's component
is built against a config whose paths all point into a directory that does not exist, while
opening files, creating directories, connecting SQLite and binding sockets raise. Construction
must succeed and touch nothing; `start()` is where each reads its files (shown for the log
pipeline, the flow collector with GeoIP, the SNMP poller's user profiles and the trap receiver's)."""

from __future__ import annotations

import builtins
import io
import os
import socket
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import nocsoc.bus.flows
import nocsoc.bus.logs
import nocsoc.bus.nats_driver
import nocsoc.bus.receiver

# every module a service factory imports lazily, imported now: imports read files
import nocsoc.collectors.flows.collector
import nocsoc.collectors.icmp.prober
import nocsoc.collectors.logs.pipeline
import nocsoc.collectors.snmp.poller
import nocsoc.collectors.traps.receiver
import nocsoc.history.flows
import nocsoc.history.logs
import nocsoc.notify.service
import nocsoc.service.summary
import nocsoc.web.service  # noqa: F401
from nocsoc.config import Config
from nocsoc.context import Context
from nocsoc.errors import NocsocError
from nocsoc.inventory.model import Inventory
from nocsoc.service.registry import SERVICES, ServiceContext
from nocsoc.sinks.memory import MemorySink

INVENTORY = {
    "version": 1,
    "sites": [{"id": "dc1", "name": "DC 1", "kind": "datacenter"}],
    "snmp_profiles": [{"name": "v2", "version": "2c", "community": "env:NOCSOC_TEST_NO_IO_COMMUNITY"},
                      {"name": "v2f", "version": "2c", "community": "file:absent/community"}],
    "devices": [{"name": "core-01", "address": "127.0.0.1", "role": "core", "site": "dc1", "profile": "v2"},
                {"name": "dist-01", "address": "127.0.0.2", "role": "distribution", "site": "dc1",
                 "profile": "v2f"}],
}


def config(root: Path) -> Config:
    """Every service enabled, every path it reads or writes under `root` (absent)."""
    return Config.model_validate({
        "inventory": str(root / "inventory.yaml"),
        "sinks": [{"type": "sqlite", "path": str(root / "metrics.db")}],
        "snmp": {"enabled": True, "profiles_dir": str(root / "profiles")},
        "flows": {"enabled": True, "bind": "127.0.0.1:0", "sflow_bind": "127.0.0.1:0",
                  "state_dir": str(root / "flows"), "geoip_country_db": str(root / "country.mmdb"),
                  "geoip_asn_db": str(root / "asn.mmdb")},
        "logs": {"enabled": True, "syslog_udp": "127.0.0.1:0", "syslog_tcp": "127.0.0.1:0",
                 "files": [str(root / "auth.log")]},
        "traps": {"enabled": True, "bind": "127.0.0.1:0", "catalog": [str(root / "traps.yaml")],
                  "communities": ["file:absent/trap-community"]},
        "icmp": {"enabled": True},
        "detections": {"alerts_db": str(root / "alerts.db"), "rules": [str(root / "rules")]},
        "history": {"enabled": True, "dir": str(root / "history")},
        "run": {"state_dir": str(root / "state")},
        "web": {"enabled": True, "bind": "127.0.0.1:0"},
        "notify": {"enabled": True},
        "bus": {"url": "nats://127.0.0.1:9", "buffer_dir": str(root / "bus-buffer")},
    })


class Touched(Exception):
    """What a component did before start()."""


@pytest.fixture
def no_io(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Make file and socket I/O raise (and record it): open, os.open, mkdir, sqlite3, sockets."""
    seen: list[str] = []

    def refuse(what: str) -> Callable[..., Any]:
        def raiser(*args: Any, **kwargs: Any) -> Any:
            seen.append(f"{what}{args[:1]!r}")
            raise Touched(f"{what} {args[:1]!r} before start()")
        return raiser

    for target, name in ((builtins, "open"), (io, "open"), (os, "open"), (os, "mkdir"), (os, "makedirs"),
                         (sqlite3, "connect"), (socket, "socket")):
        monkeypatch.setattr(target, name, refuse(f"{name}"))
    yield seen


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_building_a_service_touches_no_file(name: str, tmp_path: Path, no_io: list[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "absent"
    ctx = Context(config(root), root / "nocsoc.yaml")
    sc = ServiceContext(ctx, MemorySink(), Inventory.model_validate(INVENTORY))
    component = SERVICES[name].build(sc)
    assert no_io == [], f"{name}: {no_io}"
    assert component is not None and not root.exists()


def test_start_is_where_the_files_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same absent paths, now at start(): each component reads its files there, and one it
    cannot read is a start error naming the file."""
    monkeypatch.setenv("NOCSOC_TEST_NO_IO_COMMUNITY", "x")
    root = tmp_path / "absent"
    ctx = Context(config(root), root / "nocsoc.yaml")
    sc = ServiceContext(ctx, MemorySink(), Inventory.model_validate(INVENTORY))
    expected = {"flows": f"{root}/country.mmdb: GeoIP database not found",
                "snmp": f"{root}/profiles: snmp.profiles_dir: not a directory",
                "traps": f"{root}/profiles: snmp.profiles_dir: not a directory"}
    for name, message in expected.items():
        component = SERVICES[name].build(sc)
        with pytest.raises((NocsocError, ValueError)) as err:
            component.start()
        assert message in str(err.value), (name, str(err.value))
        component.stop()
    logs = SERVICES["logs"].build(sc)
    assert not (root / "alerts.db").exists()
    logs.start()  # opens (creates) the alert store
    try:
        assert (root / "alerts.db").is_file()
    finally:
        logs.stop()
