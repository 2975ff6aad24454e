"""netfilter LOG lines write LEN twice for UDP: the IP header's (the packet's size) after DST and
UDP's own after DPT (the kernel's nf_log format). The packet's size is the first (issue 16,
SEKOIA's action_long)."""

from __future__ import annotations

from tests.collectors.logs.test_parser_findings import parse, pick, sample


def test_udp_packet_size_is_the_ip_length() -> None:
    ev = parse(sample("netfilter", "action_long"))
    assert pick(ev, "length", "udp_length", "source.bytes", "src_port", "dst_port") == (
        132, 112, 132, 61829, 65267)


def test_tcp_and_udp_lines_written_as_the_kernel_does() -> None:
    tcp = parse("<4>Nov 25 01:02:03 fw1 kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e SRC=203.0.113.9 "
                "DST=198.51.100.2 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=5 DF PROTO=TCP SPT=40000 DPT=22 "
                "WINDOW=64240 RES=0x00 SYN URGP=0")
    assert pick(tcp, "length", "udp_length", "source.bytes") == (60, None, 60)
    udp6 = parse("<4>Nov 25 01:02:03 fw1 kernel: DROP IN=eth0 OUT= SRC=2001:db8::1 DST=2001:db8::2 "
                 "LEN=76 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=UDP SPT=5353 DPT=53 LEN=36")
    assert pick(udp6, "length", "udp_length", "source.bytes", "network_protocol") == (76, 36, 76, "udp")
