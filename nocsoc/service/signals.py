"""Signals for the supervisor and its workers: handlers only set flags, the main loop acts.

Doing the work inside a handler would run it at any bytecode of the main thread (mid-write of
a status file, say); a flag is looked at where the loop is ready for it.
"""

from __future__ import annotations

import signal
import threading
from typing import Any


class SignalFlags:
    """SIGTERM/SIGINT set `_stop`, SIGHUP sets `_reload`; both set `_wake`, which the main loop
    waits on, so it acts on a signal at once rather than at its next timer."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._wake = threading.Event()

    def request_stop(self, *_: Any) -> None:
        self._stop.set()
        self._wake.set()

    def request_reload(self, *_: Any) -> None:
        self._reload.set()
        self._wake.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGHUP, self.request_reload)
