"""The bus's NATS parser hands on exactly what nats-py's own parser does, however reads are cut."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from nats.errors import ProtocolError
from nats.protocol.parser import Parser

from nocsoc.bus.natsio import PayloadParser, install


class Recorder:
    """The client callbacks a parser drives, recorded in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    async def _process_msg(self, sid: int, subject: bytes, reply: bytes, data: bytes,
                           headers: bytes | None) -> None:
        assert type(data) is bytes and (headers is None or type(headers) is bytes)
        self.calls.append(("msg", sid, bytes(subject), bytes(reply), data, headers))

    async def _process_ping(self) -> None:
        self.calls.append(("ping",))

    async def _process_pong(self) -> None:
        self.calls.append(("pong",))

    async def _process_info(self, info: dict[str, Any]) -> None:
        self.calls.append(("info", info))

    async def _process_err(self, err: str) -> None:
        self.calls.append(("err", err))


class ParsingClient(Recorder):
    """A client holding nats-py's own Parser, as nats.Client does (`install` replaces it)."""

    def __init__(self) -> None:
        super().__init__()
        self._ps = Parser(self)


def stream(rng: random.Random) -> bytes:
    """Every operation a server sends a client, payloads of 0 bytes to several reads long."""
    ops = [b'INFO {"server_id":"x","max_payload":1048576}\r\n', b"PING\r\n", b"PONG\r\n", b"+OK\r\n",
           b"-ERR 'Permissions Violation for Subscription to \"a.b\"'\r\n"]
    out = []
    for k in range(60):
        pick = rng.randrange(8)
        size = rng.choice([0, 1, 2, 3, 17, 1000, 70_000])
        payload = bytes(rng.randrange(256) for _ in range(min(size, 64))) * (size // 64 + 1)
        payload = payload[:size].replace(b"\n", b"\r\n") if rng.random() < 0.3 else payload[:size]
        if pick < 5:
            out.append(ops[pick])
        elif pick == 5:
            out.append(b"MSG nocsoc.flows.p001 %d %d\r\n" % (k, len(payload)) + payload + b"\r\n")
        elif pick == 6:
            reply = b"$JS.ACK.NOCSOC_FLOWS_P001.flows-p001.1.%d.%d.1700000000000000000.0" % (k, k)
            out.append(b"MSG _INBOX.abc %d %s %d\r\n" % (k, reply, len(payload)) + payload + b"\r\n")
        else:
            hdr = b"NATS/1.0\r\nNats-Msg-Id: r-%d\r\n\r\n" % k
            out.append(b"HMSG _INBOX.x.y %d $JS.ACK.S.C.1.%d.%d.1.0 %d %d\r\n"
                       % (k, k, k, len(hdr), len(hdr) + len(payload)) + hdr + payload + b"\r\n")
    return b"".join(out)


def feed(parser_class: type[Parser], data: bytes, cuts: list[int]) -> list[tuple[Any, ...]]:
    nc = Recorder()
    ps = parser_class(nc)

    async def go() -> None:
        last = 0
        for c in [*cuts, len(data)]:
            await ps.parse(data[last:c])
            last = c
    asyncio.run(go())
    return nc.calls


@pytest.mark.parametrize("seed", range(12))
def test_same_calls_as_nats_py_for_any_cut(seed: int) -> None:
    rng = random.Random(seed)
    data = stream(rng)
    want = feed(Parser, data, [])
    assert sum(1 for c in want if c[0] == "msg") > 10
    for _ in range(4):
        cuts = sorted(rng.sample(range(1, len(data)), rng.choice([1, 5, 50, 400])))
        assert feed(PayloadParser, data, cuts) == want


def test_every_cut_of_a_short_stream() -> None:
    data = (b"PING\r\nHMSG a 1 r 12 17\r\nNATS/1.0\r\n\r\nhello\r\nMSG b 2 3\r\nabc\r\n"
            b"MSG c 3 0\r\n\r\nPONG\r\n")
    want = feed(Parser, data, [])
    assert want == [("ping",), ("msg", 1, b"a", b"r", b"hello", b"NATS/1.0\r\n\r\n"),
                    ("msg", 2, b"b", b"", b"abc", None), ("msg", 3, b"c", b"", b"", None), ("pong",)]
    for i in range(1, len(data)):
        for j in range(i, len(data)):
            assert feed(PayloadParser, data, [i, j]) == want


def test_a_payload_read_whole_is_not_copied() -> None:
    payload = bytes(range(256)) * 40
    nc = Recorder()
    ps = PayloadParser(nc)

    async def go() -> None:
        await ps.parse(b"MSG s 1 %d\r\n" % len(payload))
        await ps.parse(payload)
        await ps.parse(b"\r\n")
    asyncio.run(go())
    assert nc.calls[0][4] is payload


def test_an_unknown_line_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        feed(PayloadParser, b"PING\r\nBOGUS 1 2\r\n", [3])


def test_install_carries_a_message_half_read() -> None:
    nc = ParsingClient()
    data = b"MSG s 7 10\r\n0123456789\r\nPING\r\n"

    async def go() -> None:
        await nc._ps.parse(data[:16])  # the line and 4 payload bytes
        assert install(nc) and type(nc._ps) is PayloadParser
        await nc._ps.parse(data[16:])
    asyncio.run(go())
    assert nc.calls == [("msg", 7, b"s", b"", b"0123456789", None), ("ping",)]


@pytest.mark.parametrize("seed", range(6))
def test_hpub_command_is_nats_py_s(seed: int) -> None:
    from nats.protocol import command as nats_command

    from nocsoc.bus import natsio

    rng = random.Random(seed)
    payload = bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 300, 5000])))
    hdr = bytearray(b"NATS/1.0\r\nNats-Msg-Id: m-%d\r\n\r\n" % rng.randrange(10**9))
    subject, reply = f"nocsoc.flows.p{seed:03d}.10_0_0_{seed}", f"_INBOX.abc.{rng.randrange(10**6)}"
    assert natsio.hpub_cmd(subject, reply, hdr, payload) == natsio._NATS_HPUB(subject, reply, hdr, payload)
    import nocsoc.bus.nats_driver  # noqa: F401  (installs it)

    assert nats_command.hpub_cmd is natsio.hpub_cmd


def test_install_carries_a_line_half_read() -> None:
    nc = ParsingClient()
    old = nc._ps

    async def go() -> None:
        await nc._ps.parse(b"PONG\r\nMSG s 3 ")
        assert install(nc) and not old.buf  # the old parser keeps nothing to read twice
        await nc._ps.parse(b"2\r\nhi\r\n")
    asyncio.run(go())
    assert nc.calls == [("pong",), ("msg", 3, b"s", b"", b"hi", None)]


def test_a_reset_in_a_callback_ends_that_read() -> None:
    class Resetting(Recorder):
        async def _process_ping(self) -> None:
            await super()._process_ping()
            ps.reset()  # what nats-py does when it starts reconnecting

    nc = Resetting()
    ps = PayloadParser(nc)

    async def go() -> None:
        await ps.parse(b"PONG\r\nPING\r\nMSG s 1 2\r\nhi\r\n")  # the rest is the old connection's
        await ps.parse(b"MSG t 2 2\r\nok\r\n")
    asyncio.run(go())
    assert nc.calls == [("pong",), ("ping",), ("msg", 2, b"t", b"", b"ok", None)]


def test_a_large_payload_stays_apart_from_its_command_and_is_written_alone() -> None:
    """With `unjoined` set (the bus's publishes on an installed client), a large payload's HPUB
    command is its parts: queued one by one, written without a join, the same bytes in order."""
    from nocsoc.bus import natsio

    payload = bytes(range(256)) * 400  # 100 kB
    hdr = bytearray(b"NATS/1.0\r\nNats-Msg-Id: m-1\r\n\r\n")
    want = natsio._NATS_HPUB("s.a", "_INBOX.r", hdr, payload)
    assert natsio.hpub_cmd("s.a", "_INBOX.r", hdr, payload) == want  # (not set: joined)
    token = natsio.unjoined.set(True)
    try:
        parts = natsio.hpub_cmd("s.a", "_INBOX.r", hdr, payload)
        small = natsio.hpub_cmd("s.a", "_INBOX.r", hdr, b"tiny")
    finally:
        natsio.unjoined.reset(token)
    assert type(parts) is natsio.Unjoined and parts[1] is payload and b"".join(parts) == want
    assert type(small) is bytes

    class Writer(asyncio.StreamWriter):
        def __init__(self) -> None:  # (no transport: writes recorded)
            self.writes: list[bytes] = []
            self._transport = type("Closed", (), {"is_closing": lambda _self: True})()

        def write(self, data: Any) -> None:
            self.writes.append(data)

    class Client:
        _pending: list[bytes]
        _pending_data_size = 0
        _max_pending_size = 1 << 30

        def __init__(self) -> None:
            self._pending = []
            self._transport = type("T", (), {})()
            self._transport._io_writer = Writer()

        async def _send_command(self, cmd: bytes, priority: bool = False) -> None:
            self._pending.append(cmd)
            self._pending_data_size += len(cmd)

    nc = Client()
    assert natsio.install_writer(nc)

    async def go() -> None:
        await nc._send_command(b"PING\r\n")
        await nc._send_command(parts)
        await nc._send_command(small)
    asyncio.run(go())
    assert nc._pending_data_size == 6 + len(want) + len(small)
    nc._transport.writelines(nc._pending)
    writes = nc._transport._io_writer.writes
    assert b"".join(writes) == b"PING\r\n" + want + small
    assert writes[1] is payload  # written as it is, no copy
