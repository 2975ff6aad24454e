"""Known test traffic written as a pcap with scapy: the input softflowd turns into flow exports.

Every source sends a distinct volume, so top-talker rankings have no ties and nfdump's order is
the only correct order.
"""

from __future__ import annotations

from pathlib import Path

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

MAC_A, MAC_B = "02:00:00:00:00:01", "02:00:00:00:00:02"
START = 1_764_000_000.0


def make_pcap(path: Path, hosts: int = 300, v6_hosts: int = 40) -> Path:
    """TCP/UDP conversations between 10.1.0.0/16 clients and a few servers, plus IPv6."""
    pkts = []
    t = START
    servers = ["10.9.0.1", "10.9.0.2", "10.9.0.3", "10.9.0.4"]
    services = [(6, 443), (6, 80), (17, 53), (6, 22)]
    for i in range(1, hosts + 1):
        client = f"10.1.{i // 250}.{i % 250 + 1}"
        server = servers[i % len(servers)]
        proto, port = services[i % len(services)]
        l4 = TCP if proto == 6 else UDP
        for j in range(3 + i % 7):
            up = (
                Ether(src=MAC_A, dst=MAC_B)
                / IP(src=client, dst=server)
                / l4(sport=30000 + i, dport=port)
                / Raw(b"q" * (40 + i))
            )
            down = (
                Ether(src=MAC_B, dst=MAC_A)
                / IP(src=server, dst=client)
                / l4(sport=port, dport=30000 + i)
                / Raw(b"r" * (200 + 7 * i + j))
            )
            for p in (up, down):
                p.time = t
                t += 0.003
                pkts.append(p)
    for i in range(1, v6_hosts + 1):
        for j in range(2 + i % 3):
            p = (
                Ether(src=MAC_A, dst=MAC_B)
                / IPv6(src=f"2001:db8:1::{i:x}", dst="2001:db8:9::1")
                / UDP(sport=40000 + i, dport=53)
                / Raw(b"s" * (30 + 11 * i + j))
            )
            p.time = t
            t += 0.003
            pkts.append(p)
    wrpcap(str(path), pkts)
    return path
