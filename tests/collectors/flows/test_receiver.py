"""The UDP receiver: every datagram is either delivered or counted as a kernel or app drop."""

from __future__ import annotations

import socket
import threading
from collections.abc import Sequence

import pytest

from nocsoc.collectors.flows import receiver
from nocsoc.collectors.flows.receiver import DatagramQueue, UdpReceiver, meminfo_drops, parse_bind
from nocsoc.component import Counters
from nocsoc.schema import FLOW_PIPELINE
from tests.servers.base import wait_until

SENT = 3000


def flood(port: int, n: int = SENT) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i in range(n):
            s.sendto(i.to_bytes(4, "big") + bytes(1000), ("127.0.0.1", port))


@pytest.mark.parametrize("source", ["meminfo", "rxq_ovfl"])
def test_kernel_drops_are_counted_exactly(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold the receiver thread while the socket's small buffer overflows: the kernel's drop count
    (SO_MEMINFO, or SO_RXQ_OVFL where the kernel lacks it) must account for every datagram that
    was not delivered."""
    if source == "rxq_ovfl":
        monkeypatch.setattr(receiver, "SO_MEMINFO", -1)  # as on a kernel without it
    queue = DatagramQueue(100_000)
    counters = Counters(FLOW_PIPELINE)
    gate = threading.Event()
    original = queue.put_many

    def held(items: Sequence[receiver.Datagram]) -> int:
        gate.wait(10)
        return original(items)

    queue.put_many = held  # type: ignore[method-assign]
    rx = UdpReceiver("127.0.0.1:0", queue, counters, rcvbuf=65536)
    rx.start()
    assert rx._meminfo is (source == "meminfo")
    try:
        port = rx.address[1]
        flood(port)
        gate.set()
        # one more datagram after the overflow carries the kernel's drop count
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"last", ("127.0.0.1", port))
        wait_until(
            lambda: len(queue) + counters.get("kernel_drops") == SENT + 1,
            timeout=10,
            what="every datagram delivered or counted",
        )
    finally:
        rx.stop()
    assert counters.get("kernel_drops") > 0
    assert counters.get("app_drops") == 0


def test_meminfo_reads_the_sockets_drop_count() -> None:
    """SO_MEMINFO's drop count is the kernel's: sent = waiting + dropped, with nothing read."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("127.0.0.1", 0))
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        assert meminfo_drops(rx) == 0
        flood(rx.getsockname()[1], 200)
        rx.setblocking(False)
        waiting = 0
        while True:
            try:
                rx.recv(2048)
            except BlockingIOError:
                break
            waiting += 1
        drops = meminfo_drops(rx)
        assert drops is not None and drops > 0
        assert waiting + drops == 200


def test_full_queue_counts_app_drops_and_stop_drains_the_socket() -> None:
    queue = DatagramQueue(500)
    counters = Counters(FLOW_PIPELINE)
    rx = UdpReceiver("127.0.0.1:0", queue, counters, rcvbuf=8 << 20)
    rx.start()
    flood(rx.address[1], 2000)
    rx.stop()  # drains what the kernel holds before closing
    assert len(queue) == 500
    assert len(queue) + counters.get("app_drops") + counters.get("kernel_drops") == 2000


def test_parse_bind() -> None:
    assert parse_bind("127.0.0.1:2055") == ("127.0.0.1", 2055)
    assert parse_bind("[::1]:6343") == ("::1", 6343)
    for bad in ("2055", "127.0.0.1:", "127.0.0.1:99999", ":2055"):
        try:
            parse_bind(bad)
        except ValueError as exc:
            assert bad in str(exc)
        else:
            raise AssertionError(f"{bad!r} accepted")


def test_get_batch_takes_in_arrival_order_at_most_what_is_asked() -> None:
    queue = DatagramQueue(100)
    items = [(i.to_bytes(2, "big"), "127.0.0.1", float(i)) for i in range(10)]
    assert queue.put_many(items) == 0
    assert queue.get_batch(4, 0) == items[:4]  # part of the queue
    assert queue.get_batch(6, 0) == items[4:]  # exactly all of it
    assert len(queue) == 0 and queue.get_batch(4, 0) == []
    assert queue.put_many(items[:3]) == 0
    assert queue.get_batch(100, 0) == items[:3]  # less than asked
    assert queue.put_many(items) == 0 and queue.put_many(items * 10) == 10 * len(items) - 90



def test_bursts_are_queued_whole_split_at_batch_ends_and_dropped_past_the_bound(flow_path: str) -> None:
    """A receiver burst is one queue entry (a Datagrams with the C extension, else a list):
    batches take it whole or split it where they end, in arrival order, and what does not fit
    the bound is refused and counted by the caller."""
    from nocsoc.collectors.flows import speedups

    def burst(lo: int, hi: int) -> object:
        items = [(i.to_bytes(2, "big"), f"127.0.0.{1 + i % 2}", float(i)) for i in range(lo, hi)]
        return speedups.ext.Datagrams(items) if speedups.ext is not None else items

    queue = DatagramQueue(25)
    assert queue.put_many(burst(0, 10)) == 0  # type: ignore[arg-type]
    assert queue.put(((99).to_bytes(2, "big"), "127.0.0.9", 99.0))
    assert queue.put_many(burst(10, 30)) == 6  # type: ignore[arg-type]  # 11 + 14 = the bound
    assert len(queue) == 25
    first = queue.get_batch(4, 0)
    assert [int.from_bytes(d, "big") for d, _e, _t in first] == [0, 1, 2, 3]
    rest = queue.get_batch(100, 0)  # the rest of the first burst, the single one, 14 of the next
    want = [*range(4, 10), 99, *range(10, 24)]
    assert [int.from_bytes(d, "big") for d, _e, _t in rest] == want
    assert [(e, t) for d, e, t in rest] == [
        ("127.0.0.9" if i == 99 else f"127.0.0.{1 + i % 2}", float(i)) for i in want]
    if speedups.ext is not None:
        assert isinstance(rest, speedups.ext.Datagrams)  # one view over the parts, nothing copied
    assert len(queue) == 0 and not queue.get_batch(10, 0)
