"""The inventory file: stable round trip, atomic locked edits, refusal of edits that break it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from filelock import FileLock

from nocsoc.errors import InventoryError
from nocsoc.inventory.model import Device, Role
from nocsoc.inventory.sample import SAMPLE_INVENTORY
from nocsoc.inventory.store import (
    InventoryLockedError,
    InventoryStore,
    atomic_write,
    dump_inventory,
    leading_comments,
    load_inventory,
)
from tests.inventory.conftest import SMALL


def _new_device(name: str = "acc-01", address: str = "127.10.1.11", site: str = "binhlong") -> Device:
    return Device(name=name, address=address, role=Role.ACCESS, site=site, profile="v2")


def test_dump_is_a_fixed_point_and_loads_back_equal(tmp_path: Path) -> None:
    inv = load_inventory(SAMPLE_INVENTORY)
    text = dump_inventory(inv)
    p = tmp_path / "inv.yaml"
    p.write_text(text, encoding="utf-8")
    assert load_inventory(p) == inv
    assert dump_inventory(load_inventory(p)) == text


def test_shipped_sample_is_exactly_what_the_writer_writes() -> None:
    # so the first CLI edit of a fresh `nocsoc init` changes only the lines it must
    shipped = SAMPLE_INVENTORY.read_text(encoding="utf-8")
    assert dump_inventory(load_inventory(SAMPLE_INVENTORY), leading_comments(shipped)) == shipped


def test_small_dump_layout(small: Path) -> None:
    text = dump_inventory(load_inventory(small), "# test inventory")
    assert text == (
        "# test inventory\n"
        "\n"
        "version: 1\n"
        "\n"
        "# Sites: devices refer to a site by its `id` (ASCII); `name` is what dashboards show.\n"
        "sites:\n"
        "  - id: dongxoai\n"
        "    name: Đồng Xoài\n"
        "    kind: datacenter\n"
        "  - id: binhlong\n"
        "    name: Bình Long\n"
        "    kind: district\n"
        "\n"
        "# SNMP credential profiles. Secrets are references (env:NAME, or file:PATH of mode 0600), never "
        "literals.\n"
        "snmp_profiles:\n"
        "  - name: v2\n"
        "    version: 2c\n"
        "    community: env:TEST_COMMUNITY\n"
        "    port: 16100\n"
        "\n"
        "# Devices, grouped by site. flow_exporter / syslog_source: the address their NetFlow and "
        "syslog come from.\n"
        "devices:\n"
        "  # Đồng Xoài (dongxoai)\n"
        "  - name: core-01\n"
        "    address: 127.10.0.1\n"
        "    role: core\n"
        "    site: dongxoai\n"
        "    profile: v2\n"
        "  # Bình Long (binhlong)\n"
        "  - name: dist-01\n"
        "    address: 127.10.1.1\n"
        "    role: distribution\n"
        "    site: binhlong\n"
        "    profile: v2\n"
        "    tags: [ring]\n"
        "\n"
        "# Links between device interfaces (names as the device reports them in ifName).\n"
        "links:\n"
        "  - name: ring-1\n"
        "    a: {device: core-01, interface: xe-0/1/0}\n"
        "    b: {device: dist-01, interface: Te0/0/8}\n"
        "    speed_mbps: 10000\n"
    )


def test_leading_comments() -> None:
    assert leading_comments("# a\n#\n# b\n\nversion: 1\n# not this\n") == "# a\n#\n# b\n"
    assert leading_comments("version: 1\n") == ""


def test_atomic_write_keeps_mode_and_leaves_no_temp_file(tmp_path: Path) -> None:
    p = tmp_path / "f.yaml"
    p.write_text("old\n")
    os.chmod(p, 0o640)
    atomic_write(p, "new\n")
    assert p.read_text() == "new\n"
    assert stat.S_IMODE(p.stat().st_mode) == 0o640
    assert sorted(x.name for x in tmp_path.iterdir()) == ["f.yaml"]


def test_edit_adds_and_keeps_the_header(small: Path) -> None:
    store = InventoryStore(small)
    with store.edit() as inv:
        inv.devices.append(_new_device())
    text = small.read_text(encoding="utf-8")
    assert text.startswith("# test inventory\n\nversion: 1\n")
    assert [d.name for d in load_inventory(small).devices] == ["core-01", "dist-01", "acc-01"]
    assert sorted(x.name for x in small.parent.iterdir()) == [".inventory.yaml.lock", "inventory.yaml"]


def test_edit_without_change_does_not_rewrite(small: Path) -> None:
    before = small.stat().st_mtime_ns
    with InventoryStore(small).edit():
        pass
    assert small.stat().st_mtime_ns == before
    assert small.read_text(encoding="utf-8") == SMALL


def test_edit_that_raises_writes_nothing(small: Path) -> None:
    with pytest.raises(RuntimeError), InventoryStore(small).edit() as inv:
        inv.devices.clear()
        raise RuntimeError("changed my mind")
    assert small.read_text(encoding="utf-8") == SMALL


def test_edit_that_breaks_references_is_refused(small: Path) -> None:
    with pytest.raises(InventoryError) as exc, InventoryStore(small).edit() as inv:
        inv.devices.append(_new_device(site="nowhere", address="127.10.1.1"))
    assert str(exc.value).splitlines() == [
        "device acc-01: address: 127.10.1.1 is already used by device 'dist-01'",
        "device acc-01: site: unknown site 'nowhere'; known: binhlong, dongxoai",
    ]
    assert small.read_text(encoding="utf-8") == SMALL


def test_edit_tolerates_problems_already_there(small: Path) -> None:
    # A file with an unknown site can still be edited (e.g. to fix it) as long as no new problem appears.
    small.write_text(SMALL.replace("    site: binhlong\n", "    site: nowhere\n"), encoding="utf-8")
    with InventoryStore(small).edit() as inv:
        inv.devices.append(_new_device(address="127.10.1.12"))
    with InventoryStore(small).edit() as inv:
        inv.device("dist-01").site = "binhlong"
    assert load_inventory(small).device("dist-01").site == "binhlong"


def test_edit_refuses_a_file_with_unreadable_items(small: Path) -> None:
    # Rewriting would silently drop the broken device: refuse and say where.
    small.write_text(SMALL.replace("127.10.1.1", "127.10.1.x"), encoding="utf-8")
    with pytest.raises(InventoryError) as exc, InventoryStore(small).edit():
        pass
    assert str(exc.value).splitlines() == [
        f"{small}: fix these problems first (`nocsoc inventory validate`)",
        f"{small}:24: devices[1].address: '127.10.1.x' does not appear to be an IPv4 or IPv6 address",
    ]


def test_edit_can_create_a_new_inventory(tmp_path: Path) -> None:
    p = tmp_path / "new.yaml"
    with pytest.raises(InventoryError):
        InventoryStore(p).load()
    with InventoryStore(p).edit(create=True) as inv:
        assert inv.devices == []
    assert p.read_text(encoding="utf-8") == (
        "version: 1\n\nsites: []\n\nsnmp_profiles: []\n\ndevices: []\n\nlinks: []\n"
    )
    assert InventoryStore(p).load().devices == []


def test_lock_timeout_is_a_clear_error(small: Path) -> None:
    store = InventoryStore(small, lock_timeout_s=0.2)
    holder = FileLock(str(store.lock_path))
    with holder, pytest.raises(InventoryLockedError) as exc, store.edit():
        pass
    assert str(exc.value) == (
        f"{small}: inventory is locked by another process for more than 0.2 s (lock file {store.lock_path}); "
        "try again"
    )
    assert exc.value.exit_code == 1
