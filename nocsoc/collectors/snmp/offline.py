"""Poll a recorded walk with the poller's own code: what a profile finds, without a device.

`nocsoc profiles test WALK` and the profile tests use it: one DevicePoller cycle over a
`WalkSession` (see walkfile.py), the same areas and profiles as on the network.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from nocsoc.collectors.snmp import areas, profiles
from nocsoc.collectors.snmp import oids as O
from nocsoc.collectors.snmp.config import SnmpConfig
from nocsoc.collectors.snmp.mibs import text
from nocsoc.collectors.snmp.poller import DevicePoller, PollResult
from nocsoc.collectors.snmp.walkfile import WalkFile, WalkSession
from nocsoc.inventory.model import Device, Role
from nocsoc.schema import Point


@dataclass
class WalkPoll:
    """One offline cycle: the poller (its counters, its matched profile), the result, the points."""

    poller: DevicePoller
    result: PollResult
    points: list[Point]
    walk: WalkFile


def poll_walk(
    path: Path,
    profile: str | None = None,
    user_dir: Path | None = None,
    config: SnmpConfig | None = None,
    name: str = "walk",
) -> WalkPoll:
    """Poll the recording at `path` once; `profile` forces a profile instead of the match.

    Raises ProfileError for a profile that does not load or does not exist, OSError for a file
    that cannot be read."""
    walk = WalkFile.load(path)
    catalog = profiles.catalog(user_dir)
    device = Device(name=name, address="127.0.0.1", role=Role.ACCESS, site="walk", profile="walk")
    poller = DevicePoller(device, None, config or SnmpConfig(), profiles_dir=user_dir)
    if profile is not None:
        if profile not in catalog.profiles:
            raise profiles.ProfileError(
                f"no profile {profile!r} (known: {', '.join(sorted(catalog.profiles))})"
            )
        p = catalog.profiles[profile]
        oid = text(walk.get(tuple(int(x) for x in O.SYS_OBJECT_ID.split(".")))).lstrip(".")
        descr = text(walk.get(tuple(int(x) for x in O.SYS_DESCR.split("."))))
        poller.system = areas.System(oid, descr)
        poller.matched = profiles.Match(p, catalog.tables_of(p), profiles.MatchRule(sys_object_id="1"))
    session = WalkSession(walk, name)
    result = poller._result()
    points = asyncio.run(poller._collect(session, result, rates=False))
    result.ok = True
    result.points = len(points)
    return WalkPoll(poller, result, points, walk)
