"""What the alert detail says about the alert's addresses: GeoIP country and AS (the flows'
MaxMind-format files, `flows.geoip_country_db` / `geoip_asn_db`), and the bandwidth of the
target's interfaces (the inventory's links, the SQLite sink's interface rates around the alert).

Each answer that cannot be given says why (no database configured, a private address, not in
the inventory, no rates stored for that window): an analyst must tell "unknown" from "none".
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nocsoc.inventory.model import Device, Inventory
from nocsoc.schema import INTERFACE

log = logging.getLogger(__name__)

# reasons: keys of the console's catalogues (nocsoc/web/i18n/*.yaml)
NO_DB, NOT_IP, NOT_FOUND, NON_PUBLIC, DB_ERROR = (
    "geo_no_db",
    "geo_not_ip",
    "geo_not_found",
    "geo_non_public",
    "geo_db_error",
)
NOT_INVENTORY, NO_SINK, NO_RATES, NO_LINKS = ("bw_not_inventory", "bw_no_sink", "bw_no_rates", "bw_no_links")


@dataclass
class AddressInfo:
    address: str
    country: str | None = None
    asn: str | None = None
    as_org: str | None = None
    scope: str = ""  # private | loopback | link-local | multicast | reserved, for a non-public one
    reason: str = ""  # why country and AS are unknown (a catalogue key), "" when known

    @property
    def known(self) -> bool:
        return bool(self.country or self.asn)


def _scope(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    for attr, name in (
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
        ("is_unspecified", "reserved"),
    ):
        if getattr(ip, attr):
            return name
    return ""


class GeoLookup:
    """Country and AS of an address from the configured files, opened at first use (a broken
    file is said on the page and logged once, never a failed page)."""

    def __init__(self, country_db: Path | None, asn_db: Path | None) -> None:
        self.country_db, self.asn_db = country_db, asn_db
        self._geo: Any = None
        self._error = ""
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        return bool(self.country_db or self.asn_db)

    def _open(self) -> Any:
        with self._lock:
            if self._geo is None and not self._error:
                from nocsoc.collectors.flows.geoip import GeoIp, GeoIpError

                try:
                    self._geo = GeoIp(self.country_db, self.asn_db)
                except GeoIpError as exc:
                    self._error = str(exc)
                    log.warning("console: GeoIP: %s", exc)
            return self._geo

    def info(self, address: str) -> AddressInfo:
        out = AddressInfo(address)
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            out.reason = NOT_IP
            return out
        out.scope = _scope(ip)
        if not self.configured:
            out.reason = NO_DB
            return out
        geo = self._open()
        if geo is None:
            out.reason = DB_ERROR
            return out
        out.country, out.asn = geo.lookup(str(ip))
        out.as_org = geo.as_org(str(ip)) if out.asn else None
        if not out.known:
            out.reason = NON_PUBLIC if out.scope else NOT_FOUND
        return out

    def close(self) -> None:
        if self._geo is not None:
            self._geo.close()


@dataclass
class PortLoad:
    """One interface's rates around the alert: the peaks and the last reading in the window."""

    device: str
    ifname: str
    link: str
    side: str  # "own": the target's interface; "peer": the far end of its link, facing it
    speed_mbps: int | None = None
    peak_in_bps: float | None = None
    peak_out_bps: float | None = None
    peak_util_pct: float | None = None
    last_in_bps: float | None = None
    last_out_bps: float | None = None
    oper_status: int | None = None
    samples: int = 0


@dataclass
class TargetBandwidth:
    target: str
    device: Device | None = None
    ports: list[PortLoad] = field(default_factory=list)
    reason: str = ""  # why nothing is shown (a catalogue key)
    since: float = 0.0
    until: float = 0.0


def _num(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


class Bandwidth:
    """The target's interfaces (inventory) and their rates (the SQLite sink at `sink_db`)."""

    def __init__(self, inventory: Inventory, sink_db: Path | None, max_window_s: float = 3 * 3600.0) -> None:
        self.sink_db = sink_db
        self.max_window_s = max_window_s
        self.devices = {d.name: d for d in inventory.devices} | {d.address: d for d in inventory.devices}
        # device -> [(its interface, link, the far device, its interface)]
        self.links: dict[str, list[tuple[str, str, str, str]]] = {}
        for lk in inventory.links:
            for end, far in ((lk.a, lk.b), (lk.b, lk.a)):
                entry = (end.interface, lk.name, far.device, far.interface)
                self.links.setdefault(end.device, []).append(entry)

    def of(
        self, targets: Iterable[str], first_seen: float, last_seen: float, margin_s: float = 900.0
    ) -> TargetBandwidth:
        """The first of `targets` (destination address, then host) that is an inventory device;
        its linked interfaces and their far ends, with their rates from `first_seen - margin_s`
        to `last_seen + margin_s` (at most `max_window_s`, the end of it)."""
        names = [t for t in targets if t]
        until = last_seen + margin_s
        since = max(first_seen - margin_s, until - self.max_window_s)
        out = TargetBandwidth(names[0] if names else "", since=since, until=until)
        dev = next((self.devices[t] for t in names if t in self.devices), None)
        if dev is None:
            out.reason = NOT_INVENTORY
            return out
        out.device, out.target = dev, next(t for t in names if t in self.devices)
        wanted = [PortLoad(dev.name, ifn, link, "own") for ifn, link, _, _ in self.links.get(dev.name, [])]
        wanted += [PortLoad(peer, pif, link, "peer") for _, link, peer, pif in self.links.get(dev.name, [])]
        if self.sink_db is None or not self.sink_db.exists():
            out.ports, out.reason = wanted, NO_SINK
            return out
        from nocsoc.sinks.sqlite import SqliteReader

        reader = SqliteReader(self.sink_db)
        fields = [INTERFACE.f(x) for x in ("in_bps", "out_bps", "in_util_pct", "out_util_pct", "speed_mbps",
                                            "oper_status")]
        rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for name in dict.fromkeys([dev.name, *(p.device for p in wanted)]):
            window = (int(since * 1e9), int(until * 1e9))
            for row in reader.query(INTERFACE.name, fields, {"device": name}, *window):
                rows.setdefault((name, row.tags.get("ifname", "")), []).append(row.fields)
        if not wanted:  # on no inventory link: its busiest interfaces, if it is polled

            def peak(fields: list[dict[str, Any]]) -> float:
                return max((_num(f.get("in_bps")) or 0.0) + (_num(f.get("out_bps")) or 0.0) for f in fields)

            own = [(k, v) for k, v in rows.items() if k[0] == dev.name]
            busiest = sorted(own, key=lambda kv: -peak(kv[1]))[:5]
            wanted = [PortLoad(dev.name, ifn, "", "own") for (_, ifn), _ in busiest]
        for p in wanted:
            seen = rows.get((p.device, p.ifname), [])
            p.samples = sum(1 for f in seen if "in_bps" in f)
            for f in seen:
                for attr, keys in (
                    ("peak_in_bps", ("in_bps",)),
                    ("peak_out_bps", ("out_bps",)),
                    ("peak_util_pct", ("in_util_pct", "out_util_pct")),
                ):
                    vals = [v for k in keys if (v := _num(f.get(k))) is not None]
                    if vals:
                        setattr(p, attr, max([*vals, getattr(p, attr) or 0.0]))
                if _num(f.get("in_bps")) is not None:
                    p.last_in_bps, p.last_out_bps = _num(f.get("in_bps")), _num(f.get("out_bps"))
                if f.get("speed_mbps") is not None:
                    p.speed_mbps = int(f["speed_mbps"])
                if f.get("oper_status") is not None:
                    p.oper_status = int(f["oper_status"])
        out.ports = wanted
        if not wanted:
            out.reason = NO_LINKS
        elif not any(p.samples for p in wanted):
            out.reason = NO_RATES
        return out
