"""The fields of an alert's sample an analyst reads first, by kind of event (Windows for now):
who (user, domain, acting account), from where (workstation, address, logon type), what ran
(process, command line, parent, hashes), on which computer and log. The CLI's `alerts show`
prints them; the console can use the same list."""

from __future__ import annotations

from typing import Any

# label -> event fields that carry it, first present wins (Security, Sysmon and System names)
WINDOWS_EVIDENCE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("event", ("EventID",)),
    ("channel", ("Channel",)),
    ("computer", ("Computer",)),
    ("user", ("TargetUserName", "User", "AccountName", "SamAccountName")),
    ("domain", ("TargetDomainName", "Domain")),
    ("by account", ("SubjectUserName",)),
    ("by domain", ("SubjectDomainName",)),
    ("logon type", ("LogonType",)),
    ("source workstation", ("WorkstationName", "Workstation", "ClientName")),
    ("source ip", ("IpAddress", "SourceIp", "ClientAddress", "SourceAddress")),
    ("destination ip", ("DestinationIp", "DestAddress")),
    ("process", ("Image", "NewProcessName", "ProcessName")),
    ("command line", ("CommandLine",)),
    ("parent process", ("ParentImage", "ParentProcessName")),
    ("parent command line", ("ParentCommandLine",)),
    ("hashes", ("Hashes",)),
    ("service", ("ServiceName",)),
    ("service binary", ("ImagePath",)),
    ("member", ("MemberName", "MemberSid")),
    ("group sid", ("TargetSid",)),
    ("ticket encryption", ("TicketEncryptionType",)),
    ("status", ("Status", "SubStatus")),
)

# https://learn.microsoft.com/en-us/windows/security/threat-protection/auditing/event-4624
LOGON_TYPES = {"2": "Interactive", "3": "Network", "4": "Batch", "5": "Service", "7": "Unlock",
               "8": "NetworkCleartext", "9": "NewCredentials", "10": "RemoteInteractive (RDP)",
               "11": "CachedInteractive", "12": "CachedRemoteInteractive", "13": "CachedUnlock"}

_EMPTY = (None, "", "-")


def _printable(v: Any) -> str:
    """Control characters (a command line can carry ANSI escapes or newlines) as \\xNN."""
    s = str(v)
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in s)


def is_windows(fields: dict[str, Any]) -> bool:
    return "EventID" in fields and ("Channel" in fields or "Provider_Name" in fields)


def windows_evidence(fields: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) for every evidence field the event carries, values made printable."""
    out: list[tuple[str, str]] = []
    for label, names in WINDOWS_EVIDENCE:
        for n in names:
            v = fields.get(n)
            if v not in _EMPTY:
                text = _printable(v)
                if label == "logon type" and text in LOGON_TYPES:
                    text = f"{text} {LOGON_TYPES[text]}"
                out.append((label, text))
                break
    return out
