"""The socket plumbing every receiver thread shares (syslog UDP/TCP, NXLog UDP/TCP, Winlogbeat):
a socket bound to `bind`, the address it really got, one thread accepting connections (each served
on its own thread, at most `max_connections`) or reading datagrams, and the stop.

Blocking sockets on threads, not asyncio: measured, blocking recv keeps up where asyncio's default
loop drops most datagrams. Kept here, beside `listen`, so the collectors share it without
importing each other; what a receiver does with a connection's bytes is its own `_serve`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

from nocsoc.collectors.listen import bind_socket, parse_bind
from nocsoc.component import Counters

Submit = Callable[[str, str, str], bool]  # (message, sender address, source) -> accepted
Serve = Callable[[socket.socket, str], None]  # (connection, sender address)


class Listener:
    """Base of the receivers. Subclasses set `source` (names the threads, is handed to `submit`)
    and `counters`; datagram receivers also `max_message`."""

    source = ""
    counters: Counters
    max_message: int
    _sock: socket.socket | None = None
    _address: tuple[str, int] | None = None
    _thread: threading.Thread | None = None

    def __init__(self, bind: str) -> None:
        self.bind = parse_bind(bind)
        self._stop = threading.Event()
        self._conns: set[socket.socket] = set()
        self._serving: set[threading.Thread] = set()  # one per open connection, joined by stop()
        self._lock = threading.Lock()

    def _open(self, kind: int, proto: str) -> socket.socket:
        s = socket.socket(socket.AF_INET6 if ":" in self.bind[0] else socket.AF_INET, kind)
        if kind == socket.SOCK_STREAM:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        else:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        bind_socket(s, proto, f"{self.bind[0]}:{self.bind[1]}", self.bind)
        s.settimeout(0.2)
        # port 0 asks the kernel for one: kept, so it is still known after the socket is closed
        host, port = s.getsockname()[:2]
        self._address = (host, port)
        self._sock = s
        return s

    @property
    def address(self) -> tuple[str, int]:
        if self._address is None:
            raise RuntimeError("the receiver is not started")
        return self._address

    def _start_datagrams(self, submit: Submit) -> None:
        """Bind a UDP socket and read it on a thread: one datagram, one message to `submit`."""
        self._open(socket.SOCK_DGRAM, "udp")
        self._thread = threading.Thread(target=self._datagram_loop, name=self.source, daemon=True,
                                        args=(submit,))
        self._thread.start()

    def _datagram_loop(self, submit: Submit) -> None:
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
            if not submit(bytes(view[:n]).decode("utf-8", "replace"), addr[0], self.source):
                self.counters.add("dropped")

    def _start_stream(self, serve: Serve, max_connections: int) -> None:
        """Bind and listen on TCP; each accepted connection is `serve`d on its own thread."""
        s = self._open(socket.SOCK_STREAM, "tcp")
        s.listen(64)
        self._thread = threading.Thread(target=self._accept_loop, name=self.source, daemon=True,
                                        args=(serve, max_connections))
        self._thread.start()

    def _accept_loop(self, serve: Serve, max_connections: int) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, addr = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            with self._lock:
                if len(self._conns) >= max_connections:
                    self.counters.add("refused")
                    conn.close()
                    continue
                self._conns.add(conn)
                t = threading.Thread(target=self._serve_conn, args=(serve, conn, addr[0]),
                                     name=f"{self.source}-{addr[0]}", daemon=True)
                self._serving.add(t)
            self.counters.add("connections")
            t.start()

    def _serve_conn(self, serve: Serve, conn: socket.socket, sender: str) -> None:
        try:
            serve(conn, sender)
        finally:
            with self._lock:
                self._conns.discard(conn)
                self._serving.discard(threading.current_thread())
            with contextlib.suppress(OSError):
                conn.close()

    def _chunks(self, conn: socket.socket) -> Iterator[bytes]:
        """A connection's bytes as they arrive, then `b""` when the peer closes; ends without it on
        stop or a socket error. The short timeout lets a quiet connection see the stop."""
        conn.settimeout(0.5)
        while not self._stop.is_set():
            try:
                data = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            yield data
            if not data:
                return

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, wake every connection thread (shutdown ends a blocked recv), join them
        all: once stop() returns no thread of this listener hands a message on any more (the log
        pipeline then drains its queue knowing nothing more comes)."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)  # first: no connection is accepted after the wake-up below
        with self._lock:
            for c in list(self._conns):
                with contextlib.suppress(OSError):
                    c.shutdown(socket.SHUT_RDWR)
            serving = list(self._serving)
        for t in serving:
            t.join(max(0.0, deadline - time.monotonic()))
        if self._sock:
            self._sock.close()


class DatagramListener(Listener):
    """A UDP receiver: each datagram is one message for `submit` (syslog UDP, NXLog om_udp)."""

    _DATAGRAM_COUNTERS = ("received", "dropped", "errors")

    def __init__(self, bind: str, submit: Submit, max_message: int, counters: Counters) -> None:
        super().__init__(bind)
        self.submit = submit
        self.max_message = max_message
        self.counters = counters

    def start(self) -> None:
        self._start_datagrams(self.submit)


class LineStreamListener(Listener):
    """A TCP receiver that frames a connection's bytes into messages (its `_serve`) and hands each
    to `submit` through `_one`, counted: syslog over TCP, NXLog om_tcp."""

    _STREAM_COUNTERS = ("received", "dropped", "errors", "connections", "refused", "oversized")

    def __init__(self, bind: str, submit: Submit, max_message: int, max_connections: int,
                 counters: Counters) -> None:
        super().__init__(bind)
        self.submit = submit
        self.max_message = max_message
        self.max_connections = max_connections
        self.counters = counters

    def start(self) -> None:
        self._start_stream(self._serve, self.max_connections)

    def _serve(self, conn: socket.socket, sender: str) -> None:
        raise NotImplementedError

    def _one(self, message: bytes, sender: str) -> None:
        self.counters.add("received")
        if not self.submit(message.decode("utf-8", "replace"), sender, self.source):
            self.counters.add("dropped")
