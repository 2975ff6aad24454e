"""`bus.url`: one scheme (nats or kafka) and a comma list of host:port, parsed once."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"nats": 4222, "kafka": 9092}


@dataclass(frozen=True)
class BusUrl:
    scheme: str
    hosts: tuple[tuple[str, int], ...]

    def servers(self) -> list[str]:
        """`nats://host:port` per server (nats-py), or `host:port` (Kafka bootstrap)."""
        if self.scheme == "nats":
            return [f"nats://{h}:{p}" for h, p in self.hosts]
        return [f"{h}:{p}" for h, p in self.hosts]


def parse_bus_url(url: str) -> BusUrl:
    """`nats://a:4222,nats://b:4222`, `nats://a:4222,b:4222` or `kafka://k1:9092,k2`.
    Raises ValueError naming the part that is wrong."""
    parts = [p.strip() for p in url.split(",") if p.strip()]
    if not parts:
        raise ValueError("empty bus url")
    scheme = None
    hosts = []
    for part in parts:
        if "://" not in part:
            if scheme is None:
                raise ValueError(f"{part!r}: no scheme (nats:// or kafka://)")
            part = f"{scheme}://{part}"
        sp = urlsplit(part)
        if sp.scheme not in DEFAULT_PORTS:
            raise ValueError(f"{part!r}: scheme must be nats or kafka, not {sp.scheme or 'none'!r}")
        if scheme is not None and sp.scheme != scheme:
            raise ValueError(f"{part!r}: mixes {scheme} and {sp.scheme}")
        scheme = sp.scheme
        if sp.username or sp.password:
            raise ValueError(f"{part!r}: credentials do not belong in the url (use bus.kafka or nats creds)")
        try:
            port = sp.port or DEFAULT_PORTS[scheme]
        except ValueError:
            raise ValueError(f"{part!r}: bad port") from None
        if not sp.hostname:
            raise ValueError(f"{part!r}: no host")
        hosts.append((sp.hostname, port))
    assert scheme is not None
    return BusUrl(scheme, tuple(hosts))
