"""OpenSSH messages, every form from OpenSSH 4 to 9 -> user, src_ip, src_port, outcome, event_type.

Before 7.5 many messages carry no port (`Invalid user X from IP`, `Connection closed by IP`),
some say `illegal user`; `Disconnected from`/`Connection closed by` name the user since 7.5;
`reverse mapping ... POSSIBLE BREAK-IN ATTEMPT` names the address in brackets. The address part
is therefore `IP` with an optional ` port N`, and a host name where sshd logs one (UseDNS) goes to
`src_host`, not `src_ip`. A `user@domain` (Kerberos/SSSD) is split into user and user_domain.
PAM lines under sshd go to the PAM parser (linux_auth)."""

from __future__ import annotations

import re

from nocsoc.collectors.logs.parsers.base import Parsed, digits
from nocsoc.collectors.logs.parsers.registry import ParserSpec
from nocsoc.logsources import LogSource

_IP = r"[0-9A-Fa-f:.]*[0-9A-Fa-f](?:%\w+)?"
_HOSTORIP = r"(?P<ip>[\w.:%-]+)"
_PORT = r"(?: port (?P<port>\d+))?"
_USER = r"(?P<user>\S*)"
_KIND = r"(?:(?P<invalid>invalid|illegal) |authenticating )?user "

_P: list[tuple[str, str, str]] = [  # (regex, event_type, outcome)
    (
        r"Accepted (?P<method>\S+) for " + _USER + r" from " + _HOSTORIP + _PORT + r"(?: ssh\d?|$|:)",
        "accepted",
        "success",
    ),
    (r"Accepted (?P<method>\S+) for " + _USER + r"\s*$", "accepted", "success"),
    # VERBOSE: the offered key is in authorized_keys (logged for the client's key query and again
    # for its signed request); only `Accepted publickey for ...` says the login succeeded
    (r"Accepted key (?P<keytype>\S+) (?P<key>\S+) found at (?P<keyfile>.*)", "key_found", "unknown"),
    # auth_log's third verdict: one method of several (AuthenticationMethods) passed, not the login
    (r"Partial (?P<method>\S+) for " + _USER + r" from " + _HOSTORIP + _PORT, "partial", "unknown"),
    (
        r"Failed (?P<method>\S+) for (?:(?P<invalid>invalid|illegal) user )?"
        + r"(?P<user>.*?) from "
        + _HOSTORIP
        + _PORT
        + r"(?: ssh\d?|$)",
        "failed",
        "failure",
    ),
    (
        r"(?:Invalid|Illegal) user (?P<user>.*?) from " + _HOSTORIP + _PORT + r"\s*$",
        "invalid_user",
        "failure",
    ),
    (r"input_userauth_request: (?P<invalid>invalid|illegal) user (?P<user>\S*)", "invalid_user", "failure"),
    (
        r"maximum authentication attempts exceeded for (?:(?P<invalid>invalid|illegal) user )?"
        + _USER
        + " from "
        + _HOSTORIP
        + _PORT
        + r"(?: ssh\d?|$| \[)",
        "max_attempts",
        "failure",
    ),
    (
        r"Disconnecting (?:(?P<invalid>invalid|illegal) |authenticating )?user "
        + _USER
        + " "
        + _HOSTORIP
        + _PORT
        + r": (?P<reason>[^\[]*)",
        "disconnecting",
        "failure",
    ),
    (
        r"Connection closed by "
        + _KIND
        + r"(?:(?P<user>\S+) )??"
        + _HOSTORIP
        + _PORT
        + r"(?: \[preauth\])?$",
        "preauth_closed",
        "failure",
    ),
    (r"Connection closed by " + _HOSTORIP + _PORT + r"(?: \[preauth\])?\s*$", "closed", "unknown"),
    (r"Disconnected from " + _KIND + _USER + " " + _HOSTORIP + _PORT, "disconnected", "unknown"),
    (r"Disconnected from " + _HOSTORIP + _PORT + r"(?: \[preauth\])?\s*$", "disconnected", "unknown"),
    (r"Received disconnect from " + _HOSTORIP + _PORT + r":", "disconnect", "unknown"),
    (r"Connection reset by (?:" + _KIND + _USER + " )?" + _HOSTORIP + _PORT, "reset", "unknown"),
    (
        r"Connection from " + _HOSTORIP + _PORT + r" on (?P<dst>" + _IP + r") port (?P<dport>\d+)",
        "connection",
        "unknown",
    ),
    (r"Did not receive identification string from " + _HOSTORIP + _PORT, "no_ident", "failure"),
    (
        r"Bad protocol version identification .* from " + _HOSTORIP + _PORT + r"\s*$",
        "bad_protocol",
        "failure",
    ),
    (r"Timeout before authentication for (?:connection from )?" + _HOSTORIP + _PORT, "timeout", "failure"),
    (r"Unable to negotiate with " + _HOSTORIP + _PORT + r":", "negotiation_failed", "failure"),
    (r"Connection from " + _HOSTORIP + _PORT + r": (?P<reason>.*)", "connection_error", "failure"),
    (r"User " + _USER + " from " + _HOSTORIP + r" not allowed because", "not_allowed", "failure"),
    (r"Postponed (?P<method>\S+) for " + _USER + " from " + _HOSTORIP + _PORT, "postponed", "unknown"),
    (r"Starting session: .* for " + _USER + " from " + _HOSTORIP + _PORT, "session_start", "success"),
    (
        r"reverse mapping checking getaddrinfo for \S+ \[(?P<ip>" + _IP + r")\] failed",
        "possible_breakin",
        "failure",
    ),
    (r"Address (?P<ip>" + _IP + r") maps to \S+, but this does not map back", "possible_breakin", "failure"),
    (
        r"PAM: Authentication failure for (?:(?P<invalid>illegal|invalid) user )?"
        + _USER
        + " from "
        + _HOSTORIP
        + r"\s*$",
        "failed",
        "failure",
    ),
    (r"User (?P<user>\S+) not allowed because", "not_allowed", "failure"),
    (r"User child is on pid (?P<childpid>\d+)", "child", "unknown"),
]
_PATTERNS = [(re.compile(rx), kind, outcome) for rx, kind, outcome in _P]
# patterns by the message's first word (each starts with a literal one): one dict lookup picks
# the two or three worth trying instead of scanning all of them
_BY_WORD: dict[str, list[tuple[re.Pattern[str], str, str]]] = {}
for _pat, _kind, _out in _PATTERNS:
    _first = _pat.pattern.split(" ", 1)[0]
    _words = _first[3:-1].split("|") if _first.startswith("(?:") else [_first.split("(", 1)[0].rstrip(":")]
    for _w in _words:
        _BY_WORD.setdefault(_w, []).append((_pat, _kind, _out))
_IS_IP = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+)$")
_JUNOS_TAG = re.compile(r"[A-Z][A-Z0-9]*_[A-Z0-9_]+: ")


_EVENT_TYPES: dict[tuple[str, str], str] = {}  # (kind, method) -> `failed_password`, ...


def _split_user(user: str) -> tuple[str, str | None]:
    if "@" in user and not user.startswith("@"):
        u, _, d = user.partition("@")
        return u, d
    return user, None


def parse_sshd(msg: str, app: str = "sshd", state: object = None) -> Parsed | None:
    """An sshd message body into Sigma-style auth fields (every sshd line is an sshd event)."""
    if "pam_" in msg[:40] or msg.startswith(("PAM ", " PAM ")):
        return None  # PAM under sshd: linux_auth's
    if msg[:2].isupper() and _JUNOS_TAG.match(msg):
        return None  # Junos sshd writes `SSHD_LOGIN_FAILED: ...`: the junos parser's
    body = msg.strip()
    if body.startswith("error: ") or body.startswith("fatal: "):
        body = body[7:]
    services = ("sshd", "auth", "syslog")
    word = body.split(" ", 1)[0]
    while word.endswith(":") and word[:-1] not in _BY_WORD:  # `error: `, `fatal: `, `ssh_dispatch...: `
        body = body[len(word) :].lstrip()
        word = body.split(" ", 1)[0]
    for pattern, kind, outcome in _BY_WORD.get(word.rstrip(":"), ()):
        m = pattern.match(body)
        if m is None:
            continue
        gd = m.groupdict()
        fields: dict[str, object] = {"event_type": kind, "outcome": outcome, "message": msg}
        user = gd.get("user")
        if user and user != "*****":
            if "@" in user:
                u, dom = _split_user(user)
                fields["user"] = u
                if dom:
                    fields["user_domain"] = dom
            else:
                fields["user"] = user
        elif kind == "child":
            fields["user"] = "child"
        ip = gd.get("ip")
        if ip:
            if ":" in ip or (ip[-1].isdigit() and ip.replace(".", "").isdigit()):
                fields["src_ip"] = ip[7:] if ip.startswith("::ffff:") and "." in ip else ip
            else:
                fields["src_host"] = ip
        if gd.get("port"):
            fields["src_port"] = digits(gd["port"])
        if gd.get("dst"):
            fields["dst_ip"] = gd["dst"]
            fields["dst_port"] = digits(gd["dport"])
        method = gd.get("method")
        if method:
            fields["auth_method"] = method
            if kind in ("accepted", "failed"):
                et = _EVENT_TYPES.get((kind, method))
                if et is None:
                    et = f"{kind}_{method.split('/')[0].replace('-', '_')}"
                    if len(_EVENT_TYPES) < 1024:
                        _EVENT_TYPES[(kind, method)] = et
                fields["event_type"] = et
        if gd.get("invalid") or kind == "invalid_user":
            fields["invalid_user"] = True
        if gd.get("keyfile"):
            fields["key_type"], fields["key_fingerprint"] = gd["keytype"], gd["key"]
            fields["key_file"] = gd["keyfile"].strip()
        if gd.get("reason"):
            fields["reason"] = gd["reason"].strip()
        return Parsed("sshd", fields, "linux", services)
    return Parsed("sshd", {"event_type": "other", "message": msg}, "linux", services)


def _spec_parse(msg: str, app: str, state: object) -> Parsed | None:
    return parse_sshd(msg, app, state)


_SSH_PROGRAMS = ("sshd", "sshd-session", "sshd-auth", "sshd-keygen")

PARSERS = [
    ParserSpec(
        "sshd",
        _spec_parse,
        (LogSource("linux", ("sshd", "auth", "syslog")),),
        programs=_SSH_PROGRAMS,
        order=10,
        fast="sshd",  # _logfast.c sshd_body: most forms (sshd_classic, sshd_more), and `other`
        description="OpenSSH server messages (old port-less and new forms)",
    ),
]
