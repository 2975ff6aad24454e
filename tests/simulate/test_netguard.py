"""The simulator refuses every bind and destination outside 127.0.0.0/8."""

from __future__ import annotations

import re

import pytest

from nocsoc.inventory.model import Device, Role
from nocsoc.simulate.netguard import UnsafeAddressError, parse_endpoint, require_loopback
from nocsoc.simulate.scenario import Scenario, SimulateConfig
from tests.simulate.conftest import small_inventory


@pytest.mark.parametrize(
    "host",
    ["10.0.0.5", "192.168.1.1", "8.8.8.8", "0.0.0.0", "::1", "localhost", "128.0.0.1", "126.255.255.255"],
)
def test_require_loopback_refuses(host: str) -> None:
    with pytest.raises(UnsafeAddressError, match="flows"):
        require_loopback(host, "flows")


def test_require_loopback_accepts_the_whole_block() -> None:
    assert require_loopback("127.0.0.1", "x") == "127.0.0.1"
    assert require_loopback(" 127.255.0.9 ", "x") == "127.255.0.9"
    assert parse_endpoint("127.10.3.4:2055", "x") == ("127.10.3.4", 2055)
    for bad in ("127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1:abc"):
        with pytest.raises(UnsafeAddressError):
            parse_endpoint(bad, "x")


def test_scenario_refuses_foreign_destinations(community_env: str) -> None:
    inv = small_inventory(16100)
    with pytest.raises(UnsafeAddressError, match=re.escape("--flows-to: 10.1.2.3 is outside 127.0.0.0/8")):
        Scenario(inv, SimulateConfig(flows_to="10.1.2.3:2055"))
    with pytest.raises(UnsafeAddressError, match=re.escape("--syslog-to: 192.0.2.1 is outside")):
        Scenario(inv, SimulateConfig(syslog_to="192.0.2.1:514"))


def test_scenario_refuses_an_inventory_with_real_addresses(community_env: str) -> None:
    inv = small_inventory(16100)
    inv.devices.append(
        Device(name="real-router", address="172.16.0.1", role=Role.ACCESS, site="dc", profile="lab")
    )
    with pytest.raises(
        UnsafeAddressError, match=re.escape("device real-router address: 172.16.0.1 is outside")
    ):
        Scenario(inv, SimulateConfig(flows_to=None, syslog_to=None))
    inv.devices[-1] = Device(
        name="real-router",
        address="127.77.9.9",
        role=Role.ACCESS,
        site="dc",
        profile="lab",
        syslog_source="10.9.9.9",
    )
    with pytest.raises(UnsafeAddressError, match=re.escape("syslog_source: 10.9.9.9")):
        Scenario(inv, SimulateConfig(flows_to=None, syslog_to=None))
