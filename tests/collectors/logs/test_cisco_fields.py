"""Cisco ASA/FTD fields re-read against Cisco's message definitions (issue 16, golden misses):
certificate users (717xxx), the address a VPN session is assigned (722051), FTD file events'
URI (430004/430005). On SEKOIA's real lines where ../shared has them, else on lines written as
Cisco's syslog reference gives the message."""

from __future__ import annotations

import pytest

from tests.collectors.logs.test_parser_findings import parse, pick, sample


@pytest.mark.parametrize(
    ("line", "user"),
    [
        # 717037, relayed without its tag (SEKOIA test_group_9)
        ("Tunnel group search using certificate maps failed for peer certificate: serial number: "
         "111111111111111111111111, subject name: UID=U11111111,CN=JOHN DOE,OU=Unit,O=URAAA,C=US, "
         "issuer_name: CN=Admin,OU=Unit,O=Example,C=US.", "JOHN DOE"),
        ("%ASA-6-717022: Certificate was successfully validated. serial number: 0A1B, subject name: "
         "CN=nguyen.van.a,OU=VPN,O=So TTTT,C=VN.", "nguyen.van.a"),
        ("%ASA-3-717009: Certificate validation failed. Peer certificate key usage is invalid, serial "
         "number: 0A1B, subject name: CN=tran.b,O=Example.", "tran.b"),
        # a subject without a CN names no user
        ("%ASA-6-717022: Certificate was successfully validated. serial number: 0A1B, subject name: "
         "O=Example,C=VN.", None),
    ],
)
def test_certificate_messages_name_the_subjects_cn_as_user(line: str, user: str | None) -> None:
    ev = parse(line)
    assert (ev.parser, ev.fields.get("user")) == ("cisco_asa", user)


def test_sekoia_certificate_sample() -> None:
    ev = parse(sample("cisco-secure-firewall", "test_group_9"))
    assert pick(ev, "user") == ("JOHN DOE",)


@pytest.mark.parametrize(
    ("name", "src", "nat"),
    [
        ("test_group_1_2", "2.2.2.2", "1.1.1.1"),  # IPv4 assigned
        ("test_group_1_3", "1.1.1.1", "fe80:11:2233:4455:6677:8899:aabb:ccdd"),  # IPv6 only, RFC 5952
        ("test_FTD_722051_1", "2.2.2.2", "1.1.1.1"),
    ],
)
def test_vpn_session_public_address_is_the_source_the_assigned_one_its_translation(
        name: str, src: str, nat: str) -> None:
    ev = parse(sample("cisco-secure-firewall", name))
    assert pick(ev, "src_ip", "source.nat.ip", "user", "group") == (src, nat, "Username", "EXAMPLE")


def test_ftd_file_event_uri() -> None:
    ev = parse(sample("cisco-secure-firewall", "test_430005"))
    assert pick(ev, "src_ip", "dst_port", "c-uri", "network_protocol") == (
        "2.2.2.2", 80, "http://www.example.org/download/eicar_com.zip", "tcp")
    ev = parse("%FTD-6-430004: SrcIP: 192.0.2.5, DstIP: 198.51.100.7, SrcPort: 51000, DstPort: 443, "
               "Protocol: tcp, FileDirection: Upload, FileAction: Block, FileName: a.exe, "
               "URI: https://files.example.net/up")
    assert pick(ev, "src_ip", "dst_ip", "c-uri") == ("192.0.2.5", "198.51.100.7", "https://files.example.net/up")


@pytest.mark.parametrize("name", ["test_group_4", "test_group_10"])
def test_task_ran_for_relayed_without_tag_is_asa(name: str) -> None:
    """711004 (`Task ran for N msec, Process = ...`), a body only ASA writes."""
    ev = parse(sample("cisco-secure-firewall", name))
    assert (ev.parser, ev.product, ev.services) == ("cisco_asa", "cisco", ("asa", "syslog"))
