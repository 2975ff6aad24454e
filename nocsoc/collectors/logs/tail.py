"""Follow files like `tail -F`: through rotation (new inode at the path: finish the old file,
then start the new one from its beginning) and truncation (size below our offset: start over).
Each line goes out with the (inode, offset) just after it; the consumer stores that offset once
the line's effects are durable (nocsoc: in the alert store, with the alerts), and a restart
resumes from it."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from nocsoc.component import Counters
from nocsoc.schema import LOG_COLLECTOR

# (line, path, inode, offset just after the line) -> accepted; a rejected line is read again later
MarkedLineSink = Callable[[str, str, int, int], bool]


class Offsets(Protocol):
    """Where a file resumes: {"inode", "offset"} stored for its path, or None."""

    def get(self, key: str) -> dict[str, int] | None: ...


def file_counters() -> Counters:
    """The counters of tailed files (`log_collector`, component `file`)."""
    return Counters(LOG_COLLECTOR, {"component": "file"},
                    only=("received", "deferred", "rotations", "truncations", "errors"))


@dataclass(eq=False)
class FileTailer:
    """Delivers each complete line once, with the offset just after it. The tailer saves
    nothing: the consumer stores the offset once the line's effects are durable, and a rejected
    line (full queue) is read again on the next poll, so a slow consumer holds the file back
    instead of losing lines. `counters`: shared by every tailer of a pipeline (one `file`
    self-metric)."""

    path: str
    sink: MarkedLineSink = field(repr=False)
    offsets: Offsets = field(repr=False)
    start_at: str = "beginning"
    poll_interval_s: float = 0.2
    max_line: int = 65536
    counters: Counters = field(default_factory=file_counters, repr=False)
    # where reading stands: the open file, its inode, the offset after the last whole line, the
    # start of a line not ended yet, and whether the consumer refused a line (read it again)
    _f: IO[bytes] | None = field(default=None, init=False, repr=False)
    _inode: int = field(default=0, init=False)
    _offset: int = field(default=0, init=False)
    _partial: bytes = field(default=b"", init=False, repr=False)
    _blocked: bool = field(default=False, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

    def _open(self, resume: bool) -> bool:
        try:
            f = open(self.path, "rb")  # noqa: SIM115 - kept open while following
        except OSError:
            return False
        st = os.fstat(f.fileno())
        saved = self.offsets.get(self.path) if resume else None
        offset = 0
        if saved and saved.get("inode") == st.st_ino and saved.get("offset", 0) <= st.st_size:
            offset = saved["offset"]
        elif saved is None and resume and self.start_at == "end":
            offset = st.st_size
        f.seek(offset)
        self._f, self._inode, self._offset, self._partial = f, st.st_ino, offset, b""
        return True

    def poll(self) -> int:
        """Read what is new; handle rotation and truncation. Returns lines delivered."""
        if self._f is None and not self._open(resume=True):
            return 0
        self._blocked = False
        n = self._read()
        if self._blocked:
            return n  # the consumer is full: nothing else until it takes lines again
        try:
            st = os.stat(self.path)
        except OSError:
            return n  # rotated away and not yet recreated: keep the old one
        if st.st_ino != self._inode:
            n += self._read()  # finish the rotated file first
            if self._partial and not self._blocked:
                n += self._deliver([self._partial], self._offset - len(self._partial), last_unterminated=True)
                if not self._blocked:
                    self._partial = b""
            if self._blocked:
                return n
            assert self._f is not None
            self._f.close()
            self._f = None
            self.counters.add("rotations")
            if self._open(resume=False):
                n += self._read()
        elif st.st_size < self._offset:
            self.counters.add("truncations")
            assert self._f is not None
            self._f.seek(0)
            self._offset, self._partial = 0, b""
            n += self._read()
        return n

    def _read(self) -> int:
        f = self._f
        if f is None:
            return 0
        n = 0
        while not self._blocked:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            start = self._offset - len(self._partial)  # file offset of data[0]
            data = self._partial + chunk
            lines = data.split(b"\n")
            self._partial = lines.pop()
            self._offset += len(chunk)
            oversized = len(self._partial) > self.max_line
            if oversized:
                lines.append(self._partial)
                self._partial = b""
            n += self._deliver(lines, start, last_unterminated=oversized)
        return n

    def _deliver(self, lines: list[bytes], start: int, last_unterminated: bool = False) -> int:
        """Hand out `lines` (the first begins at file offset `start`). On a refusal: seek back to
        the refused line so the next poll reads it again."""
        n = 0
        pos = start
        last = len(lines) - 1
        for i, raw in enumerate(lines):
            line_start = pos
            pos += len(raw) + (0 if last_unterminated and i == last else 1)
            if not raw.strip():
                continue
            text = raw.decode("utf-8", "replace").rstrip("\r")
            if not self.sink(text, self.path, self._inode, pos):
                self.counters.add("deferred")
                self._blocked = True
                assert self._f is not None
                self._f.seek(line_start)
                self._offset, self._partial = line_start, b""
                return n
            self.counters.add("received")
            n += 1
        return n

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"tail-{Path(self.path).name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # a vanished or unreadable file: count, retry next poll
                self.counters.add("errors")
            self._stop.wait(self.poll_interval_s)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)
        if self._f:
            self._f.close()
            self._f = None
