"""OpenSSH and PAM authentication messages -> user, src_ip, outcome, event_type."""

from __future__ import annotations

import re

from nocsoc.collectors.logs.parsers.base import Parsed

_ADDR = r"(?P<ip>[0-9A-Fa-f:.]+) port (?P<port>\d+)"
_PATTERNS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"Failed (?P<method>password|publickey|keyboard-interactive/pam|none) for "
                r"(?P<invalid>invalid user )?(?P<user>.*?) from " + _ADDR), "failed", "failure"),
    (re.compile(r"Accepted (?P<method>password|publickey|keyboard-interactive/pam|gssapi-with-mic) "
                r"for (?P<user>\S+) from " + _ADDR), "accepted", "success"),
    (re.compile(r"Invalid user (?P<user>.*?) from " + _ADDR), "invalid_user", "failure"),
    (re.compile(r"Connection closed by (?:authenticating|invalid) user (?P<user>\S*) " + _ADDR
                + r" \[preauth\]"), "preauth_closed", "failure"),
    (re.compile(r"Disconnected from (?:authenticating |invalid )?user (?P<user>\S*) " + _ADDR),
     "disconnected", "unknown"),
    (re.compile(r"Received disconnect from " + _ADDR), "disconnect", "unknown"),
    (re.compile(r"maximum authentication attempts exceeded for (?P<invalid>invalid user )?"
                r"(?P<user>\S+) from " + _ADDR), "max_attempts", "failure"),
]
_PAM = re.compile(r"pam_unix\((?P<svc>[\w-]+):(?P<kind>auth|session|account)\): (?P<what>[^;]+)")
_PAM_KV = re.compile(r"\b(rhost|user|ruser|logname|tty)=(\S*)")
_PAM_SESSION = re.compile(r"session (?P<state>opened|closed) for user (?P<user>[^\s(]+)")


def parse_sshd(msg: str, app: str) -> Parsed | None:
    """sshd lines (and PAM lines under any program) into Sigma-style auth fields."""
    services = ("sshd", "auth", "syslog") if app.startswith("sshd") else (app or "auth", "auth", "syslog")
    mp = _PAM.search(msg) if "pam_unix(" in msg else None
    if mp:
        kv = dict(_PAM_KV.findall(msg))
        what = mp["what"].strip()
        fields: dict[str, object] = {"event_type": "pam_" + what.replace(" ", "_"),
                                     "pam_service": mp["svc"], "message": msg}
        if "failure" in what:
            fields["outcome"] = "failure"
        ms = _PAM_SESSION.search(msg)
        if ms:
            fields["user"] = ms["user"]
            fields["event_type"] = "session_" + ms["state"]
        if kv.get("user"):
            fields["user"] = kv["user"]
        if kv.get("rhost"):
            fields["src_ip"] = kv["rhost"]
        return Parsed("pam", fields, "linux", services)
    if not app.startswith("sshd"):
        return None
    for pattern, kind, outcome in _PATTERNS:
        m = pattern.search(msg)
        if m:
            gd = m.groupdict()
            fields = {"event_type": kind, "outcome": outcome, "user": gd.get("user") or "",
                      "src_ip": gd["ip"], "src_port": int(gd["port"]), "message": msg}
            if gd.get("method"):
                fields["auth_method"] = gd["method"]
                fields["event_type"] = f"{kind}_{gd['method'].split('/')[0].replace('-', '_')}"
            if kind == "invalid_user" or gd.get("invalid"):
                fields["invalid_user"] = True
            return Parsed("sshd", fields, "linux", services)
    return Parsed("sshd", {"event_type": "other", "message": msg}, "linux", services)
