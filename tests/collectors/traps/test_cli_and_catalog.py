"""`nocsoc traps listen` as a real process with a real sender; the catalogue as data (vendor
entries added from a file, RFC 3584 mapping of v1 enterprise-specific traps); bind errors."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from nocsoc.cli.traps import safe
from nocsoc.collectors.listen import listen_error
from nocsoc.collectors.snmp.profiles import load_catalog
from nocsoc.collectors.traps.catalog import TrapCatalog
from nocsoc.errors import ConfigError
from nocsoc.sinks.sqlite import SqliteReader
from tests.collectors.traps.conftest import COMMUNITY, ENV, Rig, inventory_data
from tests.servers.base import free_port, require_binary, wait_until

ROOT = Path(__file__).resolve().parents[3]
NAMES = ('ge-0/0/0 "Đà Lạt"', "ge-0/0/1\\", "ge-0/0/2\x1b[2J")


def test_builtin_catalogue_covers_the_generic_traps() -> None:
    cat = TrapCatalog.load()
    got = {oid: (cat.lookup(oid).event, cat.lookup(oid).alert)  # type: ignore[union-attr]
           for oid in (f"1.3.6.1.6.3.1.1.5.{i}" for i in range(1, 6))}
    assert got == {"1.3.6.1.6.3.1.1.5.1": ("cold_start", True), "1.3.6.1.6.3.1.1.5.2": ("warm_start", True),
                   "1.3.6.1.6.3.1.1.5.3": ("link_down", True), "1.3.6.1.6.3.1.1.5.4": ("link_up", False),
                   "1.3.6.1.6.3.1.1.5.5": ("auth_failure", True)}
    assert all(e.title.vi and e.title.en for e in cat.entries())


def test_vendor_file_extends_and_regrades(tmp_path: Path) -> None:
    f = tmp_path / "vendor.yaml"
    f.write_text(yaml.safe_dump({"traps": [
        {"oid": ".1.3.6.1.4.1.2011.5.25.219.2.2.1", "name": "hwEntityRemove", "mib": "HUAWEI-ENTITY-TRAP-MIB",
         "event": "entity_removed", "severity": "high", "alert": True,
         "title": {"en": "Board removed", "vi": "Bo mạch bị rút"}},
        {"oid": "1.3.6.1.6.3.1.1.5.4", "name": "linkUp", "event": "link_up", "severity": "low", "alert": True,
         "interface": True, "group": "interface", "title": {"en": "Interface up", "vi": "Cổng có kết nối"}},
    ]}))
    cat = TrapCatalog.load([f])
    assert cat.lookup("1.3.6.1.4.1.2011.5.25.219.2.2.1").event == "entity_removed"  # type: ignore[union-attr]
    assert cat.lookup("1.3.6.1.6.3.1.1.5.4").alert is True  # type: ignore[union-attr]
    f.write_text("traps:\n  - {oid: 1.3.6.1.4.1.9, name: x, event: Bad-Name, title: {en: a, vi: b}}\n")
    with pytest.raises(ConfigError, match=r"traps\.0\.event") as err:
        TrapCatalog.load([f])
    assert str(f) in str(err.value)


def test_v1_enterprise_specific_trap_maps_through_rfc3584(rig: Rig) -> None:
    # CISCO-CONFIG-MAN-MIB ciscoConfigManEvent sent as v1: enterprise ciscoConfigManMIBNotificationPrefix,
    # specific 1 -> snmpTrapOID 1.3.6.1.4.1.9.9.43.2.0.1
    rig.send("-v", "1", "-c", COMMUNITY, rig.target(), "1.3.6.1.4.1.9.9.43.2", "127.0.0.1", "6", "1", "55",
             "1.3.6.1.4.1.9.9.43.1.1.6.1.3.10", "i", "1")
    rig.receiver.flush()
    [ev] = rig.events
    assert (ev.trap.trap_oid, ev.event, ev.entry.name) == (  # type: ignore[union-attr]
        "1.3.6.1.4.1.9.9.43.2.0.1", "config_change", "ciscoConfigManEvent")
    [alert] = rig.store.list_alerts()
    assert (alert.rule_id, alert.rule_title) == ("snmp-trap-config-change", "Configuration changed")


def test_a_privileged_port_error_names_the_capability() -> None:
    msg = listen_error("udp", "0.0.0.0:162", OSError(errno.EACCES, "Permission denied")).strerror
    assert msg == "cannot listen on udp 0.0.0.0:162: permission denied (ports below 1024 need " \
        "CAP_NET_BIND_SERVICE)"


def test_control_characters_are_shown_escaped() -> None:
    assert safe("fan\x1b[31m failed\n") == "fan\\x1b[31m failed\\n"


def _install(tmp_path: Path, port: int) -> Path:
    (tmp_path / "inventory.yaml").write_text(yaml.safe_dump(inventory_data()))
    cfg = tmp_path / "nocsoc.yaml"
    cfg.write_text(yaml.safe_dump({
        "sinks": [{"type": "sqlite", "path": "./var/nocsoc.db", "flush_interval_s": 0.2}],
        "traps": {"bind": f"127.0.0.1:{port}", "communities": ["env:NOCSOC_TEST_TRAP_COMMUNITY"],
                  "flush_interval_s": 0.2},
        "detections": {"alerts_db": "./var/alerts.db"},
    }))
    return cfg


def test_listen_json_prints_each_trap_and_writes_the_sink(tmp_path: Path) -> None:
    snmptrap = require_binary("snmptrap", "snmp")
    port = free_port(socket.SOCK_DGRAM)
    cfg = _install(tmp_path, port)
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT), "MIBS": "", "SNMPCONFPATH": str(tmp_path),
           "SNMP_PERSISTENT_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "nocsoc", "-c", str(cfg), "traps", "listen", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        # with --json the "listening on" line goes to stderr; traps sent before it would be lost
        first = proc.stderr.readline()
        assert first.startswith("listening on 127.0.0.1:"), first + proc.stderr.read()
        for n in range(3):
            subprocess.run([snmptrap, "-v", "2c", "-c", COMMUNITY, f"127.0.0.1:{port}", "1",
                            "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.2.1.2.2.1.1.9", "i", "9", "1.3.6.1.2.1.2.2.1.8.9",
                            "i", "2", "1.3.6.1.2.1.31.1.1.1.1.9", "s", NAMES[n]],
                           check=True, capture_output=True, timeout=30, env=env)
            wait_until(lambda n=n: len(lines) > n, timeout=20, what=f"trap {n} printed")
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, err
    events = [json.loads(line) for line in lines]
    # text stays text (UTF-8, quotes); octets with control characters are shown as hex
    assert [(e["device"], e["event"], e["ifname"]) for e in events] == [
        ("core-01", "link_down", NAMES[0]), ("core-01", "link_down", NAMES[1]),
        ("core-01", "link_down", "0x" + NAMES[2].encode().hex())]
    assert "traps received" in err  # the counters table at the end
    stored = SqliteReader(tmp_path / "var" / "nocsoc.db").query("snmp_trap", ["trap_oid"])
    assert len(stored) == 3


def test_listen_on_a_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        cfg = _install(tmp_path, port)
        res = subprocess.run([sys.executable, "-m", "nocsoc", "-c", str(cfg), "traps", "listen"],
                             capture_output=True, text=True, timeout=60,
                             env={**os.environ, **ENV, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 2  # a configuration problem: a restart would not fix it
    assert f"error: traps: cannot listen on udp 127.0.0.1:{port}: address already in use" in res.stderr
    assert "Traceback" not in res.stderr


def test_catalog_command_lists_builtin_and_site_entries(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text(yaml.safe_dump({"traps": [
        {"oid": "1.3.6.1.4.1.2636.4.5.0.1", "name": "jnxCmCfgChange", "event": "config_change",
         "title": {"en": "Configuration changed", "vi": "Cấu hình thay đổi"}}]}))
    (tmp_path / "nocsoc.yaml").write_text(yaml.safe_dump({"traps": {"catalog": ["site.yaml"]}}))
    res = subprocess.run([sys.executable, "-m", "nocsoc", "-c", str(tmp_path / "nocsoc.yaml"), "traps",
                          "catalog", "--json"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    # built-in, every shipped profile's vendor traps, and the site file's entry
    assert len(rows) == len(TrapCatalog.load(profiles=load_catalog())) + 1
    assert [r["oid"] for r in rows][:2] == ["1.3.6.1.2.1.15.0.1", "1.3.6.1.2.1.15.0.2"]  # numeric order
    [site] = [r for r in rows if r["oid"] == "1.3.6.1.4.1.2636.4.5.0.1"]
    assert (site["name"], site["event"], site["alert"]) == ("jnxCmCfgChange", "config_change", False)
    assert site["source"] == str(tmp_path / "site.yaml")
    [fan] = [r for r in rows if r["name"] == "jnxFanFailure"]
    assert (fan["oid"], fan["kind"], fan["source"]) == ("1.3.6.1.4.1.2636.4.1.2", "fan", "profile juniper")
    [cold] = [r for r in rows if r["name"] == "coldStart"]
    assert cold["source"] == "built-in"
