"""Availability per device and per site over a period, from the `ping` and `snmp_poll` points a
SQLite sink stored: the figure the IOC reports.

A device is *available* in a ping round when it answered the ping, or when the SNMP poll at or
before that round (not older than `snmp_max_age_s`) answered (ICMP may be filtered on the path).
It is *SNMP down*, not down, when it answers ping while its last SNMP poll failed: the box is up,
its agent or credentials are not (`state`). Per site: the mean of its devices' availability (every
device weighs the same, however often it was probed).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

from nocsoc.schema import PING, SNMP_POLL
from nocsoc.sinks.sqlite import SqliteReader

State = Literal["up", "snmp_down", "down", "unknown"]


def state(ping_reachable: bool | None, snmp_reachable: bool | None) -> State:
    """A device's state from its last ping and its last SNMP poll (None: no recent result).

    ping ok + SNMP ok -> up; ping ok + SNMP failed -> snmp_down (the device is up, its agent is
    not answering); ping failed + SNMP ok -> up (ICMP filtered); both failed, or ping failed and
    no SNMP -> down; nothing known -> unknown."""
    if ping_reachable is None and snmp_reachable is None:
        return "unknown"
    if ping_reachable:
        return "snmp_down" if snmp_reachable is False else "up"
    if snmp_reachable:
        return "up"
    return "down"


@dataclass
class DeviceAvailability:
    device: str
    site: str
    samples: int  # ping rounds (or SNMP polls for a device never pinged)
    available: int
    snmp_down: int  # rounds where ping answered and SNMP did not
    last_state: State

    @property
    def availability_pct(self) -> float | None:
        return round(100.0 * self.available / self.samples, 3) if self.samples else None

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "availability_pct": self.availability_pct}


@dataclass
class SiteAvailability:
    site: str
    devices: int
    availability_pct: float | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _series(reader: SqliteReader, measurement: str, since_ns: int, until_ns: int | None
            ) -> dict[str, list[tuple[int, bool, str]]]:
    out: dict[str, list[tuple[int, bool, str]]] = defaultdict(list)
    for row in reader.query(measurement, ["reachable"], since_ns=since_ns, until_ns=until_ns):
        dev = row.tags.get("device")
        if dev is not None and "reachable" in row.fields:
            out[dev].append((row.time_ns, bool(row.fields["reachable"]), row.tags.get("site", "")))
    return out


def device_availability(reader: SqliteReader, since_ns: int, until_ns: int | None = None,
                        snmp_max_age_s: float = 900.0) -> list[DeviceAvailability]:
    """Per device over [since_ns, until_ns): rounds available, rounds SNMP down, last state."""
    pings = _series(reader, PING.name, since_ns, until_ns)
    # SNMP polls from one max-age earlier: the poll that covers the first ping round counts
    snmp = _series(reader, SNMP_POLL.name, since_ns - int(snmp_max_age_s * 1e9), until_ns)
    max_age_ns = int(snmp_max_age_s * 1e9)
    out = []
    for dev in sorted(set(pings) | set(snmp)):
        polls = snmp.get(dev, [])
        times = [t for t, _ok, _s in polls]

        def snmp_at(t: int, polls: list[tuple[int, bool, str]] = polls, times: list[int] = times
                    ) -> bool | None:
            i = bisect.bisect_right(times, t) - 1
            if i < 0 or t - polls[i][0] > max_age_ns:
                return None
            return polls[i][1]

        rounds = pings.get(dev)
        if rounds:
            site = rounds[-1][2]
            available = snmp_down = 0
            for t, ok, _s in rounds:
                st = state(ok, snmp_at(t))
                available += st in ("up", "snmp_down")
                snmp_down += st == "snmp_down"
            last = state(rounds[-1][1], snmp_at(rounds[-1][0]))
            out.append(DeviceAvailability(dev, site, len(rounds), available, snmp_down, last))
        else:
            inside = [p for p in polls if p[0] >= since_ns]
            if not inside:
                continue
            ok_n = sum(ok for _t, ok, _s in inside)
            out.append(DeviceAvailability(dev, inside[-1][2], len(inside), ok_n, 0,
                                          state(None, inside[-1][1])))
    return out


def site_availability(devices: list[DeviceAvailability]) -> list[SiteAvailability]:
    by_site: dict[str, list[float]] = defaultdict(list)
    for d in devices:
        pct = d.availability_pct
        if pct is not None:
            by_site[d.site].append(pct)
    return [SiteAvailability(site, len(v), round(sum(v) / len(v), 3) if v else None)
            for site, v in sorted(by_site.items())]
