"""The receivers' shared socket plumbing (nocsoc.collectors.listener): stop() returns only once
every connection thread has handed on what it read, so the log pipeline, which drains its queue
right after stopping its inputs, never sees a message arrive after that drain."""

from __future__ import annotations

import socket
import threading
import time

from nocsoc.collectors.logs.server import TcpSyslogServer
from tests.servers.base import wait_until


def test_stop_waits_for_a_connection_thread_still_handing_a_message_on() -> None:
    entered = threading.Event()
    got: list[str] = []

    def slow_submit(text: str, sender: str, source: str) -> bool:
        entered.set()
        time.sleep(1.0)  # a consumer busy when the stop comes (not a wait for anything)
        got.append(text)
        return True

    before = set(threading.enumerate())
    srv = TcpSyslogServer("127.0.0.1:0", slow_submit)
    srv.start()
    try:
        with socket.create_connection(srv.address, timeout=30) as c:
            c.sendall(b"<13>Nov 25 01:00:00 h app: one\n")
            wait_until(entered.is_set, timeout=30, what="the message handed on")
    finally:
        srv.stop(timeout=30)
    # stop() returned: the message is through, and no thread of this listener is left
    assert got == ["<13>Nov 25 01:00:00 h app: one"]
    assert [t.name for t in set(threading.enumerate()) - before if t.name.startswith("syslog_tcp")] == []
