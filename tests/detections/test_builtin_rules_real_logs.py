"""The built-in pack on real device logs: SEKOIA's intake samples in ../shared/log-samples (real
lines from FortiGate, Cisco IOS/NX-OS/ASA, Juniper, OpenSSH, Apache, nginx, IIS, firewalls),
each parsed by the real parser registry and run through the engine with every built-in rule.

The expected table names, per sample, the rules of the device/auth/web packs that must match it;
every other sample (the benign ones: successful logins, traffic, ordinary web requests, IPS
detect-only, DLP, ...) must match none of them. Each entry says what the sample is, from its
own text (FortiGate `logdesc`/`subtype`/`action`, Cisco mnemonic or ASA message number)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nocsoc.collectors.logs.parsers import LineParser
from nocsoc.detections.engine import Engine
from nocsoc.detections.loader import load_rules
from tests.collectors.logs.golden import FORMATS, NOW, cases
from tests.conftest import SHARED

# the rule files this table covers (the Windows pack has its own real-data test)
PACKS = ("web_attacks.yml", "linux_auth.yml", "netdev.yml", "fortigate.yml", "firewall_portscan.yml",
         "ssh_auth.yml")

CISCO_LOGIN_FAILED = "0f9ad9f4-a109-4763-acab-f40893048e44"
CONFIG_CHANGE = "58dd4728-96f7-46fd-939d-b8eab7a14784"
LOCKOUT = "e5bbcb19-39f6-4da7-8f79-05238f766461"
FGT_ADMIN_FAILED = "06eee0d6-388e-4dd9-a16b-64b62d6e27b5"
FGT_ADMIN_LOCKOUT = "95ef4a24-aab6-42f2-83d9-c58d53688ffa"
FGT_VPN_FAILED = "153afa9f-4af3-4462-aebe-a9fbcc95d4f9"
FGT_IPS = "a5d9656c-3c63-491f-8075-35e2c5fd9640"
FGT_AV = "b67ab6ba-f35d-4293-81aa-b37e649aac0d"
SSH_FAILED = "deaecc11-f7f1-4a67-81a5-b56ea9d570c3"
SSH_ACCEPTED = "b698cc80-41bd-4727-8fdc-a49e61f4e16e"
SSH_INVALID = "a6cfbcb7-7b47-403f-8bf0-7a0272594889"
FW_BLOCKED = "fcb5712f-c78e-40e9-b7f0-cf4947efad77"
WEB_4XX = "8b52d148-e222-4196-9381-a4e3a1349619"

EXPECTED: dict[tuple[str, str], set[str]] = {
    # FortiGate: logid 32002 "Admin login failed", 32021 "Admin login disabled", 39426 "SSL VPN
    # login fail"; subtype ips with a blocking action; subtype virus, action blocked
    ("fortigate", "event_log_system_subtype.CEF"): {FGT_ADMIN_FAILED},
    ("fortigate", "ssh_access.CEF"): {FGT_ADMIN_LOCKOUT},
    ("fortigate", "vpn_login_failed.STANDARD"): {FGT_VPN_FAILED},
    ("fortigate", "vpn_na_ip.STANDARD"): {FGT_VPN_FAILED},
    ("fortigate", "IPS.CEF"): {FGT_IPS},  # reset
    ("fortigate", "attack_client_side"): {FGT_IPS},  # reset
    ("fortigate", "attack_server_side"): {FGT_IPS},  # reset
    ("fortigate", "malicious_url_blocked"): {FGT_IPS},  # dropped
    ("fortigate", "test_sql_injection"): {FGT_IPS},  # dropped
    ("fortigate", "test_standard"): {FGT_IPS},  # dropped (Heartbleed)
    ("fortigate", "test_xss_blocked"): {FGT_IPS},  # dropped
    ("fortigate", "antivirus.CEF"): {FGT_AV},
    ("fortigate", "antivirus.CEF-2"): {FGT_AV},
    ("fortigate", "app_ctrl_2"): {FGT_AV},  # a virus log (0211008192) despite its name
    # FortiGate traffic logs with a deny action
    # Cisco IOS / NX-OS / ASA
    ("cisco-ios", "test_auth_failed_1"): {CISCO_LOGIN_FAILED},  # DMI-5-AUTHENTICATION_FAILED
    ("cisco-ios", "test_auth_failed_2"): {CISCO_LOGIN_FAILED},  # SYS-5-PRIV_AUTH_FAIL
    ("cisco-ios", "test_login_failed_2"): {CISCO_LOGIN_FAILED},  # SEC_LOGIN-4-LOGIN_FAILED
    ("cisco-ios", "test_login_failed_with_tz"): {CISCO_LOGIN_FAILED},
    ("cisco-ios", "test_login_quiet_mode_on"): {LOCKOUT},  # SEC_LOGIN-1-QUIET_MODE_ON
    ("cisco-ios", "test_config_1"): {CONFIG_CHANGE},  # SYS-5-CONFIG_I
    ("cisco-ios", "test_config_2"): {CONFIG_CHANGE},  # SYS-5-CONFIG_P
    ("cisco-ios", "test_logged_cmd_1"): {CONFIG_CHANGE},  # PARSER-5-CFGLOG_LOGGEDCMD
    ("cisco-nx-os", "test_authpriv"): {CISCO_LOGIN_FAILED},  # pam_aaa:Authentication failed
    ("cisco-nx-os", "test_vshd_syslog_config"): {CONFIG_CHANGE},
    ("cisco-nx-os", "test_vshd_syslog_config2"): {CONFIG_CHANGE},
    ("cisco-secure-firewall", "test_ASA_113005"): {CISCO_LOGIN_FAILED},  # AAA authentication Rejected
    ("cisco-secure-firewall", "test_ASA_716039"): {CISCO_LOGIN_FAILED},  # WebVPN authentication rejected
    # OpenSSH: every failed_* / accepted_* line feeds the existing SSH correlations
    ("openssh", "accepted_gssapi-with-mic"): {SSH_ACCEPTED},
    ("openssh", "accepted_google_authenticator"): {SSH_ACCEPTED},
    ("openssh", "accepted_password"): {SSH_ACCEPTED},
    ("openssh", "accepted_publickey"): {SSH_ACCEPTED},
    ("openssh", "accepted_publickey_2"): {SSH_ACCEPTED},
    # `Accepted key RSA ... found at` (accepted_rsa, accepted_rsa_2; event_type key_found) only says
    # the key is in authorized_keys: the login's `Accepted publickey` line is the one success
    ("openssh", "failed_none"): {SSH_FAILED},
    ("openssh", "failed_password"): {SSH_FAILED},
    ("openssh", "failed_password_redacted"): {SSH_FAILED},
    ("openssh", "invalid_user"): {SSH_INVALID},  # Invalid user jdoe from HOST port P
    ("openssh", "invalid_user2"): {SSH_INVALID},  # input_userauth_request: invalid user jdoe [preauth]
    ("openssh", "invalid_user_redacted"): {SSH_INVALID},
    ("juniper-ngfw", "sshd_failed_password"): {SSH_FAILED},
}
# firewall lines the parsers mark blocked (base of the port-scan and host-sweep correlations): the
# deny/drop/reject/block verdicts of each format. FortiGate's samples have none: their traffic logs
# end accept/close/timeout/client-rst/server-rst/ip-conn, sessions the policy allowed.
BLOCKED = {
    *(("cisco-secure-firewall", c) for c in ("test_106001", "test_106006", "test_430003", "test_ASA_106012",
                                              "test_ASA_106015", "test_ASA_106023", "test_ASA_313005",
                                              "test_ASA_313008")),
    ("cisco-ios", "test_ip_access_log_2"),  # SEC-6-IPACCESSLOGS ... denied
    ("juniper-ngfw", "RT_FLOW_SESSION_DENY_STRUCTURED"),
    *(("juniper-switches", c) for c in ("test_network_1_1", "test_network_1_2", "test_network_2")),  # discard
    ("paloalto-ngfw", "traffic_cef"), ("paloalto-ngfw", "udp_deny_csv"),
    *(("sophos-firewall", c) for c in ("denied_connection", "denied_connection_2", "utm_drop")),
    *(("checkpoint", c) for c in ("CEF_drop", "CEF_drop_1", "CEF_reject", "Generic_tcp_drop", "Syslog")),
    ("openbsd-packet-filter", "test_icmp_request_04"),
    ("openbsd-packet-filter", "test_ingest_ipv4_carp_logs"),
    ("netfilter", "action-name"), ("netfilter", "action_long"),
}
# real web requests answered 4xx (base of the scanner-behaviour count)
WEB_CLIENT_ERRORS = {
    ("apache", "access_failure_1"), ("apache", "access_failure_2"),  # 404
    ("nginx", "json_combined_http_error"),  # 400
    ("nginx", "json_get_failed_graylog"),  # 404
    ("nginx", "json_get_ip"),  # 403
}


def _pack_rule_ids(rs: object) -> set[str]:
    from nocsoc.detections.loader import RuleSet

    assert isinstance(rs, RuleSet)
    ids = {r.id for r in rs.rules if Path(r.path).name in PACKS}
    assert len(ids) >= 25
    return ids


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, str], set[str]]:
    root = SHARED / "log-samples"
    if not (root / "sekoia").is_dir():
        pytest.skip(f"{root}/sekoia not present (shared material sits beside the project)")
    rs = load_rules([], include_builtin=True)
    ours = _pack_rule_ids(rs)
    out: dict[tuple[str, str], set[str]] = {}
    for fmt in FORMATS:
        for case in cases(root, fmt):
            ev = LineParser(default_host="collector").events(case.line, now=NOW)[0]
            engine = Engine(rs)
            engine.process(ev)
            out[(fmt, case.name)] = {rid for rid, n in engine.rule_hits.items() if n and rid in ours}
    return out


def test_builtin_rules_match_real_device_logs(results: dict[tuple[str, str], set[str]]) -> None:
    got = {k: v - {FW_BLOCKED, WEB_4XX} for k, v in results.items() if v - {FW_BLOCKED, WEB_4XX}}
    assert got == EXPECTED


def test_base_rules_on_real_lines(results: dict[tuple[str, str], set[str]]) -> None:
    assert {k for k, v in results.items() if FW_BLOCKED in v} == BLOCKED
    assert {k for k, v in results.items() if WEB_4XX in v} == WEB_CLIENT_ERRORS
    # none of the 30 real web samples (ordinary requests) trips a web attack rule
    web = {k: v for k, v in results.items() if k[0] in ("apache", "nginx", "microsoft-iis")}
    assert len(web) == 30 and all(v <= {WEB_4XX} for v in web.values())
