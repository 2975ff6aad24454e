"""ifIndex -> (ifName, ifAlias) for link traps that carry only the index (net-snmp, most
switches): from the SNMP poller's interface table when it has one (`InterfaceNames`, shared
through the state dir), else asked once from the device with its inventory SNMP profile, then
cached.

The interface point a linkDown writes must land in the poller's series, which is named by
ifName (and ifAlias); ifDescr differs from ifName on many vendors, so it is not a substitute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from nocsoc.collectors.ifnames import InterfaceNames
from nocsoc.inventory.model import Device, Inventory

log = logging.getLogger(__name__)
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_ALIAS = "1.3.6.1.2.1.31.1.1.1.18"
NEGATIVE_TTL_S = 300.0  # a device that did not answer is not asked again for this long


def _text(v: object) -> str:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return "" if v is None else str(v)


class IfNameResolver:
    def __init__(self, inventory: Inventory | None, base_dir: Path | None = None,
                 timeout_s: float = 1.0, ifnames: InterfaceNames | None = None) -> None:
        self.inventory = inventory
        self.ifnames = ifnames
        self.base_dir = base_dir
        self.timeout_s = timeout_s
        self._cache: dict[tuple[str, int], tuple[str, str]] = {}
        self._failed: dict[str, float] = {}

    def forget(self, device: str) -> None:
        """Drop a device's cached names (a coldStart may renumber interfaces)."""
        for key in [k for k in self._cache if k[0] == device]:
            del self._cache[key]

    def resolve(self, device: Device, ifindex: int) -> tuple[str, str] | None:
        key = (device.name, ifindex)
        got = self._cache.get(key)
        if got is not None:
            return got
        polled = self.ifnames.get(device.name, ifindex) if self.ifnames is not None else None
        if polled:  # the SNMP poller's last table (under `nocsoc run`, through the state dir)
            return polled, ""
        if time.monotonic() < self._failed.get(device.name, 0.0) or self.inventory is None:
            return None
        try:
            values = asyncio.run(self._get(device, ifindex))
        except Exception as exc:  # timeout, auth, missing profile: the event is still written
            self._failed[device.name] = time.monotonic() + NEGATIVE_TTL_S
            log.warning("traps: cannot ask %s for the name of ifIndex %d: %s", device.name, ifindex, exc)
            return None
        name = _text(values.get(f"{IF_NAME}.{ifindex}"))
        if not name:
            return None
        self._cache[key] = (name, _text(values.get(f"{IF_ALIAS}.{ifindex}")))
        return self._cache[key]

    async def _get(self, device: Device, ifindex: int) -> dict[str, object]:
        from nocsoc.collectors.snmp.session import EnginePool, SnmpSession, build_credentials

        assert self.inventory is not None
        profile = self.inventory.profile(device.profile).model_copy(
            update={"timeout_s": self.timeout_s, "retries": 0})
        creds = build_credentials(profile, base_dir=self.base_dir)
        pool = EnginePool()
        session = SnmpSession(pool.get(creds.engine_key), device.name, device.address,
                              device.snmp_port or profile.port, profile, creds)
        try:
            return dict(await session.get([f"{IF_NAME}.{ifindex}", f"{IF_ALIAS}.{ifindex}"]))
        finally:
            session.close()
            pool.close()
