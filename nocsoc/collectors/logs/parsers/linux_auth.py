"""Linux authentication and account messages: PAM (any module, any kind), sudo, su, useradd /
groupadd / usermod / userdel, passwd and chpasswd -> user, target_user, src_ip, outcome, event_type.

PAM lines are `pam_MODULE(SERVICE:KIND): text` under any program; old Red Hat (RHEL 4/5) wrote
them as `sshd(pam_unix)[pid]: authentication failure; ... rhost=IP user=root` with the module in
the program name. On those systems that line is the only record of a failed SSH password, so it
is a `failed_password` event of the sshd service (the brute-force rules count it); a modern
`pam_unix(sshd:auth)` failure comes beside sshd's own `Failed password` line and stays
`pam_authentication_failure`, so one attempt is never counted twice."""

from __future__ import annotations

import re

from nocsoc.collectors.logs.parsers.base import Guarded, Parsed
from nocsoc.collectors.logs.parsers.registry import ParserSpec
from nocsoc.logsources import ANY, LogSource

_PAM = re.compile(r"(?P<mod>pam_\w+)\((?P<svc>[\w.-]+):(?P<kind>\w+)\):?\s*(?P<what>.*)")
_PAM_KV = re.compile(r"\b(rhost|user|ruser|logname|tty|uid|euid)=(\S*)")
_SESSION = re.compile(
    r"session (?P<state>opened|closed) for user (?P<user>[^\s(]+)(?:\(uid=\d+\))?"
    r"(?: by (?P<by>[^\s(]*))?"
)
_FOR_USER = re.compile(r"(?:for user|for|user) '?(?P<user>[^\s';,]+)'?")
# searched only where their literal is (~2 us of a PAM line)
_PAM_KV_G, _FOR_USER_G = Guarded(_PAM_KV, ("=",)), Guarded(_FOR_USER, ("for", "user"))
_NON_WORD = re.compile(r"\W+")
# each byte: a space for every ASCII character `\W` matches, the others kept (event_name)
_ASCII_NON_WORD = bytes(c if chr(c).isalnum() or chr(c) == "_" else 32 for c in range(256))
_IS_IP = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+)$")

_SUDO = re.compile(
    r"^\s*(?P<user>\S+) : (?:(?P<what>[^;]*?) ; )?TTY=(?P<tty>[^;]*) ; PWD=(?P<pwd>[^;]*) ; "
    r"USER=(?P<target>[^;]*?) ;(?: GROUP=[^;]* ;)?(?: ENV=[^;]* ;)? COMMAND=(?P<cmd>.*)$"
)
_SUDO_SHORT = re.compile(r"^\s*(?P<user>\S+) : (?P<what>.*?)(?: ; |$)")
_SU = [
    (re.compile(r"^FAILED su for (?P<target>\S+) by (?P<user>\S+)"), "su_failed", "failure"),
    (re.compile(r"^Successful su for (?P<target>\S+) by (?P<user>\S+)"), "su", "success"),
    (re.compile(r"^\(to (?P<target>\S+)\) (?P<user>\S+) on (?P<tty>\S+)"), "su", "success"),
    (re.compile(r"^(?P<sign>[+-]) (?P<tty>\S+) (?P<user>[^:\s]+):(?P<target>\S+)"), "su", ""),
]
_ACCOUNT = [
    (re.compile(r"^new user: name=(?P<target>[^,]+)"), "user_added"),
    (re.compile(r"^new group: name=(?P<group>[^,]+)"), "group_added"),
    (re.compile(r"^group added to \S+: name=(?P<group>[^,]+)"), "group_added"),
    (re.compile(r"^delete user '(?P<target>[^']+)'"), "user_deleted"),
    (re.compile(r"^removed group '(?P<group>[^']+)'"), "group_deleted"),
    (re.compile(r"^group '(?P<group>[^']+)' removed"), "group_deleted"),
    (re.compile(r"^add '(?P<target>[^']+)' to (?:shadow )?group '(?P<group>[^']+)'"), "user_added_to_group"),
    (
        re.compile(r"^delete '(?P<target>[^']+)' from (?:shadow )?group '(?P<group>[^']+)'"),
        "user_removed_from_group",
    ),
    (re.compile(r"^change user '(?P<target>[^']+)' (?P<what>\w+)"), "user_changed"),
    (
        re.compile(r"^password (?:for '(?P<target>[^']+)' )?changed(?: by '(?P<user>[^']+)')?"),
        "password_changed",
    ),
    (re.compile(r"^changed password expiry for (?P<target>\S+)"), "password_changed"),
]
_ACCOUNT_APPS = (
    "useradd",
    "userdel",
    "usermod",
    "groupadd",
    "groupdel",
    "groupmod",
    "passwd",
    "chpasswd",
    "chage",
    "gpasswd",
    "newusers",
    "adduser",
    "deluser",
)


def event_name(low: str) -> str:
    """`pam_` + the head's words joined by `_`, at most 48 characters (`\\W+` -> `_`, `_` stripped
    at the ends). An ASCII head goes by `bytes.translate` (every non-word character to a space),
    `split` and `join`: the same text, where the regex substitution tried every position at
    ~300 instructions a character (~16k of a PAM line's ~55k); any other by the regex."""
    if low.isascii():
        return b"_".join(low.encode().translate(_ASCII_NON_WORD).split()).decode().strip("_")[:48]
    return _NON_WORD.sub("_", low).strip("_")[:48]


def _services(app: str) -> tuple[str, ...]:
    svc = app.lower() if app else "auth"
    return (svc, "auth", "syslog") if svc != "auth" else ("auth", "syslog")


def parse_pam(msg: str, app: str, state: object = None) -> Parsed | None:
    m = _PAM.search(msg)
    old_rhel = m is None and app.endswith(")") and "(pam_" in app
    if m is None and not old_rhel and not msg.startswith("PAM "):
        return None
    if old_rhel:
        prog, _, mod = app[:-1].partition("(")
        svc, kind, what = prog, "", msg.strip()
    elif m is not None:
        mod, svc, kind, what = m["mod"], m["svc"], m["kind"], m["what"].strip()
        prog = app or svc
    else:
        mod, svc, kind, what, prog = "pam", app or "", "", msg[4:].strip(), app
    kv = dict(_PAM_KV_G.findall(what))
    head = what.split(";", 1)[0].strip()
    low = head.lower()
    fields: dict[str, object] = {
        "event_type": "pam_" + event_name(low),
        "pam_module": mod,
        "pam_service": svc,
        "message": msg,
    }
    if kind:
        fields["pam_kind"] = kind
    if (
        "failure" in low
        or "fail" in low
        or "unable" in low
        or "faulty" in low
        or "ignoring max" in low
        or "locked" in low
        or "unknown" in low
        or "denied" in low
    ):
        fields["outcome"] = "failure"
    ms = _SESSION.search(what)
    if ms:
        fields["user"] = ms["user"]
        fields["event_type"] = "session_" + ms["state"]
        fields["outcome"] = "success"
        if ms["by"]:
            fields["src_user"] = ms["by"]
    elif kv.get("user"):
        fields["user"] = kv["user"]
    elif "check pass; user unknown" in what:
        fields["user"] = "unknown"
    else:
        mu = _FOR_USER_G.search(head)
        if mu:
            fields["user"] = mu["user"]
    if "granted access" in low:
        fields["outcome"] = "success"
    user = fields.get("user")
    if isinstance(user, str) and "@" in user:
        u, _, dom = user.partition("@")
        fields["user"], fields["user_domain"] = u, dom
    for k in ("logname", "ruser", "tty", "uid", "euid"):
        if kv.get(k):
            fields[k] = kv[k]
    rhost = kv.get("rhost", "")
    if rhost:
        fields["src_ip" if _IS_IP.match(rhost) else "src_host"] = rhost
    services = _services(prog)
    if old_rhel and prog.startswith("sshd") and low.startswith("authentication failure"):
        fields["event_type"] = "failed_password"
        services = ("sshd", "auth", "syslog")
    return Parsed("pam", fields, "linux", services)


def parse_sudo(msg: str, app: str, state: object = None) -> Parsed | None:
    if "pam_" in msg[:24]:
        return parse_pam(msg, app)
    m = _SUDO.match(msg)
    fields: dict[str, object] = {"message": msg}
    if m is not None:
        what = (m["what"] or "").strip()
        fields.update(
            {
                "user": m["user"],
                "target_user": m["target"].strip(),
                "tty": m["tty"].strip(),
                "CurrentDirectory": m["pwd"].strip(),
                "CommandLine": m["cmd"].strip(),
            }
        )
        if not what:
            fields["event_type"], fields["outcome"] = "sudo_command", "success"
        else:
            fields["reason"] = what
            fields["outcome"] = "failure"
            low = what.lower()
            fields["event_type"] = (
                "sudo_not_in_sudoers"
                if "not in sudoers" in low
                else "sudo_auth_failure"
                if "incorrect password" in low
                else "sudo_denied"
                if "not allowed" in low
                else "sudo_error"
            )
    else:
        ms = _SUDO_SHORT.match(msg)
        if ms is None:
            return None
        fields.update(
            {"user": ms["user"], "reason": ms["what"], "event_type": "sudo_error", "outcome": "failure"}
        )
    return Parsed("sudo", fields, "linux", _services(app or "sudo"))


def parse_su(msg: str, app: str, state: object = None) -> Parsed | None:
    if "pam_" in msg[:24]:
        return parse_pam(msg, app)
    for rx, kind, outcome in _SU:
        m = rx.match(msg.strip())
        if m is not None:
            gd = m.groupdict()
            if gd.get("sign"):
                outcome = "success" if gd["sign"] == "+" else "failure"
            fields: dict[str, object] = {
                "event_type": kind if outcome != "failure" else "su_failed",
                "outcome": outcome,
                "user": gd["user"],
                "target_user": gd["target"],
                "message": msg,
            }
            if gd.get("tty"):
                fields["tty"] = gd["tty"]
            return Parsed("su", fields, "linux", _services(app or "su"))
    return None


def parse_account(msg: str, app: str, state: object = None) -> Parsed | None:
    if "pam_" in msg[:24]:
        return parse_pam(msg, app)
    body = msg.strip()
    for rx, kind in _ACCOUNT:
        m = rx.match(body)
        if m is not None:
            gd = m.groupdict()
            fields: dict[str, object] = {"event_type": kind, "outcome": "success", "message": msg}
            if gd.get("target"):
                fields["target_user"] = gd["target"]
            if gd.get("group"):
                fields["group"] = gd["group"]
            if gd.get("user"):
                fields["user"] = gd["user"]
            return Parsed("account", fields, "linux", _services(app))
    return None


_AUTH = LogSource("linux", (ANY, "auth", "syslog"))
PARSERS = [
    ParserSpec(
        "pam",
        parse_pam,
        (_AUTH, LogSource("linux", ("sshd", "auth", "syslog"))),
        markers=("pam_",),
        prefixes=("PAM ",),
        programs=("sshd(pam_unix)",),
        order=20,
        description="PAM module messages under any program; old Red Hat `prog(pam_unix)` tags",
    ),
    ParserSpec(
        "sudo",
        parse_sudo,
        (LogSource("linux", ("sudo", "auth", "syslog")),),
        programs=("sudo",),
        order=30,
        description="sudo commands, refusals, not-in-sudoers",
    ),
    ParserSpec(
        "su",
        parse_su,
        (LogSource("linux", ("su", "auth", "syslog")),),
        programs=("su",),
        order=30,
        description="su switches and failures",
    ),
    ParserSpec(
        "account",
        parse_account,
        (_AUTH,),
        programs=_ACCOUNT_APPS,
        order=30,
        description="useradd, groupadd, usermod, userdel, passwd, chpasswd",
    ),
]
