"""A small packet-header walker: the flow of a sampled frame or IP header.

Used for IPFIX dataLinkFrameSection (IE 315) and ipHeaderPacketSection (IE 313), and for sFlow's
sampled raw headers. It reads Ethernet, 802.1Q / 802.1ad (QinQ) tags, MPLS label stacks (IPv4 or
IPv6 guessed from the first nibble after the bottom of stack, as routers do), IPv4, IPv6 with its
extension headers (hop-by-hop, routing, fragment, destination options, AH), then TCP, UDP and SCTP
ports (ICMP: none), and optionally decapsulates VXLAN (UDP 4789) to report the inner flow, keeping the outer
addresses as the tunnel.

WHY hand-written, not dpkt/scapy: it runs once per record of such templates (a Juniper or EVPN
exporter sends only frame sections) and scapy dissects ~12k headers/s, dpkt a few times more;
this reads only the dozen fields a flow needs from the bytes, and its input is untrusted, so
every read is bounds-checked and anything it cannot follow raises HeaderError (counted, dropped).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

ETHERNET, IPV4, IPV6 = 1, 11, 12  # where a section starts (sFlow header protocol numbers)

_ETH_IPV4, _ETH_IPV6, _ETH_VLAN, _ETH_QINQ, _ETH_QINQ_OLD = 0x0800, 0x86DD, 0x8100, 0x88A8, 0x9100
_ETH_MPLS = (0x8847, 0x8848)
_V6_EXTENSIONS = {0, 43, 44, 60, 51}  # hop-by-hop, routing, fragment, destination options, AH
_VXLAN_PORT = 4789
_MAX_DEPTH = 2  # one VXLAN decapsulation at most (an inner VXLAN is reported as it is)
_HH = struct.Struct("!HH")


class HeaderError(ValueError):
    """A section that cannot be walked (names what and where)."""


@dataclass(slots=True)
class Walked:
    """The flow a header section describes. Addresses are 4 (IPv4) or 16 (IPv6) bytes;
    `ip_length` is the IP packet's length as its header states it (IPv6: payload + 40)."""

    ip_version: int
    src: bytes
    dst: bytes
    sport: int
    dport: int
    proto: int
    ip_length: int
    tunnel_src: bytes = b""  # the outer addresses of a decapsulated VXLAN packet
    tunnel_dst: bytes = b""


def walk(data: bytes, start: int = ETHERNET, vxlan: bool = False) -> Walked | None:
    """The flow of `data`, a section starting at an Ethernet (ETHERNET) or IP (IPV4, IPV6) header;
    None when it holds no IP packet (ARP, LLDP...). Raises HeaderError when it is cut short or
    malformed before the addresses."""
    return _walk(data, 0, start, vxlan, 0)


def _walk(data: bytes, pos: int, start: int, vxlan: bool, depth: int) -> Walked | None:
    if start == ETHERNET:
        ethertype, pos = _ethernet(data, pos)
        if ethertype in _ETH_MPLS:
            pos = _mpls(data, pos)
            if pos >= len(data):
                raise HeaderError(f"MPLS payload missing at offset {pos}")
            nibble = data[pos] >> 4
            ethertype = _ETH_IPV4 if nibble == 4 else _ETH_IPV6 if nibble == 6 else -1
        if ethertype == _ETH_IPV4:
            start = IPV4
        elif ethertype == _ETH_IPV6:
            start = IPV6
        else:
            return None
    if start == IPV4:
        got = _ipv4(data, pos)
    elif start == IPV6:
        got = _ipv6(data, pos)
    else:
        raise HeaderError(f"header protocol {start} is not Ethernet, IPv4 or IPv6")
    if got is None:
        return None
    flow, l4 = got
    # ICMP (1, 58) and others: no ports (0, as the NetFlow records of the same packets say)
    if l4 is not None and flow.proto in (6, 17, 132):  # TCP, UDP, SCTP: ports first
        if l4 + 4 <= len(data):
            flow.sport, flow.dport = _HH.unpack_from(data, l4)
        if (
            vxlan
            and flow.proto == 17
            and flow.dport == _VXLAN_PORT
            and depth < _MAX_DEPTH
            and l4 + 16 <= len(data)
            and data[l4 + 8] & 0x08  # VXLAN flags: I (a valid VNI)
        ):
            inner = _walk(data, l4 + 16, ETHERNET, vxlan, depth + 1)  # UDP 8 + VXLAN 8
            if inner is not None:
                inner.tunnel_src, inner.tunnel_dst = flow.src, flow.dst
                return inner
    return flow


def _ethernet(data: bytes, pos: int) -> tuple[int, int]:
    if pos + 14 > len(data):
        raise HeaderError(f"Ethernet header cut short at offset {pos}")
    ethertype = data[pos + 12] << 8 | data[pos + 13]
    pos += 14
    for _ in range(4):  # 802.1Q, QinQ (802.1ad, and the old 0x9100): up to 4 tags
        if ethertype not in (_ETH_VLAN, _ETH_QINQ, _ETH_QINQ_OLD):
            break
        if pos + 4 > len(data):
            raise HeaderError(f"VLAN tag cut short at offset {pos}")
        ethertype = data[pos + 2] << 8 | data[pos + 3]
        pos += 4
    return ethertype, pos


def _mpls(data: bytes, pos: int) -> int:
    for _ in range(16):  # label stack entries until bottom of stack
        if pos + 4 > len(data):
            raise HeaderError(f"MPLS label cut short at offset {pos}")
        bottom = data[pos + 2] & 0x01
        pos += 4
        if bottom:
            return pos
    raise HeaderError("MPLS label stack deeper than 16")


def _ipv4(data: bytes, pos: int) -> tuple[Walked, int | None] | None:
    if pos + 20 > len(data):
        raise HeaderError(f"IPv4 header cut short at offset {pos}")
    if data[pos] >> 4 != 4:
        raise HeaderError(f"IPv4 header at offset {pos} says version {data[pos] >> 4}")
    ihl = (data[pos] & 0x0F) * 4
    if ihl < 20:
        raise HeaderError(f"IPv4 header length {ihl} at offset {pos}")
    total = data[pos + 2] << 8 | data[pos + 3]
    frag_offset = (data[pos + 6] & 0x1F) << 8 | data[pos + 7]
    flow = Walked(4, data[pos + 12 : pos + 16], data[pos + 16 : pos + 20], 0, 0, data[pos + 9], total)
    if frag_offset:  # a later fragment: no transport header
        return flow, None
    return flow, pos + ihl


def _ipv6(data: bytes, pos: int) -> tuple[Walked, int | None] | None:
    if pos + 40 > len(data):
        raise HeaderError(f"IPv6 header cut short at offset {pos}")
    if data[pos] >> 4 != 6:
        raise HeaderError(f"IPv6 header at offset {pos} says version {data[pos] >> 4}")
    plen = data[pos + 4] << 8 | data[pos + 5]
    nh = data[pos + 6]
    flow = Walked(6, data[pos + 8 : pos + 24], data[pos + 24 : pos + 40], 0, 0, nh, plen + 40)
    p = pos + 40
    for _ in range(8):  # extension headers, each naming the next
        if nh not in _V6_EXTENSIONS:
            break
        if p + 8 > len(data):
            flow.proto = nh
            return flow, None  # cut inside the extension headers: the addresses are still right
        nxt = data[p]
        if nh == 44:  # fragment: fixed 8 bytes; a later fragment has no transport header
            later = (data[p + 2] << 8 | data[p + 3]) & 0xFFF8
            nh, p = nxt, p + 8
            if later:
                flow.proto = nh
                return flow, None
            continue
        size = (data[p + 1] + 2) * 4 if nh == 51 else (data[p + 1] + 1) * 8
        nh, p = nxt, p + size
    flow.proto = nh
    return flow, p
