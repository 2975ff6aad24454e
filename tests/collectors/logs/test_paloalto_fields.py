"""PAN-OS fields the golden comparison missed (issue 16), on SEKOIA's real lines: GlobalProtect and
SCTP users in CEF, SYSTEM event descriptions (admin actions, DHCP renewals, URL cloud election,
update-server connections), THREAT's HTTP method and user agent, and the `x-fwd-for:` placeholder
PAN-OS writes where no user is mapped."""

from __future__ import annotations

import pytest

from tests.collectors.logs.test_parser_findings import parse, pick, sample


@pytest.mark.parametrize(
    ("name", "names", "values"),
    [
        ("globalprotect_cef", ("user",), ("xxxxx",)),
        ("sctp_cef", ("user", "src_ip", "src_port"), ("xxxxx", "1.1.1.1", 3033)),
        ("test_web_authentication_json", ("user", "src_ip"), ("admin", "1.2.3.4")),
        ("test_upgrade_package_json", ("user", "src_ip"), ("admin", None)),
        ("test_system_event_3_json", ("src_ip", "user"), ("1.2.3.4", None)),
        ("test_system_event_7_json", ("src_ip", "user"), ("1.2.3.4", None)),
        ("test_dhcp_renew_json", ("src_ip", "dst_ip"), ("1.2.3.4", "1.2.3.1")),
        ("test_system_event_12_json", ("src_ip", "dst_ip"), ("1.2.3.4", "1.2.3.1")),
        ("test_cloud_election_json", ("dst_ip", "dst_host", "src_ip"),
         ("1.2.3.4", "serverlist2.urlcloud.paloaltonetworks.com", None)),
        ("test_system_event_14", ("user", "src_ip", "dst_ip"), ("john.doe", "5.6.7.8", "1.2.3.4")),
    ],
)
def test_sekoia_lines(name: str, names: tuple[str, ...], values: tuple[object, ...]) -> None:
    ev = parse(sample("paloalto-ngfw", name))
    assert (ev.parser, *pick(ev, *names)) == ("paloalto", *values)


def test_threat_http_fields_and_the_xff_placeholder_is_no_user() -> None:
    ev = parse(sample("paloalto-ngfw", "threat-url-xff"))
    assert pick(ev, "cs-method", "c-useragent", "xff", "user", "src_user", "src_ip") == (
        "get", "Mozilla/4.0 (compatible; ms-office; MSOffice 16)", "11.22.33.44", None, None, "10.0.0.2")
    ev = parse(sample("paloalto-ngfw", "test_threat"))
    assert pick(ev, "cs-method", "c-useragent", "user") == (None, None, None)


def test_admin_action_by_system_names_no_user() -> None:
    line = ('{"LogType":"SYSTEM","Subtype":"general","EventName":"general","EventDescription":'
            '"Content package upgraded from version 8671-7826 to 8676-7858 by system"}')
    ev = parse(line)
    assert (ev.parser, ev.fields.get("user")) == ("paloalto", None)
