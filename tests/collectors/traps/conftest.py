"""Trap receiver fixtures: a receiver on a free 127.0.0.1 port with a memory sink and an alert
store in tmp, and Debian's real `snmptrap`/`snmpinform` (package snmp) as the sender."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from nocsoc.collectors.traps.config import TrapsConfig
from nocsoc.collectors.traps.events import TrapEvent
from nocsoc.collectors.traps.receiver import TrapReceiver
from nocsoc.detections.alerts import AlertStore
from nocsoc.inventory.model import Inventory
from nocsoc.sinks.memory import MemorySink
from tests.servers.base import require_binary, wait_until

COMMUNITY = "trap-test-community"
AUTH, PRIV = "trap-auth-pass-1", "trap-priv-pass-1"
ENGINE_ID = "8000000001020304aa"
UNKNOWN_SOURCE = "127.201.7.9"
ENV = {"NOCSOC_TEST_TRAP_COMMUNITY": COMMUNITY, "NOCSOC_TEST_TRAP_AUTH": AUTH,
       "NOCSOC_TEST_TRAP_PRIV": PRIV}


def inventory_data(extra_devices: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "version": 1,
        "sites": [{"id": "dc1", "name": "DC 1", "kind": "datacenter"}],
        "snmp_profiles": [{"name": "v2", "version": "2c", "community": "env:NOCSOC_TEST_TRAP_COMMUNITY"}],
        "devices": [
            {"name": "core-01", "address": "127.0.0.1", "role": "core", "site": "dc1", "profile": "v2"},
            {"name": "dist-01", "address": "127.0.0.2", "role": "distribution", "site": "dc1",
             "profile": "v2"},
            *(extra_devices or []),
        ],
        "links": [{"name": "core-01--dist-01", "a": {"device": "core-01", "interface": "Gi0/7"},
                   "b": {"device": "dist-01", "interface": "Gi0/1"}}],
    }


def traps_config(**over: Any) -> TrapsConfig:
    return TrapsConfig.model_validate({
        "enabled": True, "bind": "127.0.0.1:0", "flush_interval_s": 0.1,
        "communities": ["env:NOCSOC_TEST_TRAP_COMMUNITY"],
        "users": [{"user": "trapuser", "engine_ids": [f"0x{ENGINE_ID}"], "auth_protocol": "SHA",
                   "auth_password": "env:NOCSOC_TEST_TRAP_AUTH", "priv_protocol": "AES-128",
                   "priv_password": "env:NOCSOC_TEST_TRAP_PRIV"}],
        **over,
    })


@dataclass
class Rig:
    receiver: TrapReceiver
    sink: MemorySink
    store: AlertStore
    snmp_dir: Path
    events: list[TrapEvent] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.receiver.address()[1]

    def handled(self) -> int:
        """Datagrams the worker finished with (accepted or refused after decoding)."""
        c = self.receiver.counters.snapshot()
        return sum(c[k] for k in ("traps", "bad_community", "unknown_user", "wrong_digest",
                                  "decrypt_errors", "not_in_time_window", "unknown_engine_id",
                                  "unsupported_sec_level", "malformed", "refused_other",
                                  "unknown_source"))

    def send(self, *args: str, inform: bool = False, source: str | None = None) -> None:
        """One real `snmptrap`/`snmpinform`, then wait until the receiver has handled it."""
        before = self.handled()
        tool = require_binary("snmpinform" if inform else "snmptrap", "snmp")
        argv = [tool, *([f"--clientaddr={source}"] if source else []), *args]
        # args put the target after the security options; the tool takes it from there
        subprocess.run(argv, check=True, capture_output=True, timeout=30,
                       env={**os.environ, "MIBS": "", "SNMPCONFPATH": str(self.snmp_dir),
                            "SNMP_PERSISTENT_DIR": str(self.snmp_dir)})
        wait_until(lambda: self.handled() > before, timeout=30, what=f"the receiver to handle {args}")

    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture
def trap_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)


@pytest.fixture
def rig(trap_env: None, tmp_path: Path) -> Iterator[Rig]:
    inv = Inventory.model_validate(inventory_data())
    sink = MemorySink()
    store = AlertStore(tmp_path / "alerts.db")
    r = Rig(TrapReceiver(traps_config(), inv, sink, base_dir=tmp_path, store=store), sink, store,
            tmp_path / "snmp")
    r.snmp_dir.mkdir()
    r.receiver.on_event = r.events.append
    r.receiver.start()
    try:
        yield r
    finally:
        r.receiver.stop()
        store.close()
