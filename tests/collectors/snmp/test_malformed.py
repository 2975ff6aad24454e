"""An agent that answers garbage gets a clear per-device error, not a crash or a hang."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from nocsoc.collectors.snmp.config import SnmpConfig
from nocsoc.collectors.snmp.poller import SnmpPoller
from nocsoc.inventory.model import Inventory
from nocsoc.sinks.memory import MemorySink
from tests.collectors.snmp.conftest import profiles
from tests.servers.snmp import free_udp_port, loopback_net


@pytest.fixture(params=["truncated", "unknown-type"])
def bad_agent(request: pytest.FixtureRequest) -> Iterator[tuple[str, int, str]]:
    """Answers every request with the request itself turned into a Response, then broken: cut
    short (not even a whole TLV) or with a value type SNMP does not have."""
    host = f"{loopback_net()}.1"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, free_udp_port(host)))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except OSError:
                continue
            pdu_at = data.index(b"public") + len(b"public")
            reply = bytearray(data)
            reply[pdu_at] = 0xA2  # a GetResponse PDU...
            if request.param == "truncated":
                sock.sendto(bytes(reply[:-4]), peer)  # ...whose last varbind is cut off
            else:
                reply[-2] = 0x99  # ...whose last value (a NULL) has an unknown type
                sock.sendto(bytes(reply), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield host, sock.getsockname()[1], request.param
    stop.set()
    thread.join(2)
    sock.close()


def test_malformed_reply_is_a_clear_error(bad_agent: tuple[str, int, str], snmp_secrets: None) -> None:
    inv = Inventory.model_validate(
        {
            "sites": [{"id": "dx", "name": "Đồng Xoài"}],
            "snmp_profiles": profiles(),
            "devices": [
                {
                    "name": "broken",
                    "address": bad_agent[0],
                    "snmp_port": bad_agent[1],
                    "profile": "sim",
                    "role": "access",
                    "site": "dx",
                }
            ],
        }
    )
    sink = MemorySink()
    (result,) = SnmpPoller(SnmpConfig(), inv, sink).run_once()
    assert not result.ok and result.error_kind == "malformed"
    assert result.error is not None and "broken" in result.error
    if bad_agent[2] == "truncated":  # dropped on arrival; the retry gets the same
        assert "GET: 2 malformed replies (not valid SNMP BER) and no valid answer" in result.error
    else:
        assert "malformed GET reply: unknown value type 0x99" in result.error
    assert [p.fields["reachable"] for p in sink.of("device")] == [0]
