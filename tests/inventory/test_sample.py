"""The shipped sample: the former Bình Phước backbone, part of Đồng Nai since 1 July 2025 (two-level
local government: a provincial data center, wards and communes), as issue 18 describes it, with the
names and kinds of the units as the resolutions cited in the sample's header give them."""

from __future__ import annotations

import ipaddress
from collections import Counter

import pytest

from nocsoc.inventory.model import Inventory, Role
from nocsoc.inventory.sample import SAMPLE_INVENTORY
from nocsoc.inventory.store import load_inventory, read_inventory

SITES = ["binhlong", "phuoclong", "chonthanh", "dongphu", "budang", "thienhung", "bugiamap", "locninh",
             "tankhai", "phurieng"]
SITE_NAMES = ["Bình Long", "Phước Long", "Chơn Thành", "Đồng Phú", "Bù Đăng", "Thiện Hưng", "Bù Gia Mập",
                  "Lộc Ninh", "Tân Khai", "Phú Riềng"]


@pytest.fixture(scope="module")
def inv() -> Inventory:
    return load_inventory(SAMPLE_INVENTORY)


def test_sample_is_valid_with_no_problem() -> None:
    assert read_inventory(SAMPLE_INVENTORY).problems == []


# wards: the former towns, and the communes that became wards on 30 April 2026 (237/NQ-UBTVQH16)
WARDS = {"binhlong", "phuoclong", "chonthanh", "dongphu", "locninh", "tankhai"}


def test_sites_in_order_with_vietnamese_names(inv: Inventory) -> None:
    assert [s.id for s in inv.sites] == ["dongxoai", *SITES, "tranbien"]
    assert [s.name for s in inv.sites] == ["Đồng Xoài", *SITE_NAMES, "Trấn Biên"]
    assert [s.kind for s in inv.sites] == (
        ["province_dc"] + ["ward" if d in WARDS else "commune" for d in SITES] + ["province_dc"]
    )
    # no district level any more: every unit is a ward or commune of the city, named as such, and
    # says what it was made of before 1 July 2025
    for s in inv.sites:
        assert "thành phố Đồng Nai" in s.description and "1/7/2025" in s.description, s.id
        if s.kind != "province_dc":
            unit = "Phường" if s.kind == "ward" else "Xã"
            assert s.description.startswith(f"{unit} {s.name}, thành phố Đồng Nai ("), s.id
            assert s.contact.startswith(f"Tổ kỹ thuật {unit.lower()} {s.name}:"), s.id
    assert not any(s.kind == "district" for s in inv.sites)
    assert all(s.contact.endswith("@ioc.example.vn") for s in inv.sites)
    assert all(s.lat is not None and s.lon is not None for s in inv.sites)
    # Đồng Nai's own data center is a site without devices yet
    assert not [d for d in inv.devices if d.site == "tranbien"]


def test_data_center_composition(inv: Inventory) -> None:
    dc = [d for d in inv.devices if d.site == "dongxoai"]
    assert Counter(d.role for d in dc) == {Role.CORE: 2, Role.ACCESS: 2, Role.FIREWALL: 2, Role.SERVER: 5,
                                           Role.UPS: 2}
    servers = {t for d in dc if d.role == Role.SERVER for t in d.tags}
    assert {"public-service", "ioc", "mail", "dns"} <= servers


def test_each_ward_or_commune_has_a_distribution_router_and_1_to_3_access_switches(inv: Inventory) -> None:
    for site in SITES:
        roles = Counter(d.role for d in inv.devices if d.site == site)
        assert roles[Role.DISTRIBUTION] == 1, site
        assert 1 <= roles[Role.ACCESS] <= 3, site
        assert set(roles) == {Role.DISTRIBUTION, Role.ACCESS}, site
    assert 40 <= len(inv.devices) <= 60
    assert len(inv.devices) == 48


def test_addresses_follow_the_site_index_plan(inv: Inventory) -> None:
    index = {s.id: i for i, s in enumerate(inv.sites)}
    net = ipaddress.ip_network("127.10.0.0/16")
    for d in inv.devices:
        addr = ipaddress.ip_address(d.address)
        assert addr in net, d.name
        assert d.address.split(".")[2] == str(index[d.site]), d.name
    assert len({d.address for d in inv.devices}) == len(inv.devices)


def test_site_networks_hold_every_address_of_their_devices_and_do_not_overlap(inv: Inventory) -> None:
    def nets(site: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(n) for n in inv.site(site).networks]

    for s in inv.sites:
        index = inv.sites.index(s)
        assert nets(s.id)[0] == ipaddress.ip_network(f"127.10.{index}.0/24"), s.id
        assert ipaddress.ip_network(f"10.{20 + index}.0.0/18") in nets(s.id), s.id
        assert [n.version for n in nets(s.id)].count(6) == 1, s.id
    for d in inv.devices:
        for a in {d.address, d.flow_exporter, d.syslog_source} - {None}:
            assert any(ipaddress.ip_address(a) in n for n in nets(d.site)), (d.name, a)
    every = [n for s in inv.sites for n in nets(s.id)]
    for i, a in enumerate(every):
        assert not any(a.overlaps(b) for b in every[i + 1 :]), a
    # the simulator's office clients (10.20-10.30) and DC admins (10.10.0.x) fall in a site's prefixes
    assert ipaddress.ip_network("10.10.0.0/24") in nets("dongxoai")


def test_routers_export_flows_and_syslog_from_their_address(inv: Inventory) -> None:
    routers = [d for d in inv.devices if d.role in (Role.CORE, Role.DISTRIBUTION)]
    assert len(routers) == 12
    for d in routers:
        assert d.flow_exporter == d.address and d.syslog_source == d.address, d.name
    assert all(d.flow_exporter is None for d in inv.devices if d not in routers)


def test_profiles_reference_secrets_and_use_the_simulator_port(inv: Inventory) -> None:
    assert {p.port for p in inv.snmp_profiles} == {16100}
    refs = {v for p in inv.snmp_profiles for v in (p.community, p.auth_password, p.priv_password) if v}
    assert refs == {"env:NOCSOC_SNMP_COMMUNITY", "env:NOCSOC_SNMP_AUTH", "env:NOCSOC_SNMP_PRIV"}
    assert {(p.version, p.auth_protocol, p.priv_protocol) for p in inv.snmp_profiles} == {
        ("3", "SHA-256", "AES-128"), ("3", "SHA-512", "AES-256"), ("3", "SHA", "AES-128"), ("2c", None, None)
    }
    text = SAMPLE_INVENTORY.read_text(encoding="utf-8")
    assert "# - SNMP port 16100: the simulated backbone answers there without root. Production devices\n" \
           "#   listen on 161" in text


def test_vendors_and_models_are_realistic(inv: Inventory) -> None:
    by_role = {(d.role, d.vendor, d.model) for d in inv.devices}
    assert (Role.CORE, "Juniper", "MX204") in by_role
    assert (Role.DISTRIBUTION, "Cisco", "ASR-920-12SZ-IM") in by_role
    assert (Role.FIREWALL, "Fortinet", "FortiGate-600F") in by_role
    assert {d.vendor for d in inv.devices} == {"Juniper", "Cisco", "Huawei", "Fortinet", "Dell", "APC"}


def test_fiber_ring_joins_core_01_through_every_ward_and_commune_to_core_02(inv: Inventory) -> None:
    ring = [lk for lk in inv.links if lk.name.startswith("ring-")]
    assert len(ring) == 11
    assert {lk.speed_mbps for lk in ring} == {10000}
    nxt = {lk.a.device: lk.b.device for lk in ring}
    path, node = ["dongxoai-core-01"], "dongxoai-core-01"
    while node in nxt:
        node = nxt[node]
        path.append(node)
    assert path[0] == "dongxoai-core-01" and path[-1] == "dongxoai-core-02"
    assert sorted(p.removesuffix("-dist-01") for p in path[1:-1]) == sorted(SITES)


def test_every_device_is_linked_and_uplinks_are_1g_or_10g(inv: Inventory) -> None:
    linked = {e.device for lk in inv.links for e in (lk.a, lk.b)}
    assert linked == {d.name for d in inv.devices}
    uplinks = [lk for lk in inv.links if lk.a.device.endswith("-dist-01") and "-acc-" in lk.b.device]
    assert len(uplinks) == 25
    assert {lk.speed_mbps for lk in uplinks} == {1000, 10000}
    ifnames = {e.interface for lk in inv.links for e in (lk.a, lk.b)}
    for name in ("xe-0/1/0", "TenGigabitEthernet0/0/8", "XGigabitEthernet0/0/1", "Ethernet1/53", "x1", "ha1"):
        assert name in ifnames
