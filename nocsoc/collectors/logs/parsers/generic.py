"""The fallback for a syslog message with a program name no parser claims: generic Linux syslog.

SigmaHQ `service: syslog` rules and program-named services (`cron`, ...) match it: the event's
services are its program name and `syslog`. Not dispatched by shape (no markers): `LineParser`
calls it when nothing else parsed the message."""

from __future__ import annotations

from nocsoc.collectors.logs.parsers.base import Parsed
from nocsoc.collectors.logs.parsers.registry import ParserSpec
from nocsoc.logsources import ANY, LogSource


def parse_generic(msg: str, app: str, state: object = None) -> Parsed | None:
    if not app:
        return None
    svc = app.lower()
    return Parsed("syslog", {"message": msg, "program": app}, "linux",
                  (svc, "syslog") if svc != "syslog" else ("syslog",))


PARSERS = [
    ParserSpec("syslog", parse_generic,
               (LogSource("linux", (ANY, "syslog")), LogSource("linux", ("syslog",)),
                LogSource("linux", ("cron", "syslog"))),
               order=1000, description="any other program on a Linux host"),
]
