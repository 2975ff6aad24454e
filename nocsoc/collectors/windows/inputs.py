"""The live Windows inputs of the log pipeline: their receivers, the parsing of their documents
on the engine thread, and a report per sender (documents that are no Windows event, oversized
ones, channels no rule logsource maps), written as `windows_input` self-metrics."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from nocsoc.collectors.listen import start_all
from nocsoc.collectors.windows.config import WindowsInputsConfig
from nocsoc.collectors.windows.documents import document_event
from nocsoc.collectors.windows.report import InputReport
from nocsoc.collectors.windows.servers import (
    NxlogTcpServer,
    NxlogUdpServer,
    Submit,
    SubmitWait,
    WinlogbeatServer,
)
from nocsoc.collectors.windows.tls import server_context
from nocsoc.events import LogEvent
from nocsoc.paths import resolve_path
from nocsoc.schema.core import Point
from nocsoc.schema.selfmetrics import WINDOWS_INPUT

log = logging.getLogger(__name__)
SOURCES = ("winlogbeat", "nxlog_tcp", "nxlog_udp")


class WindowsInputs:
    def __init__(self, config: WindowsInputsConfig, submit: Submit, submit_wait: SubmitWait,
                 max_message: int = 65536, max_connections: int = 256, base_dir: Path | None = None) -> None:
        """`base_dir`: where relative TLS file paths start (nocsoc.yaml's directory)."""
        self.config = config
        tls = config.winlogbeat_tls if config.winlogbeat else None
        ssl_ctx = server_context(tls, lambda p: resolve_path(base_dir, p)) if tls is not None else None
        self.winlogbeat = (WinlogbeatServer(config.winlogbeat, submit_wait, max_message, config.max_window,
                                            config.ack_timeout_s, max_connections, ssl_ctx,
                                            tls.handshake_timeout_s if tls is not None else 10.0)
                           if config.winlogbeat else None)
        self.nxlog_tcp = (NxlogTcpServer(config.nxlog_tcp, submit, max_message, max_connections)
                          if config.nxlog_tcp else None)
        self.nxlog_udp = NxlogUdpServer(config.nxlog_udp, submit, max_message) if config.nxlog_udp else None
        self.reports: dict[tuple[str, str], InputReport] = {}  # engine thread only
        self._warned: set[tuple[str, str]] = set()

    @property
    def servers(self) -> list[Any]:
        return [s for s in (self.winlogbeat, self.nxlog_tcp, self.nxlog_udp) if s is not None]

    def start(self) -> None:
        start_all(self.servers)  # one that cannot bind leaves none of the others listening

    def stop(self, timeout: float = 5.0) -> None:
        for s in self.servers:
            s.stop(timeout)

    def _report(self, source: str, sender: str) -> InputReport:
        key = (source, sender)
        rep = self.reports.get(key)
        if rep is None:
            if len(self.reports) >= self.config.max_senders:
                key = (source, "other")
                rep = self.reports.get(key)
            if rep is None:
                rep = self.reports[key] = InputReport(f"{source} {key[1]}")
        return rep

    def parse(self, text: str, sender: str, source: str) -> LogEvent:
        """One document -> event; a document that is no Windows event still becomes an
        (unparsed) event, counted in its sender's report and logged once per sender."""
        rep = self._report(source, sender)
        before = rep.bad
        ev = document_event(text, rep, source)
        if ev is not None:
            if not ev.host:
                ev.host = sender
            return ev
        if rep.bad > before and (source, sender) not in self._warned:
            self._warned.add((source, sender))
            log.warning("%s input: %s sent a document that is no Windows event (%s); counted, "
                        "further ones only counted", source, sender, rep.messages[-1] if rep.messages else "")
        return LogEvent(text, {"message": text}, host=sender, time=time.time(), source=source)

    def self_points(self, now_ns: int) -> list[Point]:
        """Per-sender reports (the receivers' own counters, sender `all`, are counter sets of
        the pipeline)."""
        pts = []
        for (source, sender), rep in self.reports.items():
            pts.append(WINDOWS_INPUT.point(now_ns, {"input": source, "sender": sender}, {
                "events": rep.events, "not_events": rep.not_events, "oversized": rep.oversized,
                "unknown_channel": sum(rep.unknown_channels.values()),
                "unknown_event_id": sum(rep.unknown_event_ids.values())}))
        return pts

    def status(self) -> dict[str, Any]:
        return {"listen": {s.source: s.address for s in self.servers},
                "counters": {s.source: s.counters.snapshot() for s in self.servers},
                "senders": [r.to_dict() for r in self.reports.values()]}
