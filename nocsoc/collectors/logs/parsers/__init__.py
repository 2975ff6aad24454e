"""Turn one log line into a LogEvent: syslog header first, then the body by its program/shape.

Dispatch is by program name where syslog gives one, else by the shape of the line. A line no
parser recognises still becomes an event (parser `unparsed`, its message in `message`) so it
is stored, counted and reachable by keyword rules with an empty logsource.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any

from nocsoc.collectors.logs.parsers.auditd import AuditdParser
from nocsoc.collectors.logs.parsers.base import Parsed
from nocsoc.collectors.logs.parsers.firewall import parse_netfilter
from nocsoc.collectors.logs.parsers.netdev import parse_cisco, parse_fortigate, parse_junos
from nocsoc.collectors.logs.parsers.sshd import parse_sshd
from nocsoc.collectors.logs.parsers.web import parse_access
from nocsoc.collectors.logs.syslog import SyslogMessage, parse_syslog
from nocsoc.events import LogEvent

_LINUX_AUTH_APPS = ("sshd", "sshd-session", "sudo", "su", "login", "systemd-logind", "cron", "CRON")
_WEB_APPS = ("nginx", "apache", "apache2", "httpd")
_JUNOS_APPS = ("mgd", "rpd", "mib2d", "chassisd", "dcd", "sshd", "eventd", "jlaunchd")


class LineParser:
    """Parses lines from one input. Stateful only for auditd (SYSCALL -> EXECVE enrichment)."""

    def __init__(self, tz: tzinfo = UTC, default_host: str | None = None) -> None:
        self.tz = tz
        self.default_host = default_host or socket.gethostname()
        self.auditd = AuditdParser()

    def _body(self, sm: SyslogMessage) -> Parsed | None:
        msg, app = sm.msg, sm.app
        if "%" in msg:
            p = parse_cisco(msg)
            if p is not None:
                return p
        # a Junos tag starts with two of [A-Z0-9_] after a capital: "Failed ..." never is one
        if msg[:2].isupper() and (app in _JUNOS_APPS or "_" in msg[:24]):
            p = parse_junos(msg, app)
            if p is not None:
                return p
        if app.startswith("sshd") or "pam_unix(" in msg:
            return parse_sshd(msg, app)
        if app == "kernel" or "IN=" in msg:
            p = parse_netfilter(msg)
            if p is not None:
                return p
        if msg.startswith("type=") or app in ("audispd", "audisp-syslog", "auditd", "audit"):
            p = self.auditd.parse(msg)
            if p is not None:
                return p
        if app in _WEB_APPS or '" ' in msg:
            p = parse_access(msg, app)
            if p is not None:
                return p
        if "logid=" in msg:
            p = parse_fortigate(msg)
            if p is not None:
                return p
        if app:
            # A program we have no parser for on a Linux host: generic syslog (SigmaHQ
            # `service: syslog` and program-named services such as `cron` match it).
            svc = app.lower()
            return Parsed("syslog", {"message": msg, "program": app}, "linux",
                           (svc, "syslog") if svc != "syslog" else ("syslog",))
        return None

    def _event(self, raw: str, p: Parsed | None, host: str, t: float, source: str,
               extra: dict[str, Any] | None = None) -> LogEvent:
        if p is None:
            fields: dict[str, Any] = {"message": raw}
            if extra:
                fields.update(extra)
            return LogEvent(raw, fields, host=host, time=t, source=source)
        if extra:
            for k, v in extra.items():
                p.fields.setdefault(k, v)
        return LogEvent(raw, p.fields, host=p.host or host, time=p.time if p.time is not None else t,
                        product=p.product, services=p.services, categories=p.categories,
                        parser=p.parser, source=source)

    def parse_syslog(self, data: str, *, sender: str = "", source: str = "syslog",
                     now: datetime | None = None) -> LogEvent:
        """A message received over the network (or a line of a syslog-format file)."""
        sm = parse_syslog(data, sender=sender, now=now, tz=self.tz)
        try:
            p = self._body(sm)
        except Exception:  # a parser bug must never stop ingestion: the line stays, unparsed
            p = None
        extra: dict[str, Any] = {"program": sm.app} if sm.app else {}
        if sm.pid:
            extra["pid"] = sm.pid
        if sm.structured:
            for sd_id, params in sm.structured.items():
                for k, v in params.items():
                    extra[f"{sd_id}.{k}"] = v
        return self._event(data.rstrip("\r\n"), p, sm.host or sender or self.default_host, sm.time,
                           source, extra)

    def parse_line(self, line: str, *, source: str = "file", now: datetime | None = None) -> LogEvent:
        """A line of a file: audit.log, access.log, FortiGate kv, or syslog-format (auth.log...)."""
        line = line.rstrip("\r\n")
        p: Parsed | None = None
        try:
            if line.startswith("type="):
                p = self.auditd.parse(line)
            elif line[:1].isdigit() or line[:1] == ":":
                p = parse_access(line) if '"' in line else None
                if p is None and "logid=" in line:
                    p = parse_fortigate(line)
            elif line.startswith("date=") and "logid=" in line:
                p = parse_fortigate(line)
        except Exception:
            p = None
        if p is not None:
            t = (now or datetime.now(UTC)).timestamp() if p.time is None else p.time
            return self._event(line, p, self.default_host, t, source)
        return self.parse_syslog(line, sender=self.default_host, source=source, now=now)


def json_event(line: str, *, source: str = "json", product: str | None = None,
               services: tuple[str, ...] = (), categories: tuple[str, ...] = (),
               default_host: str = "", now: float = 0.0) -> LogEvent:
    """One JSON object per line: its keys are the fields; logsource from the input's config
    (or a `logsource` object in the line). Raises ValueError on a line that is not an object."""
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise ValueError("JSON line is not an object")
    ls = obj.pop("logsource", None)
    if isinstance(ls, dict):
        product = ls.get("product", product)
        svc, cat = ls.get("service"), ls.get("category")
        services = (svc,) if svc else services
        categories = (cat,) if cat else categories
    host = str(obj.get("host") or obj.get("hostname") or obj.get("Hostname") or default_host)
    t = now
    for key in ("@timestamp", "timestamp", "time"):
        v = obj.get(key)
        if isinstance(v, int | float):
            t = float(v)
            break
        if isinstance(v, str):
            try:
                t = datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()
                break
            except ValueError:
                pass
    return LogEvent(line.rstrip("\r\n"), obj, host=host, time=t, product=product, services=services,
                    categories=categories, parser="json", source=source)


ParseFn = Callable[[str], LogEvent]

__all__ = ["LineParser", "ParseFn", "json_event"]
