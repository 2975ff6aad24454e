"""The NATS fixture survives a port taken between free_port and nats-server's bind (CI saw a
node never listen: a port handed out by the kernel was reused before the server bound it)."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.servers.nats import NatsSingle


def test_a_taken_port_gets_a_fresh_one(tmp_path: Path) -> None:
    server = NatsSingle(tmp_path / "nats")
    taken = server.nodes[0].port
    with socket.socket() as busy:  # listening, so a bare "port open" check would be fooled
        busy.bind(("127.0.0.1", taken))
        busy.listen()
        server.start()
        try:
            assert server.nodes[0].port != taken
            assert server.url.endswith(f":{server.nodes[0].port}")
        finally:
            server.stop()
