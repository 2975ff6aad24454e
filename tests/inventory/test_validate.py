"""Every inventory problem is reported at once, each with file:line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from nocsoc.errors import InventoryError
from nocsoc.inventory.store import load_inventory, read_inventory
from tests.inventory.conftest import SMALL


def _line(text: str, needle: str, after: str | None = None) -> int:
    """1-based line of the first line containing `needle` (after the line containing `after`)."""
    lines = text.splitlines()
    start = 0
    if after is not None:
        start = next(i for i, line in enumerate(lines) if after in line) + 1
    return next(i for i, line in enumerate(lines) if i >= start and needle in line) + 1


BROKEN = SMALL.replace("    address: 127.10.1.1\n", "    address: 127.10.0.1\n").replace(
    "    site: binhlong\n    profile: v2\n    tags: [ring]\n",
    "    site: binhlongg\n    profile: v3\n    tags: [ring]\n"
    "  - name: bad-01\n    address: 127.10.999.1\n    role: access\n    site: binhlong\n    profile: v2\n"
    "  - name: core-01\n    address: 127.10.0.9\n    role: router\n    site: dongxoai\n    profile: v2\n"
    "    colour: blue\n"
    "  - name: dup-01\n    address: 127.10.0.8\n    role: access\n    site: dongxoai\n    profile: v2\n"
    "  - name: dup-01\n    address: 127.10.0.7\n    role: access\n    site: dongxoai\n    profile: v2\n",
) + (
    "  - name: ring-2\n"
    "    a: {device: core-01, interface: xe-0/1/1}\n"
    "    b: {device: dist-02, interface: Te0/0/8}\n"
    "  - name: ring-3\n"
    "    a: {device: core-01, interface: xe-0/1/0}\n"
    "    b: {device: bad-01, interface: Gi0/0/1}\n"
)


def test_every_problem_at_once_with_file_line_key(tmp_path: Path) -> None:
    p = tmp_path / "inventory.yaml"
    p.write_text(BROKEN, encoding="utf-8")
    t = BROKEN
    got = [pr.render() for pr in read_inventory(p).problems]
    f = str(p)
    assert got == [
        f"{f}:{_line(t, 'address: 127.10.0.1', after='dist-01')}: devices[1].address: "
        f"127.10.0.1 is already used by device 'core-01' (first on line {_line(t, 'address: 127.10.0.1')})",
        f"{f}:{_line(t, 'binhlongg')}: devices[1].site: unknown site 'binhlongg' (did you mean 'binhlong'?)",
        f"{f}:{_line(t, 'profile: v3')}: devices[1].profile: unknown profile 'v3'; known: v2",
        f"{f}:{_line(t, '127.10.999.1')}: devices[2].address: "
        "'127.10.999.1' does not appear to be an IPv4 or IPv6 address",
        f"{f}:{_line(t, 'role: router')}: devices[3].role: Input should be 'core', 'distribution', 'access', "
        "'firewall', 'server' or 'ups' (got 'router')",
        f"{f}:{_line(t, 'colour')}: devices[3].colour: unknown key; allowed: name, address, role, site, "
        "profile, vendor, model, tags, flow_exporter, flow_sampling_rate, syslog_source, poll_interval_s, "
        "snmp_port",
        f"{f}:{_line(t, 'name: dup-01', after='name: dup-01')}: devices[5].name: duplicate device name "
        f"'dup-01' (first on line {_line(t, 'name: dup-01')})",
        f"{f}:{_line(t, 'dist-02')}: links[1].b.device: dangling link: unknown device 'dist-02' "
        "(did you mean 'dist-01'?)",
        f"{f}:{_line(t, 'interface: xe-0/1/0', after='ring-3')}: links[2].a.interface: interface xe-0/1/0 of "
        f"core-01 is already used by link 'ring-1' (first on line {_line(t, 'xe-0/1/0')})",
    ]


def test_load_inventory_raises_with_all_problems(tmp_path: Path) -> None:
    p = tmp_path / "inventory.yaml"
    p.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(InventoryError) as exc:
        load_inventory(p)
    assert len(exc.value.problems) == 9
    assert all(pr.file == p and pr.line for pr in exc.value.problems)


def test_links_to_a_broken_device_are_not_also_dangling(tmp_path: Path) -> None:
    # ring-3 points at bad-01, whose address is invalid: one problem (the address), not two.
    p = tmp_path / "inventory.yaml"
    p.write_text(BROKEN, encoding="utf-8")
    assert not [pr for pr in read_inventory(p).problems if "bad-01" in pr.message]


def test_duplicate_site(small: Path) -> None:
    small.write_text(SMALL.replace("  - id: binhlong\n", "  - id: dongxoai\n"), encoding="utf-8")
    assert [p.render() for p in read_inventory(small).problems] == [
        f"{small}:8: sites[1].id: duplicate site id 'dongxoai' (first on line 5)",
        f"{small}:26: devices[1].site: unknown site 'binhlong'; known: dongxoai",
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    b: {device: dist-01, interface: Te0/0/8}\n", "    b: {device: core-01, interface: xe-0/1/0}\n",
         "{f}:33: links[0].b: link 'ring-1' connects an interface to itself"),
        ("    tags: [ring]\n", "    tags: [ring]\n    flow_exporter: 127.10.0.1\n",
         "{f}:29: devices[1].flow_exporter: 127.10.0.1 is the management address of device 'core-01' "
         "(first on line 19)"),
        ("    community: env:TEST_COMMUNITY\n", "    community: public\n",
         "{f}:14: snmp_profiles[0].community: community must be a secret reference, not a literal: "
         "write `env:NAME` (an environment variable) or `file:PATH` (a file readable only by its owner, "
         "mode 0600)"),
        ("version: 1\n", "version: 2\n", "{f}:2: version: unsupported inventory version 2; expected 1"),
        ("links:\n", "link:\n",
         "{f}:30: link: unknown key; allowed: version, sites, snmp_profiles, devices, links"),
    ],
)
def test_single_problems(small: Path, old: str, new: str, expected: str) -> None:
    assert old in SMALL
    small.write_text(SMALL.replace(old, new, 1), encoding="utf-8")
    assert [p.render() for p in read_inventory(small).problems] == [expected.format(f=small)]


def test_literal_secret_is_never_echoed(small: Path) -> None:
    small.write_text(SMALL.replace("env:TEST_COMMUNITY", "s3cr3t-Literal"), encoding="utf-8")
    with pytest.raises(InventoryError) as exc:
        load_inventory(small)
    assert "s3cr3t-Literal" not in str(exc.value)


def test_yaml_syntax_error_names_line(small: Path) -> None:
    small.write_text(SMALL.replace("    tags: [ring]\n", "    tags: [ring\n"), encoding="utf-8")
    with pytest.raises(InventoryError) as exc:
        read_inventory(small)
    assert str(exc.value) == f"{small}:30: invalid YAML: did not find expected ',' or ']'"


def test_missing_inventory_file(tmp_path: Path) -> None:
    with pytest.raises(InventoryError) as exc:
        load_inventory(tmp_path / "inventory.yaml")
    assert str(exc.value) == f"{tmp_path / 'inventory.yaml'}: inventory file not found"
