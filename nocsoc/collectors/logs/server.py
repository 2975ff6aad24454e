"""Syslog receivers: UDP (one datagram, one message) and TCP (RFC 6587 octet counting or newline
framing), each on its own thread with blocking sockets (measured here: blocking recv keeps up
where asyncio's default loop drops most datagrams). They only frame and hand messages on; parsing
happens on the engine thread."""

from __future__ import annotations

import socket

from nocsoc.collectors.listener import DatagramListener, LineStreamListener, Submit
from nocsoc.collectors.logs.syslog import OctetFramer
from nocsoc.component import Counters
from nocsoc.schema import LOG_COLLECTOR


class UdpSyslogServer(DatagramListener):
    source = "syslog_udp"

    def __init__(self, bind: str, submit: Submit, max_message: int = 65536) -> None:
        super().__init__(bind, submit, max_message, Counters(
            LOG_COLLECTOR, {"component": self.source}, only=self._DATAGRAM_COUNTERS))


class TcpSyslogServer(LineStreamListener):
    source = "syslog_tcp"

    def __init__(self, bind: str, submit: Submit, max_message: int = 65536,
                 max_connections: int = 256) -> None:
        super().__init__(bind, submit, max_message, max_connections, Counters(
            LOG_COLLECTOR, {"component": self.source}, only=self._STREAM_COUNTERS))

    def _serve(self, conn: socket.socket, sender: str) -> None:
        framer = OctetFramer(self.max_message)
        try:
            for data in self._chunks(conn):
                for m in framer.feed(data) if data else framer.flush():
                    self._one(m, sender)
        finally:
            if framer.oversized:
                self.counters.add("oversized", framer.oversized)
