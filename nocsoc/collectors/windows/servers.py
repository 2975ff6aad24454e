"""Live Windows event receivers: Winlogbeat (Lumberjack v2, acknowledged after storage) and
NXLog im_msvistalog JSON over TCP (one document a line) and UDP (one a datagram).

They frame and hand documents to the log pipeline's bounded queue; parsing and matching happen on
the engine thread (`WindowsInputs.parse`). Winlogbeat is paced, not dropped: a full queue makes
its connection wait (counted as back-pressure), and its batch is acknowledged only once every
event of it is processed and its detections committed, so a batch cut short by a nocsoc restart
is resent by Winlogbeat. NXLog has no acknowledgement: a full queue drops (counted), as syslog.
The socket plumbing (bind, accept, datagram loop, stop) is `collectors.listener`, shared with
the syslog receivers without either collector importing the other.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable

from nocsoc.collectors.listener import DatagramListener, LineStreamListener, Listener, Submit
from nocsoc.collectors.windows.lumberjack import ProtocolError, SocketReader, ack_frame, read_batch
from nocsoc.component import Counters
from nocsoc.schema.selfmetrics import WINDOWS_INPUT

log = logging.getLogger(__name__)

# (document, sender, source, acknowledgement, timeout s) -> queued
SubmitWait = Callable[[str, str, str, "PendingAck", float], bool]

_KEEPALIVE_S = 5.0  # a waiting Winlogbeat hears `2A 0` this often (its default timeout is 30 s)


class PendingAck:
    """The events of one Winlogbeat batch still to be processed and committed. The log
    pipeline calls `done_one` for each after the commit that covers it."""

    def __init__(self, n: int) -> None:
        self._left = n
        self._lock = threading.Lock()
        self.done = threading.Event()
        if n == 0:
            self.done.set()

    def done_one(self) -> None:
        with self._lock:
            self._left -= 1
            if self._left <= 0:
                self.done.set()


class NxlogTcpServer(LineStreamListener):
    """NXLog om_tcp: one JSON document a line (LF or CRLF); a line over `max_message` is
    skipped to its end and counted."""

    source = "nxlog_tcp"

    def __init__(self, bind: str, submit: Submit, max_message: int = 65536,
                 max_connections: int = 256) -> None:
        super().__init__(bind, submit, max_message, max_connections, Counters(
            WINDOWS_INPUT, {"input": self.source, "sender": "all"}, only=self._STREAM_COUNTERS))

    def _serve(self, conn: socket.socket, sender: str) -> None:
        buf = bytearray()
        skipping = False  # inside an oversized line: drop up to its newline
        for data in self._chunks(conn):
            if not data:
                if buf and not skipping:
                    self._one(bytes(buf), sender)
                break
            buf += data
            while True:
                nl = buf.find(b"\n")
                if nl < 0:
                    if len(buf) > self.max_message:
                        if not skipping:
                            self.counters.add("oversized")
                        skipping = True
                        buf.clear()
                    break
                line = bytes(buf[:nl]).rstrip(b"\r")
                del buf[:nl + 1]
                if skipping:
                    skipping = False
                    continue
                if len(line) > self.max_message:
                    self.counters.add("oversized")
                elif line.strip():
                    self._one(line, sender)


class NxlogUdpServer(DatagramListener):
    """NXLog om_udp: one JSON document per datagram."""

    source = "nxlog_udp"

    def __init__(self, bind: str, submit: Submit, max_message: int = 65536) -> None:
        super().__init__(bind, submit, max_message, Counters(
            WINDOWS_INPUT, {"input": self.source, "sender": "all"}, only=self._DATAGRAM_COUNTERS))


class WinlogbeatServer(Listener):
    source = "winlogbeat"

    def __init__(self, bind: str, submit: SubmitWait, max_message: int = 65536, max_window: int = 8192,
                 ack_timeout_s: float = 300.0, max_connections: int = 256,
                 tls: ssl.SSLContext | None = None, handshake_timeout_s: float = 10.0) -> None:
        """`tls`: the server context (`windows.tls.server_context`); plain TCP when None."""
        super().__init__(bind)
        self.submit = submit
        self.max_message = max_message
        self.max_window = max_window
        self.ack_timeout_s = ack_timeout_s
        self.max_connections = max_connections
        self.tls = tls
        self.handshake_timeout_s = handshake_timeout_s
        self._tls_warned: set[str] = set()
        self.counters = Counters(WINDOWS_INPUT, {"input": self.source, "sender": "all"}, only=(
            "received", "batches", "acked", "oversized", "protocol_errors", "connections", "refused",
            "backpressure_waits", "ack_timeouts", "tls_errors"))

    def start(self) -> None:
        self._start_stream(self._serve, self.max_connections)

    def _handshake(self, conn: socket.socket, sender: str) -> ssl.SSLSocket | None:
        """The TLS side of an accepted connection, or None (counted; logged once per sender) when
        the handshake fails: a client certificate from another CA or none, plain TCP, a silent
        peer past `handshake_timeout_s`. The wrapped socket replaces the raw one among the
        listener's connections, so stop() still wakes its thread."""
        assert self.tls is not None
        conn.settimeout(self.handshake_timeout_s)
        try:
            tls = self.tls.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            self.counters.add("tls_errors")
            if sender not in self._tls_warned and len(self._tls_warned) < 10_000:
                self._tls_warned.add(sender)
                why = getattr(exc, "reason", None) or type(exc).__name__
                log.warning("winlogbeat input: %s: TLS handshake failed (%s); connection closed, further "
                            "failures from it only counted", sender, why)
            return None
        with self._lock:
            self._conns.discard(conn)
            self._conns.add(tls)
        return tls

    def _serve(self, conn: socket.socket, sender: str) -> None:
        if self.tls is not None:
            wrapped = self._handshake(conn, sender)
            if wrapped is None:
                return
            try:
                self._serve_batches(wrapped, sender)
            finally:
                with self._lock:
                    self._conns.discard(wrapped)
                with contextlib.suppress(OSError):
                    wrapped.close()
            return
        self._serve_batches(conn, sender)

    def _serve_batches(self, conn: socket.socket, sender: str) -> None:
        conn.settimeout(None)  # a beat may stay quiet for long; stop() shuts the socket down
        reader = SocketReader(conn)
        try:
            while not self._stop.is_set():
                try:
                    batch = read_batch(reader, self.max_window, self.max_message)
                except (EOFError, OSError):
                    return
                except ProtocolError as exc:
                    self.counters.add("protocol_errors")
                    log.warning("winlogbeat input: %s: %s; connection closed", sender, exc)
                    return
                if batch is None:
                    continue
                self.counters.add("batches")
                self.counters.add("received", len(batch.docs))
                if batch.oversized:
                    self.counters.add("oversized", batch.oversized)
                    log.warning("winlogbeat input: %s: %d events over %d bytes skipped", sender,
                                batch.oversized, self.max_message)
                if not self._deliver(conn, sender, batch.docs):
                    return
                self.counters.add("acked")  # before sending: whoever sees the ACK sees it counted
                conn.sendall(ack_frame(batch.last_seq))
        except OSError:  # the peer went away (or stop() shut the socket): _serve_conn closes it
            return

    def _deliver(self, conn: socket.socket, sender: str, docs: list[bytes]) -> bool:
        """Queue every document (waiting for room), then wait until all are committed; keep the
        client patient with `2A 0`. False (connection to be closed, the batch to be resent) on
        stop or when `ack_timeout_s` passes."""
        ack = PendingAck(len(docs))
        deadline = time.monotonic() + self.ack_timeout_s
        next_keepalive = time.monotonic() + _KEEPALIVE_S
        for d in docs:
            text = d.decode("utf-8", "replace")
            waited = False
            while not self.submit(text, sender, self.source, ack, 0.5):
                if not waited:
                    self.counters.add("backpressure_waits")
                    waited = True
                due = self._keep_waiting(conn, deadline, next_keepalive)
                if due is None:
                    return False
                next_keepalive = due
        while not ack.done.wait(0.5):
            due = self._keep_waiting(conn, deadline, next_keepalive)
            if due is None:
                return False
            next_keepalive = due
        return True

    def _keep_waiting(self, conn: socket.socket, deadline: float, next_keepalive: float) -> float | None:
        """One turn of waiting for room or for the commit: None to give up (stopping, or
        `ack_timeout_s` passed: counted), else when the next `2A 0` keepalive is due (sent now if
        it was)."""
        if self._stop.is_set() or time.monotonic() > deadline:
            self.counters.add("ack_timeouts")
            return None
        if time.monotonic() >= next_keepalive:
            conn.sendall(ack_frame(0))
            return time.monotonic() + _KEEPALIVE_S
        return next_keepalive
