"""UDP receive: a blocking loop in a dedicated thread, with a large socket buffer.

Measured here: a blocking loop keeps up with >= 233k datagrams/s while asyncio's datagram loop
lost 88% at load, so no event loop sits on this path. With the C extension the loop reads bursts
with recvmmsg (up to MMSG_SLOTS datagrams per system call and wake-up, the GIL released: ~0.8 us
of CPU a datagram instead of ~1.9 for one `recvmsg_into` each), and hands each burst over as one
`_flowfast.Datagrams` whose payloads the decoder reads where they are (no bytes object or tuple
per datagram); without it, `recvmsg_into` per datagram and a list of tuples. The kernel's own
drops are the socket's cumulative drop count, read with SO_MEMINFO once a burst (where the kernel
lacks it, from SO_RXQ_OVFL, which Linux attaches to each datagram once any was dropped: measured
~3 ns a record more CPU); the application's from the bounded queue between this thread and the
decoder. Both paths count the same drops and lose nothing on stop().
"""

from __future__ import annotations

import collections
import logging
import socket
import struct
import threading
import time
from collections.abc import Sequence

from nocsoc.collectors.flows import speedups
from nocsoc.collectors.listen import bind_socket, parse_bind
from nocsoc.component import Counters

log = logging.getLogger(__name__)

SO_RXQ_OVFL = getattr(socket, "SO_RXQ_OVFL", 40)
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
SO_MEMINFO = getattr(socket, "SO_MEMINFO", 55)  # Linux >= 4.12: u32 sk_meminfo array
SK_MEMINFO_DROPS = 8  # linux/sock_diag.h: index of the drop count (the one SO_RXQ_OVFL reports)
MAX_DATAGRAM = 65535
BURST = 256  # datagrams read back to back before handing them to the decoder
MMSG_SLOTS = 256  # datagrams per burst with recvmmsg (64 kB room each, see _flowfast.c's HEAD)
# with recvmmsg, after the first datagram wait this long for more: without it a paced exporter
# wakes the thread (and takes the GIL, and the queue's lock) once per datagram (measured: ~1.6 us
# of CPU a datagram); the decoder lingers 50 ms for a full batch anyway
MMSG_LINGER_S = 0.002

Datagram = tuple[bytes, str, float]


class DatagramQueue:
    """Bounded FIFO between receiver threads and the decoder; full means counted drops.

    It holds what the receivers hand over whole: a burst (a `_flowfast.Datagrams`, or a list of
    tuples without the C extension) is one entry, counted by its datagrams, and split only where
    a batch ends inside it (a slice of Datagrams is a view: no payload is copied)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._q: collections.deque[Sequence[Datagram]] = collections.deque()
        self._n = 0  # datagrams held
        self._cond = threading.Condition(threading.Lock())
        self._wake_at = 1  # a waiting get_batch wants this many datagrams

    def __len__(self) -> int:
        return self._n

    def put(self, item: Datagram) -> bool:
        return self.put_many([item]) == 0

    def put_many(self, items: Sequence[Datagram]) -> int:
        """Append what fits; returns how many did not (to be counted as drops)."""
        if not items:
            return 0
        with self._cond:
            room = self.maxsize - self._n
            if room <= 0:
                return len(items)
            taken = items[:room] if room < len(items) else items
            was_empty = not self._n
            self._q.append(taken)
            self._n += len(taken)
            if was_empty or self._n >= self._wake_at:
                self._cond.notify()
            return len(items) - len(taken)

    def get_batch(self, max_items: int, timeout: float, linger: float = 0.0) -> Sequence[Datagram]:
        """Up to `max_items`, waiting up to `timeout` for the first. With `linger`, then waits up
        to that long more for a full batch: the decoder has a cost per call (numpy path,
        measured: ~460 ns a record in 256-datagram batches, ~280 in 4096; less with the C
        extension, see collector.BATCH_DATAGRAMS), and a rollup interval is minutes, so a few
        tens of milliseconds of latency buy a cheaper record."""
        with self._cond:
            self._wait(max_items, timeout, linger)
            parts: list[Sequence[Datagram]] = []
            want = max_items
            q = self._q
            while q and want > 0:
                part = q[0]
                if len(part) <= want:
                    q.popleft()
                else:
                    q[0] = part[want:]
                    part = part[:want]
                parts.append(part)
                want -= len(part)
            self._n -= max_items - want
        return _joined(parts)

    def wait(self, max_items: int, timeout: float, linger: float = 0.0) -> int:
        """Wait as `get_batch` does, but take nothing; how many datagrams are held. A consumer
        that must not hold a batch outside its own lock (FlowCollector: flush() would miss it)
        waits here unlocked, then takes with `get_batch(n, 0)` under its lock."""
        with self._cond:
            self._wait(max_items, timeout, linger)
            return self._n

    def _wait(self, max_items: int, timeout: float, linger: float) -> None:
        if not self._n:
            self._cond.wait(timeout)
        if linger and self._n and self._n < max_items:
            deadline = time.monotonic() + linger
            self._wake_at = max_items
            try:
                while self._n < max_items:
                    left = deadline - time.monotonic()
                    if left <= 0 or not self._cond.wait(left):
                        break
            finally:
                self._wake_at = 1


def _joined(parts: list[Sequence[Datagram]]) -> Sequence[Datagram]:
    """One sequence over the parts (a view over them, with the C extension)."""
    if len(parts) == 1:
        return parts[0]
    if speedups.ext is not None and any(isinstance(p, speedups.ext.Datagrams) for p in parts):
        return speedups.ext.Datagrams.join(parts)
    return [d for p in parts for d in p]


class UdpReceiver:
    """One bound UDP socket and the thread that reads it."""

    def __init__(self, bind: str, queue: DatagramQueue, counters: Counters, rcvbuf: int = 32 << 20,
                 name: str = "netflow") -> None:
        self.bind = bind
        self.queue = queue
        self.counters = counters
        self.rcvbuf = rcvbuf
        self.name = name
        self.sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._kernel_drops = 0
        self._meminfo = False  # drops read by SO_MEMINFO (else from SO_RXQ_OVFL's messages)

    @property
    def address(self) -> tuple[str, int]:
        assert self.sock is not None
        host, port = self.sock.getsockname()[:2]
        return host, port

    def start(self) -> None:
        host, port = parse_bind(self.bind)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        bind_socket(sock, "udp", self.bind, (host, port))
        for opt in (SO_RCVBUFFORCE, socket.SO_RCVBUF):  # FORCE passes rmem_max when privileged
            try:
                sock.setsockopt(socket.SOL_SOCKET, opt, self.rcvbuf)
                break
            except OSError:
                continue
        self._meminfo = meminfo_drops(sock) is not None
        if not self._meminfo:
            try:
                sock.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
            except OSError:
                log.info("neither SO_MEMINFO nor SO_RXQ_OVFL available: kernel drops on %s are not "
                         "counted", self.bind)
        # fully blocking (no timeout: Python would poll() before each read); stop() wakes the
        # thread with an empty datagram
        self.sock = sock
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"flows-{self.name}-recv", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        if speedups.ext is not None:  # recvmmsg in C; else one recvmsg_into per datagram
            self._run_batched()
            return
        sock = self.sock
        assert sock is not None
        buf = bytearray(MAX_DATAGRAM)
        view = memoryview(buf)
        anc = socket.CMSG_SPACE(4)
        recv = sock.recvmsg_into
        counters = self.counters
        draining = False
        while True:
            if not draining and self._stop.is_set():
                # read what the kernel already holds before closing: stop() loses nothing received
                draining = True
                sock.setblocking(False)
            try:
                n, ancdata, _flags, addr = recv([view], anc)
            except (TimeoutError, BlockingIOError, InterruptedError):
                if draining:
                    self._poll_drops()  # drops until the end too
                    break
                continue
            except OSError as exc:
                if self._stop.is_set():
                    break
                log.error("flows: %s socket %s: %s; receiver stopped", self.name, self.bind, exc)
                break
            if n == 0:
                self._poll_drops()
                continue  # stop()'s wake-up, or an empty datagram: never a flow export
            now = time.time()
            batch = [(bytes(view[:n]), addr[0], now)]
            self._note_drops(ancdata)
            # then whatever else is already waiting, without blocking: one queue hand-over
            # per burst instead of per datagram
            # SO_RXQ_OVFL is a cumulative count: only the burst's last one needs reading
            last_anc = None
            append = batch.append
            for _ in range(BURST - 1):
                try:
                    n, ancdata, _flags, addr = recv([view], anc, socket.MSG_DONTWAIT)
                except (BlockingIOError, InterruptedError):
                    break
                if n:
                    append((bytes(view[:n]), addr[0], now))
                if ancdata:
                    last_anc = ancdata
            if last_anc is not None:
                self._note_drops(last_anc)
            self._poll_drops()
            dropped = self.queue.put_many(batch)
            if dropped:
                counters.add("app_drops", dropped)

    def _run_batched(self) -> None:
        """The receive loop over recvmmsg: a burst (up to MMSG_SLOTS datagrams, gathered without
        the GIL for at most MMSG_LINGER_S after the first) is one queue hand-over."""
        sock = self.sock
        assert sock is not None and speedups.ext is not None
        rx = speedups.ext.Receiver(sock.fileno(), MMSG_SLOTS, self._meminfo)
        counters = self.counters
        draining = False
        while True:
            if not draining and self._stop.is_set():
                draining = True  # read what the kernel already holds, then close
            try:
                batch, received, overflow = rx.recv(not draining, 0.0 if draining else MMSG_LINGER_S)
            except OSError as exc:
                if self._stop.is_set():
                    break
                log.error("flows: %s socket %s: %s; receiver stopped", self.name, self.bind, exc)
                break
            if overflow >= 0:
                self._note_drop_count(overflow)
            if not batch:
                if draining and not received:
                    break
                continue
            dropped = self.queue.put_many(batch)
            if dropped:
                counters.add("app_drops", dropped)

    def _wake(self) -> None:
        """An empty datagram to our own socket unblocks its recv (the thread then drains and exits)."""
        host, port = self.address
        family = self.sock.family if self.sock is not None else socket.AF_INET
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1" if family == socket.AF_INET else "::1"
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.sendto(b"", (host, port))
        except OSError as exc:
            log.warning("flows: cannot wake the %s receiver (%s); it stops at the next datagram",
                        self.name, exc)

    def _poll_drops(self) -> None:
        if self._meminfo and self.sock is not None:
            drops = meminfo_drops(self.sock)
            if drops is not None:
                self._note_drop_count(drops)

    def _note_drops(self, ancdata: list[tuple[int, int, bytes]]) -> None:
        for level, kind, data in ancdata:
            if level == socket.SOL_SOCKET and kind == SO_RXQ_OVFL and len(data) >= 4:
                self._note_drop_count(struct.unpack("=I", data[:4])[0])

    def _note_drop_count(self, drops: int) -> None:
        """The socket's cumulative drop count (SO_MEMINFO's now, or SO_RXQ_OVFL's as of the
        datagram it came with)."""
        if drops > self._kernel_drops:
            self.counters.add("kernel_drops", drops - self._kernel_drops)
            self._kernel_drops = drops

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None and self.sock is not None:
            self._wake()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def meminfo_drops(sock: socket.socket) -> int | None:
    """The socket's cumulative drop count by SO_MEMINFO, or None where the kernel lacks it."""
    try:
        info = sock.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 4 * (SK_MEMINFO_DROPS + 1))
    except OSError:
        return None
    if len(info) < 4 * (SK_MEMINFO_DROPS + 1):
        return None
    drops: int = struct.unpack_from("=I", info, 4 * SK_MEMINFO_DROPS)[0]
    return drops
