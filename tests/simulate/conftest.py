"""A small backbone for the simulator tests (the sample inventory is tested when present)."""

from __future__ import annotations

from typing import Literal

import pytest

from nocsoc.inventory.model import Device, Endpoint, Inventory, Link, Role, Site, SnmpProfile

COMMUNITY_ENV = "NOCSOC_TEST_SIM_COMMUNITY"
COMMUNITY = "lab-community-7"


def small_inventory(port: int) -> Inventory:
    """Core pair, a distribution and access switch, a firewall, portal/IOC/db servers and a UPS.

    Addresses are 127.77.x.y so the tests never collide with the sample's 127.10.x.y.
    """

    def dev(
        name: str,
        n: int,
        role: Role,
        site: str = "dc",
        vendor: str = "",
        model: str = "",
        tags: list[str] | None = None,
    ) -> Device:
        return Device(
            name=name,
            address=f"127.77.{1 if site == 'dc' else 2}.{n}",
            role=role,
            site=site,
            profile="lab",
            vendor=vendor,
            model=model,
            tags=tags or [],
        )

    def link(
        name: str,
        a: str,
        ai: str,
        b: str,
        bi: str,
        speed: int,
        kind: Literal["fiber", "copper"] = "fiber",
    ) -> Link:
        return Link(
            name=name,
            a=Endpoint(device=a, interface=ai),
            b=Endpoint(device=b, interface=bi),
            speed_mbps=speed,
            kind=kind,
        )

    return Inventory(
        sites=[
            Site(id="dc", name="Trung tâm dữ liệu Đồng Xoài", kind="datacenter"),
            Site(id="dongphu", name="Đồng Phú"),
        ],
        snmp_profiles=[SnmpProfile(name="lab", community=f"env:{COMMUNITY_ENV}", port=port)],
        devices=[
            dev("core-01", 1, Role.CORE, vendor="Cisco", model="ASR-9901"),
            dev("core-02", 2, Role.CORE, vendor="Cisco", model="ASR-9901"),
            dev("fw-01", 3, Role.FIREWALL),
            dev("srv-portal-01", 10, Role.SERVER, tags=["portal"]),
            dev("srv-ioc-01", 11, Role.SERVER, tags=["ioc"]),
            dev("srv-db-01", 12, Role.SERVER),
            dev("ups-01", 20, Role.UPS, vendor="APC", model="Smart-UPS SRT 10000"),
            dev("dist-dongphu", 1, Role.DISTRIBUTION, site="dongphu", vendor="Cisco", model="NCS-540"),
            dev("acc-dongphu-01", 2, Role.ACCESS, site="dongphu", vendor="Cisco", model="C9300-48"),
        ],
        links=[
            link("core-01--core-02", "core-01", "Te0/0/0/0", "core-02", "Te0/0/0/0", 10000),
            link("core-01--dist-dongphu", "core-01", "Te0/0/0/1", "dist-dongphu", "Te0/0/0", 10000),
            link("core-02--dist-dongphu", "core-02", "Te0/0/0/1", "dist-dongphu", "Te0/0/1", 10000),
            link("dist-dongphu--acc-01", "dist-dongphu", "Gi0/0/2", "acc-dongphu-01", "Gi1/1/1", 1000),
            link("core-01--fw-01", "core-01", "Te0/0/0/2", "fw-01", "eth1", 10000),
            link("fw-01--portal", "fw-01", "eth2", "srv-portal-01", "ens1", 10000, "copper"),
            link("fw-01--ioc", "fw-01", "eth3", "srv-ioc-01", "ens1", 10000, "copper"),
            link("core-02--db", "core-02", "Te0/0/0/3", "srv-db-01", "ens1", 10000, "copper"),
        ],
    )


@pytest.fixture
def community_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(COMMUNITY_ENV, COMMUNITY)
    return COMMUNITY
