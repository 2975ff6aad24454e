"""IANA Private Enterprise Numbers of the vendors met on a provincial backbone and data center.

The arc after 1.3.6.1.4.1 in a device's sysObjectID is its vendor's enterprise number, assigned
by IANA (https://www.iana.org/assignments/enterprise-numbers). Vendor names here are the short
lower-case names nocsoc writes in the `vendor` tag; several numbers can name one vendor (Dell and
its Force10 line, Eaton and MGE, H3C and its old Huawei-3Com number, Fortinet's one number for
FortiGate and FortiSwitch).
"""

from __future__ import annotations

import re

ENTERPRISES: dict[int, str] = {
    9: "cisco",
    11: "hpe",  # Hewlett-Packard (ProCurve/Aruba-OS switches, iLO)
    43: "3com",
    171: "dlink",
    232: "hpe",  # Compaq (HPE servers' Insight agents)
    311: "microsoft",
    318: "apc",  # American Power Conversion (Schneider Electric)
    534: "eaton",  # Powerware / Eaton
    674: "dell",
    705: "eaton",  # MGE UPS Systems (Eaton)
    890: "zyxel",
    935: "vertiv",  # Liebert / Emerson Network Power
    1588: "brocade",
    1916: "extreme",
    1991: "brocade",  # Foundry Networks
    2011: "huawei",
    2604: "sophos",
    2620: "checkpoint",
    2636: "juniper",
    3224: "juniper",  # NetScreen
    3375: "f5",
    3902: "zte",
    4413: "ubiquiti",  # Broadcom FASTPATH, as Ubiquiti EdgeSwitch reports it
    4881: "ruijie",
    5624: "extreme",  # Enterasys
    6027: "dell",  # Force10 Networks (Dell Networking OS9)
    6486: "alcatel-lucent",
    6876: "vmware",
    8072: "net-snmp",
    10002: "ubiquiti",  # Frogfoot / Ubiquiti airOS
    11863: "tp-link",
    12356: "fortinet",
    14823: "aruba",  # Aruba Networks (controllers, APs)
    14988: "mikrotik",
    21067: "sophos",  # Sophos XG / Cyberoam
    25461: "paloalto",
    25506: "h3c",
    30065: "arista",
    41112: "ubiquiti",
    47196: "hpe-aruba",  # Aruba CX switches
}


def enterprise_of(sys_object_id: str) -> int | None:
    m = re.match(r"^\.?1\.3\.6\.1\.4\.1\.(\d+)", sys_object_id)
    return int(m.group(1)) if m else None


def vendor_of(sys_object_id: str, sys_descr: str = "") -> str:
    """The vendor of a sysObjectID ("" when the enterprise is not listed); net-snmp agents are
    "linux" when the sysDescr says Linux."""
    number = enterprise_of(sys_object_id)
    vendor = ENTERPRISES.get(number, "") if number is not None else ""
    if vendor == "net-snmp":
        return "linux" if "linux" in sys_descr.lower() else "net-snmp"
    return vendor
