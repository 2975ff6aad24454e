"""The bus's socket reader hands on what asyncio's StreamReader would, chunk by chunk, uncopied."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from nocsoc.bus.natsio import ChunkReader, install_reader


class FakeTransport:
    """The reading side of an asyncio transport: pauses and resumes counted."""

    def __init__(self) -> None:
        self.paused = False
        self.pauses = 0

    def pause_reading(self) -> None:
        self.paused = True
        self.pauses += 1

    def resume_reading(self) -> None:
        self.paused = False

    def is_closing(self) -> bool:
        return False


def reader(limit: int = 1 << 16, held: bytes = b"") -> Any:
    r = asyncio.StreamReader(limit=limit)
    r.set_transport(FakeTransport())  # type: ignore[arg-type]
    if held:
        r.feed_data(held)
    client = type("Client", (), {})()
    client._transport = type("Transport", (), {})()
    client._transport._io_reader = r
    assert install_reader(client) and type(r) is ChunkReader
    assert install_reader(client)  # (again: nothing changes)
    return r


def test_reads_are_the_chunks_fed_not_copies() -> None:
    async def go() -> None:
        r = reader()
        chunks = [bytes([i]) * (1000 + i) for i in range(5)]
        for c in chunks:
            r.feed_data(c)
        got = [await r.read(1 << 20) for _ in chunks]
        assert all(g is c for g, c in zip(got, chunks, strict=True))
    asyncio.run(go())


@pytest.mark.parametrize("seed", range(8))
def test_same_bytes_as_a_stream_reader_for_any_reads(seed: int) -> None:
    """Whatever the chunks and the read sizes, the bytes read in order are those fed, and what
    was held when it was installed comes first."""
    rng = random.Random(seed)
    held = rng.randbytes(rng.choice([0, 5, 300]))
    chunks = [rng.randbytes(rng.choice([1, 7, 1000, 70_000])) for _ in range(40)]

    async def go() -> bytes:
        r = reader(limit=1000, held=held)
        out = []
        fed = 0
        while fed < len(chunks) or not r.at_eof():
            if fed < len(chunks) and (rng.random() < 0.5 or not r._chunks):
                r.feed_data(chunks[fed])
                fed += 1
                if fed == len(chunks):
                    r.feed_eof()
                continue
            out.append(await r.read(rng.choice([1, 10, 5000, 1 << 20])))
        assert await r.read(10) == b""
        return b"".join(out)
    assert asyncio.run(go()) == held + b"".join(chunks)


def test_reading_pauses_past_twice_the_limit_and_resumes_at_it() -> None:
    async def go() -> None:
        r = reader(limit=100)
        t = r._transport
        r.feed_data(b"a" * 150)
        r.feed_data(b"b" * 60)  # 210 held > 200
        assert t.paused and t.pauses == 1
        await r.read(1000)  # 60 held <= 100
        assert not t.paused
    asyncio.run(go())


def test_a_read_waits_for_data() -> None:
    async def go() -> None:
        r = reader()
        pending = asyncio.ensure_future(r.read(100))
        await asyncio.sleep(0)
        assert not pending.done()
        r.feed_data(b"hello")
        assert await pending == b"hello"
    asyncio.run(go())


def test_an_error_fed_is_raised() -> None:
    async def go() -> None:
        r = reader()
        r.set_exception(ConnectionResetError("gone"))
        with pytest.raises(ConnectionResetError):
            await r.read(10)
    asyncio.run(go())


def test_other_reads_go_back_to_a_plain_reader() -> None:
    async def go() -> None:
        r = reader()
        r.feed_data(b"INFO {}\r\nPI")
        r.feed_data(b"NG\r\nrest")
        assert await r.readline() == b"INFO {}\r\n"
        assert type(r) is asyncio.StreamReader
        assert await r.readexactly(6) == b"PING\r\n"
        r.feed_data(b"!")
        assert await r.read(100) == b"rest!"
    asyncio.run(go())


def test_no_reader_of_the_kind_expected_is_left_alone() -> None:
    client = type("Client", (), {})()
    assert not install_reader(client)
    client._transport = type("Transport", (), {"_io_reader": object()})()
    assert not install_reader(client)
