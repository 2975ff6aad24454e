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

The socket's reads: nats-py reads through an asyncio `StreamReader`, which appends each chunk
the socket gave to one bytearray, then hands a read out as a new bytes of it: two copies of
every byte before the parser's own. `install_reader(client)` makes the connection's reader a
`ChunkReader`, whose `read` hands on the chunks as the socket gave them (the parser keeps views
of them): on the bus bench, 2 of the decoder's 3 copies of each message gone. nats-py makes a new
reader at each reconnect: the driver installs it again then (its reconnected callback).

Receiving: asyncio reads the socket 256 kB at a time into a new bytes each read, so a bus message
of hundreds of kB came in two or more reads and the parser joined them: a copy of every payload
(on the bus bench the decoder's largest cost beyond its pipeline). `install_receiver(client)`
makes the connection's protocol a `PayloadReceiver`, which follows the protocol's framing and
has the kernel write a large payload (OWN_BUFFER_BYTES or more) straight into a bytearray of its
exact size, handed on as one chunk: the parser hands that bytearray on as the payload, uncopied.
Everything else is read into one reused buffer and handed on as bytes. The bytes handed on are
the socket's, in order, whatever the framing found: it only decides where chunks are cut.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import functools
from collections.abc import Awaitable, Callable
from typing import Any, cast

from nats.errors import ProtocolError
from nats.protocol import command as nats_command
from nats.protocol import parser as nats_parser

from nocsoc.collectors.flows import speedups

_CONTROL = nats_parser.AWAITING_CONTROL_LINE
_PAYLOAD = nats_parser.AWAITING_MSG_PAYLOAD
_CRLF = nats_parser._CRLF_


class PayloadParser(nats_parser.Parser):
    """`Parser`, with payloads gathered as views of the reads and joined once (`parsing`: a
    read is being parsed, install_receiver waits for the end of one)."""

    parsing = False

    def reset(self) -> None:
        super().reset()
        # a reset (nats-py reconnecting) while a parse waits in a callback ends that parse: the
        # rest of its read belongs to the connection that is gone
        self._generation = getattr(self, "_generation", 0) + 1
        self._parts: list[memoryview] = []  # the header's, then the payload's bytes so far
        self._hparts: list[memoryview] = []
        self._at = 0  # bytes of the current message (header, payload, CRLF) gathered

    async def parse(self, data: bytes | bytearray | memoryview = b"") -> None:
        self.parsing = True
        try:
            await self._parse(data)
        finally:
            self.parsing = False

    async def _parse(self, data: bytes | bytearray | memoryview) -> None:
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
    """A view that is all of a bytes object (or of a bytearray PayloadReceiver filled for this
    payload alone): the payload is that object, no copy."""
    return isinstance(part.obj, (bytes, bytearray)) and part.nbytes == len(part.obj)


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


# a payload at least this large is written as it is, not joined into its command (see Unjoined)
UNJOINED_BYTES = 64 * 1024
# set by the bus's own publishes on a client that takes Unjoined commands (install_writer)
unjoined: contextvars.ContextVar[bool] = contextvars.ContextVar("nocsoc_unjoined", default=False)


class Unjoined(tuple):
    """An HPUB command as its parts (head and header, payload, CRLF), for a client whose
    `_send_command` and socket writes take them apart (install_writer): the payload, hundreds of
    kB, is never copied into a command, only by the kernel into the socket."""


def hpub_cmd(subject: str, reply: str, hdr: bytes | bytearray, payload: bytes) -> bytes:
    """nats-py's HPUB command, the same bytes, the payload copied once; a large payload of a
    publish that `unjoined` allows, not copied: its parts (Unjoined)."""
    head = f"HPUB {subject} {reply} {len(hdr)} {len(hdr) + len(payload)}\r\n".encode()
    if len(payload) >= UNJOINED_BYTES and type(payload) is bytes and unjoined.get():
        return cast(bytes, Unjoined((head + bytes(hdr), payload, _CRLF)))
    return b"".join((head, hdr, payload, _CRLF))


_NATS_HPUB = nats_command.hpub_cmd


def install_commands() -> bool:
    """Make nats-py build its HPUB commands with `hpub_cmd` (False: this nats-py has no such
    function, it keeps its own)."""
    if getattr(nats_command, "hpub_cmd", None) not in (_NATS_HPUB, hpub_cmd):
        return False
    nats_command.hpub_cmd = hpub_cmd
    return True


class ChunkReader(asyncio.StreamReader):
    """A `StreamReader` whose `read(n)` returns the chunks fed to it as they are (a chunk longer
    than `n` is cut: the rest is read next), never copied into one buffer and out again. The
    same flow control: reading pauses beyond twice the limit held, resumes at the limit.

    Only `read` and `at_eof` are of this class: nats-py calls nothing else once connected. Any
    other read (`readline`, `readexactly`...) turns it back into a plain StreamReader first,
    what it holds put back in the buffer, so that it still reads right."""

    _chunks: collections.deque[bytes]
    _held: int
    # StreamReader's own state, private (the same names in Python 3.11-3.13)
    _buffer: bytearray
    _eof: bool
    _paused: bool
    _transport: Any
    _limit: int
    _exception: BaseException | None
    _wakeup_waiter: Callable[[], None]
    _wait_for_data: Callable[[str], Awaitable[None]]

    def _take_over(self) -> None:
        self._chunks = collections.deque()
        self._held = 0
        if self._buffer:
            self._chunks.append(bytes(self._buffer))
            self._held = len(self._buffer)
            self._buffer.clear()

    def feed_data(self, data: Any) -> None:
        assert not self._eof, "feed_data after feed_eof"
        if not data:
            return
        self._fed(data if type(data) is bytes else bytes(data))

    def _fed(self, data: Any) -> None:
        self._chunks.append(data)
        self._held += len(data)
        self._wakeup_waiter()
        if self._transport is not None and not self._paused and self._held > 2 * self._limit:
            try:
                self._transport.pause_reading()
            except NotImplementedError:
                self._transport = None
            else:
                self._paused = True

    def feed_own(self, data: bytearray) -> None:
        """`feed_data` of a buffer nobody writes to again (PayloadReceiver's), kept as it is."""
        self._fed(data)

    def at_eof(self) -> bool:
        return bool(self._eof and not self._chunks)

    async def read(self, n: int = -1) -> bytes:
        if self._exception is not None:
            raise self._exception
        if n == 0:
            return b""
        if not self._chunks and not self._eof:
            await self._wait_for_data("read")
        if not self._chunks:
            return b""
        data = self._chunks.popleft()
        if 0 < n < len(data):
            self._chunks.appendleft(data[n:])
            data = data[:n]
        self._held -= len(data)
        if self._paused and self._held <= self._limit:
            self._paused = False
            self._transport.resume_reading()
        return data

    def _plain(self) -> asyncio.StreamReader:
        """Back to a plain StreamReader, what is held in its buffer."""
        self._buffer.extend(b"".join(self._chunks))
        self._chunks.clear()
        self._held = 0
        self.__class__ = asyncio.StreamReader  # type: ignore[assignment]
        return self

    async def readline(self) -> bytes:
        return await asyncio.StreamReader.readline(self._plain())

    async def readuntil(self, separator: Any = b"\n") -> bytes:
        return await asyncio.StreamReader.readuntil(self._plain(), separator)

    async def readexactly(self, n: int) -> bytes:
        return await asyncio.StreamReader.readexactly(self._plain(), n)

    def __aiter__(self) -> Any:
        return self._plain()


def install_reader(client: Any) -> bool:
    """Make a connected nats-py client's socket reader a `ChunkReader` (what it holds carried
    over); False when its transport has no plain StreamReader (a WebSocket; another nats-py)."""
    transport = getattr(client, "_transport", None)
    reader = getattr(transport, "_io_reader", None)
    if isinstance(reader, ChunkReader):
        return True
    if type(reader) is not asyncio.StreamReader:
        return False
    reader.__class__ = ChunkReader
    cast(ChunkReader, reader)._take_over()
    return True


async def _send_command(client: Any, cmd: bytes, priority: bool = False) -> None:
    """nats-py's `_send_command`, an Unjoined command's parts queued one by one."""
    if type(cmd) is not Unjoined:
        await type(client)._send_command(client, cmd, priority)
        return
    client._pending.extend(cmd)  # (a publish: never a priority command)
    client._pending_data_size += sum(map(len, cmd))
    if client._max_pending_size > 0 and client._pending_data_size > client._max_pending_size:
        await client._flush_pending(force_flush=True)


def _writelines(writer: asyncio.StreamWriter, items: list[bytes]) -> None:
    """What nats-py's flusher writes: runs of small commands joined (as asyncio would), a large
    payload written alone, as it is (asyncio 3.11 joins all it is given: a copy of each)."""
    small: list[bytes] = []
    for data in items:
        if len(data) < UNJOINED_BYTES:
            small.append(data)
            continue
        if small:
            writer.write(b"".join(small))
            small = []
        writer.write(data)
    if small:
        writer.write(b"".join(small))


def install_writer(client: Any) -> bool:
    """Let a connected nats-py client's publishes keep large payloads apart from their commands
    (Unjoined), queued and written without a join; True when its publishes may then set
    `unjoined`. nats-py makes a new socket transport at each reconnect: the driver installs it
    again then (until it does, the parts are joined by asyncio as before: the same bytes)."""
    transport = getattr(client, "_transport", None)
    writer = getattr(transport, "_io_writer", None)
    needs = ("_pending", "_pending_data_size", "_max_pending_size", "_send_command")
    if not isinstance(writer, asyncio.StreamWriter) or not all(hasattr(client, a) for a in needs):
        return False
    transport.writelines = functools.partial(_writelines, writer)  # type: ignore[union-attr]
    if not isinstance(client.__dict__.get("_send_command"), functools.partial):
        client._send_command = functools.partial(_send_command, client)
    return True


# a payload at least this large is received into a bytearray of its own (PayloadReceiver)
OWN_BUFFER_BYTES = 64 * 1024
# no larger: a size past nats-server's largest max_payload is not believed (a line misread)
OWN_BUFFER_MAX = 64 << 20
# reads into the reused buffer: asyncio's own size; right after a large payload, small, since
# the next message is likely another large one whose first bytes such a read would copy
READ_BYTES = 256 * 1024
READ_AFTER_OWN = 4 * 1024
MAX_LINE = 64 * 1024
_MSG_OPS = (b"MSG", b"HMSG")


class PayloadReceiver(asyncio.BufferedProtocol):
    """A connection's protocol in place of asyncio's StreamReaderProtocol (`inner`, which still
    gets the connection's other events): reads go where the NATS framing says.

    It follows the server's operations as the parser does (a line; MSG/HMSG announce how many
    bytes follow): bytes of lines and small messages are read into one reused buffer and handed
    on as bytes; a payload of OWN_BUFFER_BYTES or more is read by the kernel straight into a
    bytearray of its size (what of it a read into the reused buffer took, copied there), handed
    on alone once full. Whatever it makes of the framing, it hands on the socket's bytes in their
    order: the parser, not this, decides what they mean."""

    def __init__(self, inner: asyncio.BaseProtocol, reader: ChunkReader) -> None:
        self._inner = inner
        self._reader = reader
        self._scratch = bytearray(READ_BYTES)
        self._view = memoryview(self._scratch)
        self._want = READ_BYTES
        self._line = bytearray()  # a control line cut by a read, so far
        self._pass = 0  # bytes to hand on as read (a small message and its CRLF, a header)
        self._then = 0  # after them, a payload to receive into a buffer of its own
        self._own: bytearray | None = None
        self._own_view: memoryview | None = None
        self._filled = 0
        self.owned = 0  # payloads received into their own buffers (tests)

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._own_view is not None:
            return self._own_view[self._filled:]
        return self._view[:self._want]

    def buffer_updated(self, nbytes: int) -> None:
        if self._own is not None:
            self._filled += nbytes
            if self._filled == len(self._own):
                self._own_done()
            return
        self._scan(nbytes)

    def _scan(self, n: int) -> None:
        """Hand on the `n` bytes just read into the reused buffer, following the framing."""
        view, i, start = self._view, 0, 0
        self._want = READ_BYTES
        while i < n:
            if self._pass:
                take = min(self._pass, n - i)
                i += take
                self._pass -= take
                continue
            if self._then:  # a large payload starts here: what this read took of it, copied
                self._hand_on(start, i)
                own = self._start_own()
                take = min(len(own), n - i)
                own[:take] = view[i:i + take]
                self._filled = take
                i = start = i + take
                if take == len(own):
                    self._own_done()
                continue
            end = self._scratch.find(b"\n", i, n)
            if end < 0:
                # kept to be read whole, within a bound: a line longer is no NATS operation the
                # parser takes (it closes the connection), and no payload follows it here
                self._line += view[i:n] if len(self._line) < MAX_LINE else b""
                break
            if self._line:
                self._line += view[i:end + 1]
                self._control(bytes(self._line))
                self._line.clear()
            else:
                self._control(bytes(view[i:end + 1]))
            i = end + 1
        self._hand_on(start, n)
        if self._then and not self._pass:  # it starts with the next read: all of it read there
            self._start_own()

    def _start_own(self) -> memoryview:
        size, self._then = self._then, 0
        # not zeroed (with the C extension): every byte of it is read into before it is handed on
        self._own = speedups.ext.unfilled_bytearray(size) if speedups.ext is not None else bytearray(size)
        self._own_view = memoryview(self._own)
        self._filled = 0
        return self._own_view

    def _control(self, line: bytes) -> None:
        """A whole control line: how many bytes follow it, and whether a payload gets its own
        buffer. A line the parser would refuse is taken as having none (it says what is wrong)."""
        if not line.startswith(_MSG_OPS):
            return
        parts = line.split()
        try:
            total = int(parts[-1])
            header = int(parts[-2]) if parts[0] == b"HMSG" else 0
        except (ValueError, IndexError):
            return
        if parts[0] not in _MSG_OPS or total < 0 or not 0 <= header <= total:
            return
        if OWN_BUFFER_BYTES <= total - header <= OWN_BUFFER_MAX:
            self._pass, self._then = header, total - header
        else:
            self._pass = total + len(_CRLF)

    def _hand_on(self, start: int, end: int) -> None:
        if end > start:
            self._reader.feed_data(bytes(self._view[start:end]))

    def _own_done(self) -> None:
        assert self._own is not None
        own, self._own, self._own_view = self._own, None, None
        self._reader.feed_own(own)
        self.owned += 1
        self._pass = len(_CRLF)
        self._want = READ_AFTER_OWN

    # the connection's other events: asyncio's protocol, as before
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._own = self._own_view = None
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def eof_received(self) -> bool | None:
        return cast(asyncio.Protocol, self._inner).eof_received()


def install_receiver(client: Any) -> bool:
    """Make a connected nats-py client's socket protocol a `PayloadReceiver` (install and
    install_reader first); False when it cannot: another transport (TLS, another event loop),
    or the client is not at a known place in the stream (a read being parsed, bytes held or a
    line half read: the framing would start in the middle of something; the next install, at a
    reconnect, tries again)."""
    transport = getattr(client, "_transport", None)
    reader = getattr(transport, "_io_reader", None)
    writer = getattr(transport, "_io_writer", None)
    parser = getattr(client, "_ps", None)
    if not isinstance(reader, ChunkReader) or not isinstance(writer, asyncio.StreamWriter):
        return False
    sock = writer.transport
    inner = sock.get_protocol()
    if isinstance(inner, PayloadReceiver):
        return True
    if (type(sock).__name__ != "_SelectorSocketTransport" or not isinstance(parser, PayloadParser)
            or not isinstance(inner, asyncio.StreamReaderProtocol)):
        return False
    if parser.parsing or parser.state != _CONTROL or parser.buf or reader._chunks:
        return False
    sock.set_protocol(PayloadReceiver(inner, reader))
    return True
