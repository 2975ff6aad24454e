"""nats-py's byte handling with fewer copies of each message: its parser, its publish command.

Reading: nats-py's `Parser` appends every read to one bytearray, then cuts a message out of it as
`bytes(self.buf[a:b])` (a bytearray slice, then a bytes: two copies) and deletes it: three copies
of each payload beside the socket's own. A decoder's bus messages are hundreds of kB each, ~47
bytes a flow record: on the bus bench these copies and the page faults of their fresh buffers
were ~10% of a decoder's CPU (`perf`, 2026-12). nats-py has no setting for it, hence this
hand-written subclass: control lines (MSG/HMSG, PING, PONG, INFO, +OK, -ERR) still go through
nats-py's own parser, one complete line at a time; only a message's payload bytes are handled
here, kept as views of the reads they came in and joined once into the payload handed on.

`install(client)` swaps a connected client's parser for this one, carrying its state over
(nothing read is lost); nats-py keeps the same parser object across reconnects and resets it.

Publishing: nats-py builds a message with headers as `line + hdr + payload + CRLF`, which
copies the payload twice (each `+` makes a new bytes); `hpub_cmd` here makes the same bytes
with one join, one copy. nats-py reads the function from its module at each publish, so
`install_commands()` sets it for every client of the process (the same bytes: only a copy less).
"""

from __future__ import annotations

from typing import Any

from nats.errors import ProtocolError
from nats.protocol import command as nats_command
from nats.protocol import parser as nats_parser

_CONTROL = nats_parser.AWAITING_CONTROL_LINE
_PAYLOAD = nats_parser.AWAITING_MSG_PAYLOAD
_CRLF = nats_parser._CRLF_


class PayloadParser(nats_parser.Parser):
    """`Parser`, with payloads gathered as views of the reads and joined once."""

    def reset(self) -> None:
        super().reset()
        # a reset (nats-py reconnecting) while a parse waits in a callback ends that parse: the
        # rest of its read belongs to the connection that is gone
        self._generation = getattr(self, "_generation", 0) + 1
        self._parts: list[memoryview] = []  # the header's, then the payload's bytes so far
        self._hparts: list[memoryview] = []
        self._at = 0  # bytes of the current message (header, payload, CRLF) gathered

    async def parse(self, data: bytes | bytearray | memoryview = b"") -> None:
        view = memoryview(data)
        i, n = 0, len(view)
        generation = self._generation
        while True:
            if self.state == _PAYLOAD:
                i = self._gather(view, i)
                if self.state == _PAYLOAD:
                    return  # the message goes on in the next read
                await self._deliver()
                if self._generation != generation:
                    return
                continue
            if i >= n:
                return
            end = _find_newline(data, i, n)
            if end < 0:  # a control line cut by the read: keep its start (a few bytes)
                self.buf.extend(view[i:])
                return
            line = bytes(self.buf) + bytes(view[i:end + 1]) if self.buf else bytes(view[i:end + 1])
            self.buf = bytearray()
            i = end + 1
            # nats-py's parser reads the line (a message's subject, sid, reply and sizes; or
            # PING, INFO...) and acts on it; for MSG/HMSG it is left waiting for the payload
            await super().parse(line)
            if self._generation != generation:
                return
            if self.buf:  # a line it could not read: nats-py waits for more, but it is whole
                raise ProtocolError("nats: unknown protocol")
            if self.state == _PAYLOAD:
                self._at = 0
                self._parts, self._hparts = [], []

    def _gather(self, view: memoryview, i: int) -> int:
        """Take the current message's bytes from `view[i:]`; return where they end."""
        hsize, size = self.header_needed, self.needed
        total = size + len(_CRLF)
        take = min(total - self._at, len(view) - i)
        lo, hi = self._at, self._at + take  # this read's span within the message
        if lo < hsize:
            self._hparts.append(view[i:i + min(hi, hsize) - lo])
        if hi > hsize and lo < size:
            a, b = max(lo, hsize), min(hi, size)
            self._parts.append(view[i + a - lo:i + b - lo])
        self._at = hi
        if hi == total:
            self.state = _CONTROL
        return i + take

    async def _deliver(self) -> None:
        hdr = b"".join(self._hparts) if self.header_needed > 0 else None
        parts = self._parts
        payload = parts[0].obj if len(parts) == 1 and _whole(parts[0]) else b"".join(parts)
        self._parts, self._hparts = [], []
        self.header_needed = 0
        arg = self.msg_arg
        await self.nc._process_msg(arg["sid"], arg["subject"], arg["reply"], payload, hdr)


def _whole(part: memoryview) -> bool:
    """A view that is all of a bytes object: the payload is that object, no copy."""
    return isinstance(part.obj, bytes) and part.nbytes == len(part.obj)


def _find_newline(data: Any, i: int, n: int) -> int:
    if isinstance(data, memoryview):  # nats-py reads bytes; a view only from elsewhere (tests)
        data = bytes(data)
    return int(data.find(b"\n", i, n))


def install(client: Any) -> bool:
    """Give a nats-py client this parser (its state carried over); False when the client has
    no parser of the kind expected (another nats-py version: it keeps its own)."""
    old = getattr(client, "_ps", None)
    if type(old) is not nats_parser.Parser:
        return isinstance(old, PayloadParser)
    new = PayloadParser(client)
    new.msg_arg = dict(old.msg_arg)
    if old.state == _PAYLOAD:  # in the middle of a message: what it has of it, gathered here
        new.state, new.needed, new.header_needed = _PAYLOAD, old.needed, old.header_needed
        new._gather(memoryview(bytes(old.buf)), 0)  # less than the whole (it would have been handed on)
    else:
        new.buf = bytearray(old.buf)
    # taken over: should the old parser be waiting inside a callback, it finds nothing left to read
    old.buf.clear()
    client._ps = new
    return True


def hpub_cmd(subject: str, reply: str, hdr: bytes | bytearray, payload: bytes) -> bytes:
    """nats-py's HPUB command, the same bytes, the payload copied once."""
    head = f"HPUB {subject} {reply} {len(hdr)} {len(hdr) + len(payload)}\r\n".encode()
    return b"".join((head, hdr, payload, _CRLF))


_NATS_HPUB = nats_command.hpub_cmd


def install_commands() -> bool:
    """Make nats-py build its HPUB commands with `hpub_cmd` (False: this nats-py has no such
    function, it keeps its own)."""
    if getattr(nats_command, "hpub_cmd", None) not in (_NATS_HPUB, hpub_cmd):
        return False
    nats_command.hpub_cmd = hpub_cmd
    return True
