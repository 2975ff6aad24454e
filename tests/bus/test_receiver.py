"""The bus's socket protocol (natsio.PayloadReceiver) hands on the socket's bytes in order, a large
payload as one bytearray the kernel wrote, however the reads are cut; the parser then makes of
them exactly what nats-py's own parser makes of the stream."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from nats.protocol.parser import Parser

from nocsoc.bus import natsio
from nocsoc.bus.natsio import OWN_BUFFER_BYTES, ChunkReader, PayloadParser, PayloadReceiver
from tests.bus.test_chunkreader import FakeTransport
from tests.bus.test_natsio import Recorder, stream


class Calls(Recorder):
    """The client callbacks a parser drives, payloads as bytes (and their type apart)."""

    def __init__(self) -> None:
        super().__init__()
        self.types: list[tuple[int, type]] = []

    async def _process_msg(self, sid: int, subject: bytes, reply: bytes, data: Any, headers: Any) -> None:
        self.types.append((len(data), type(data)))
        self.calls.append(("msg", sid, bytes(subject), bytes(reply), bytes(data), headers))


def reference(data: bytes) -> list[tuple[Any, ...]]:
    nc = Calls()
    asyncio.run(Parser(nc).parse(data))
    return nc.calls


def received(data: bytes, reads: list[int]) -> tuple[list[Any], PayloadReceiver]:
    """`data` through a PayloadReceiver as asyncio's reads would put it (each read at most the
    size drawn and the buffer offered): the chunks its reader holds."""
    loop = asyncio.new_event_loop()
    try:
        reader = ChunkReader(limit=1 << 30, loop=loop)
        reader.set_transport(FakeTransport())  # type: ignore[arg-type]
        reader._take_over()
        proto = PayloadReceiver(asyncio.Protocol(), reader)
        at, k = 0, 0
        while at < len(data):
            buf = proto.get_buffer(-1)
            assert len(buf)
            n = min(len(buf), reads[k % len(reads)], len(data) - at)
            buf[:n] = data[at:at + n]
            proto.buffer_updated(n)
            at, k = at + n, k + 1
        return list(reader._chunks), proto
    finally:
        loop.close()


def parsed(chunks: list[Any]) -> Calls:
    nc = Calls()
    ps = PayloadParser(nc)

    async def go() -> None:
        for c in chunks:
            await ps.parse(c)
    asyncio.run(go())
    return nc


@pytest.mark.parametrize("seed", range(10))
def test_same_bytes_and_calls_for_any_reads(seed: int) -> None:
    rng = random.Random(seed)
    data = stream(rng)
    want = reference(data)
    large = sum(1 for c in want if c[0] == "msg" and len(c[4]) >= OWN_BUFFER_BYTES)
    assert large >= 1
    for reads in ([1 << 30], [1], [7, 3000, 1 << 20], [rng.randrange(1, 200_000) for _ in range(50)]):
        chunks, proto = received(data, reads)
        assert b"".join(chunks) == data
        got = parsed(chunks)
        assert got.calls == want
        # every large payload is the bytearray the reads went into, handed on as it is
        assert proto.owned == large
        assert [t for n, t in got.types if n >= OWN_BUFFER_BYTES] == [bytearray] * large
        assert all(t is bytes for n, t in got.types if n < OWN_BUFFER_BYTES)


def test_every_cut_around_a_large_message() -> None:
    """A large message whose line, header, payload and CRLF are cut by reads anywhere."""
    payload = bytes(range(256)) * (OWN_BUFFER_BYTES // 256 + 3)
    hdr = b"NATS/1.0\r\nNats-Msg-Id: x\r\n\r\n"
    data = (b"PING\r\nHMSG s 1 r %d %d\r\n" % (len(hdr), len(hdr) + len(payload)) + hdr + payload
            + b"\r\nMSG t 2 3\r\nabc\r\nPONG\r\n")
    want = reference(data)
    edges = [0, 6, 30, 31, 40, 60, 61, len(data) - 30, len(data) - 21, len(data) - 20, len(data) - 1]
    for first in range(1, 90):
        for rest in (5, 4096, 1 << 20) if first % 11 == 0 else (4096, 1 << 20):
            chunks, proto = received(data, [first, rest])
            assert b"".join(chunks) == data and parsed(chunks).calls == want
            assert proto.owned == 1
    for e in edges:
        if 0 < e < len(data):
            chunks, _ = received(data, [e, len(data)])
            assert b"".join(chunks) == data and parsed(chunks).calls == want


def test_a_line_it_cannot_read_is_handed_on_for_the_parser_to_refuse() -> None:
    for bad in (b"MSG s 1 x\r\n", b"HMSG s 1 9 5\r\n", b"MSGX a b 99999\r\n", b"HMSG\r\n",
                b"MSG a 1 " + b"9" * 200_000 + b"\r\n"):  # (a line past MAX_LINE: not kept whole)
        data = bad + b"PING\r\n" + bytes(100_000)
        chunks, proto = received(data, [17, 5000])
        assert b"".join(chunks) == data and proto.owned == 0


def test_install_on_a_real_connection() -> None:
    """Over a real socket: the connection's protocol replaced, its events still reach asyncio's
    (the end of the stream), and what the parser gets equals nats-py's parse of the stream."""
    rng = random.Random(7)
    data = stream(rng)
    want = reference(data)

    async def go() -> tuple[Calls, int]:
        async def serve(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            for i in range(0, len(data), 50_000):
                w.write(data[i:i + 50_000])
                await w.drain()
                await asyncio.sleep(0)
            w.close()
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        r, w = await asyncio.open_connection("127.0.0.1", port)
        client: Any = type("Client", (), {})()
        client._transport = type("Transport", (), {})()
        client._transport._io_reader, client._transport._io_writer = r, w
        client._ps = PayloadParser(nc := Calls())
        assert natsio.install_reader(client) and natsio.install_receiver(client)
        assert natsio.install_receiver(client)  # (again: nothing changes)
        proto = w.transport.get_protocol()
        assert isinstance(proto, PayloadReceiver)
        while not r.at_eof():
            b = await r.read(1 << 20)
            await client._ps.parse(b)
        w.close()
        server.close()
        await server.wait_closed()
        return nc, proto.owned
    nc, owned = asyncio.run(go())
    assert nc.calls == want
    assert owned == sum(1 for n, t in nc.types if t is bytearray) >= 1


def test_not_installed_where_the_stream_place_is_unknown() -> None:
    async def go() -> None:
        server = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
        r, w = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
        client: Any = type("Client", (), {})()
        client._transport = type("Transport", (), {})()
        client._transport._io_reader, client._transport._io_writer = r, w
        client._ps = Parser(Calls())
        assert not natsio.install_receiver(client)  # no ChunkReader yet
        assert natsio.install_reader(client)
        assert not natsio.install_receiver(client)  # nats-py's own parser
        client._ps = PayloadParser(Calls())
        r.feed_data(b"PI")  # a read not yet parsed
        assert not natsio.install_receiver(client)
        await r.read(10)
        await client._ps.parse(b"PI")  # a line half parsed
        assert not natsio.install_receiver(client)
        await client._ps.parse(b"NG\r\n")
        assert natsio.install_receiver(client)
        w.close()
        server.close()
        await server.wait_closed()
    asyncio.run(go())
