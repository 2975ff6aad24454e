"""Inventories that point at the test agents (snmpsim devices, snmpd), with secrets as references."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from nocsoc.inventory.model import Inventory
from tests.servers.snmp import COMMUNITY, V3_USERS, Snmpd, SnmpSim

# The secrets the test agents use, handed to nocsoc only as env: references.
SECRET_ENV = {
    "NOCSOC_TEST_COMMUNITY": COMMUNITY,
    "NOCSOC_TEST_V3_AUTH": V3_USERS["nocsoc"][1],
    "NOCSOC_TEST_V3_PRIV": V3_USERS["nocsoc"][3],
    "NOCSOC_TEST_V3_AUTH512": V3_USERS["nocsoc512"][1],
    "NOCSOC_TEST_V3_PRIV512": V3_USERS["nocsoc512"][3],
    "NOCSOC_TEST_V3_WRONG": "not-the-password",
}
DEAD_ADDRESS, DEAD_PORT = "127.0.0.9", 9  # nothing answers SNMP there

SIM_ROLES = {
    "edge1": "access",
    "core1": "core",
    "core2": "core",
    "dist1": "distribution",
    "ups1": "ups",
    "server": "server",
}


@pytest.fixture(scope="session")
def snmp_secrets() -> Iterator[None]:
    old = {k: os.environ.get(k) for k in SECRET_ENV}
    os.environ.update(SECRET_ENV)
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def profiles() -> list[dict[str, Any]]:
    return [
        {"name": "sim", "community": "env:NOCSOC_TEST_COMMUNITY", "timeout_s": 0.5, "retries": 1},
        {
            "name": "v3",
            "version": "3",
            "user": "nocsoc",
            "auth_protocol": "SHA",
            "auth_password": "env:NOCSOC_TEST_V3_AUTH",
            "priv_protocol": "AES-128",
            "priv_password": "env:NOCSOC_TEST_V3_PRIV",
            "timeout_s": 1.0,
            "retries": 1,
        },
        {
            "name": "v3-512",
            "version": "3",
            "user": "nocsoc512",
            "auth_protocol": "SHA-512",
            "auth_password": "env:NOCSOC_TEST_V3_AUTH512",
            "priv_protocol": "AES-128",
            "priv_password": "env:NOCSOC_TEST_V3_PRIV512",
            "timeout_s": 1.0,
            "retries": 1,
        },
        {
            "name": "v3-wrong",
            "version": "3",
            "user": "nocsoc",
            "auth_protocol": "SHA",
            "auth_password": "env:NOCSOC_TEST_V3_WRONG",
            "priv_protocol": "AES-128",
            "priv_password": "env:NOCSOC_TEST_V3_PRIV",
            "timeout_s": 1.0,
            "retries": 0,
        },
    ]


def inventory_data(
    sim: SnmpSim | None = None, agent: Snmpd | None = None, dead: bool = False
) -> dict[str, Any]:
    devices: list[dict[str, Any]] = []
    if sim is not None:
        for name, port in sim.ports.items():
            devices.append(
                {
                    "name": name,
                    "address": sim.addresses[name],
                    "snmp_port": port,
                    "profile": "sim",
                    "role": SIM_ROLES.get(name, "access"),
                    "site": "dongxoai",
                    "vendor": "sim",
                }
            )
    if agent is not None:
        devices += [
            {
                "name": "local-v3",
                "address": agent.addresses[0],
                "snmp_port": agent.port,
                "profile": "v3",
                "role": "server",
                "site": "dongxoai",
            },
            {
                "name": "local-v3-512",
                "address": agent.addresses[1],
                "snmp_port": agent.port,
                "profile": "v3-512",
                "role": "server",
                "site": "dongxoai",
            },
            {
                "name": "local-v2c",
                "address": agent.addresses[3],
                "snmp_port": agent.port,
                "profile": "sim",
                "role": "server",
                "site": "dongxoai",
            },
            {
                "name": "local-wrong",
                "address": agent.addresses[2],
                "snmp_port": agent.port,
                "profile": "v3-wrong",
                "role": "server",
                "site": "dongxoai",
            },
        ]
    if dead:
        devices.append(
            {
                "name": "dead",
                "address": DEAD_ADDRESS,
                "snmp_port": DEAD_PORT,
                "profile": "sim",
                "role": "access",
                "site": "binhlong",
            }
        )
    return {
        "version": 1,
        "sites": [
            {"id": "dongxoai", "name": "Đồng Xoài", "kind": "datacenter"},
            {"id": "binhlong", "name": "Bình Long"},
        ],
        "snmp_profiles": profiles(),
        "devices": devices,
        "links": [
            {
                "name": "core-ring-1",
                "a": {"device": "core1", "interface": "Te0/0/1"},
                "b": {"device": "core2", "interface": "Te0/0/1"},
            }
        ]
        if sim is not None
        else [],
    }


def inventory(sim: SnmpSim | None = None, agent: Snmpd | None = None, dead: bool = False) -> Inventory:
    return Inventory.model_validate(inventory_data(sim, agent, dead))
