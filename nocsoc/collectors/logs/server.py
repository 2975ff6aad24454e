"""Syslog receivers: UDP (one datagram, one message) and TCP (RFC 6587 octet counting or newline
framing), each on its own thread with blocking sockets (measured here: blocking recv keeps up
where asyncio's default loop drops most datagrams). They only frame and hand messages on; parsing
happens on the engine thread."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable

from nocsoc.collectors.listen import bind_socket, parse_bind
from nocsoc.collectors.logs.syslog import OctetFramer
from nocsoc.component import Counters
from nocsoc.schema import LOG_COLLECTOR

log = logging.getLogger(__name__)

Submit = Callable[[str, str, str], bool]  # (message, sender address, source) -> accepted


class _Listener:
    """What both receivers share: a socket bound to `bind`, the address it really got (port 0
    asks the kernel for one, still known after the socket is closed), and the stop."""

    _sock: socket.socket | None
    _address: tuple[str, int] | None = None
    _stop: threading.Event
    _thread: threading.Thread | None

    def _bound(self, s: socket.socket) -> socket.socket:
        host, port = s.getsockname()[:2]
        self._address = (host, port)
        self._sock = s
        return s

    @property
    def address(self) -> tuple[str, int]:
        if self._address is None:
            raise RuntimeError("the receiver is not started")
        return self._address

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)
        if self._sock:
            self._sock.close()


class UdpSyslogServer(_Listener):
    def __init__(self, bind: str, submit: Submit, max_message: int = 65536) -> None:
        self.bind = parse_bind(bind)
        self.submit = submit
        self.max_message = max_message
        self.counters = Counters(LOG_COLLECTOR, {"component": "syslog_udp"},
                                 only=("received", "dropped", "errors"))
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        s = socket.socket(socket.AF_INET6 if ":" in self.bind[0] else socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        bind_socket(s, "udp", f"{self.bind[0]}:{self.bind[1]}", self.bind)
        s.settimeout(0.2)
        self._bound(s)
        self._thread = threading.Thread(target=self._run, name="syslog-udp", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        assert self._sock is not None
        buf = bytearray(self.max_message)
        view = memoryview(buf)
        sock = self._sock
        while not self._stop.is_set():
            try:
                n, addr = sock.recvfrom_into(buf)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    break
                self.counters.add("errors")
                continue
            self.counters.add("received")
            text = bytes(view[:n]).decode("utf-8", "replace")
            if not self.submit(text, addr[0], "syslog_udp"):
                self.counters.add("dropped")


class TcpSyslogServer(_Listener):
    def __init__(self, bind: str, submit: Submit, max_message: int = 65536,
                 max_connections: int = 256) -> None:
        self.bind = parse_bind(bind)
        self.submit = submit
        self.max_message = max_message
        self.max_connections = max_connections
        self.counters = Counters(LOG_COLLECTOR, {"component": "syslog_tcp"}, only=(
            "received", "dropped", "errors", "connections", "refused", "oversized"))
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        s = socket.socket(socket.AF_INET6 if ":" in self.bind[0] else socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        bind_socket(s, "tcp", f"{self.bind[0]}:{self.bind[1]}", self.bind)
        s.listen(64)
        s.settimeout(0.2)
        self._bound(s)
        self._thread = threading.Thread(target=self._accept, name="syslog-tcp", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, addr = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            with self._lock:
                if len(self._conns) >= self.max_connections:
                    self.counters.add("refused")
                    conn.close()
                    continue
                self._conns.add(conn)
            self.counters.add("connections")
            threading.Thread(target=self._serve, args=(conn, addr[0]), name=f"syslog-tcp-{addr[0]}",
                             daemon=True).start()

    def _serve(self, conn: socket.socket, sender: str) -> None:
        framer = OctetFramer(self.max_message)
        conn.settimeout(0.5)
        try:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                msgs = framer.feed(data) if data else framer.flush()
                for m in msgs:
                    self._one(m, sender)
                if not data:
                    break
        finally:
            if framer.oversized:
                self.counters.add("oversized", framer.oversized)
            with self._lock:
                self._conns.discard(conn)
            conn.close()

    def _one(self, m: bytes, sender: str) -> None:
        self.counters.add("received")
        if not self.submit(m.decode("utf-8", "replace"), sender, "syslog_tcp"):
            self.counters.add("dropped")

    def stop(self, timeout: float = 5.0) -> None:
        super().stop(timeout)
        with self._lock:
            for c in list(self._conns):
                with contextlib.suppress(OSError):
                    c.shutdown(socket.SHUT_RDWR)
