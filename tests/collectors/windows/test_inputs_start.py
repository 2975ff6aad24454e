"""The Windows inputs start as one: when one of them cannot bind (a port in use), the ones already
started are stopped, so the failed component holds no listener that would be in the way of its
restart (nocsoc.collectors.listen.start_all)."""

from __future__ import annotations

import socket

import pytest

from nocsoc.collectors.windows.config import WindowsInputsConfig
from nocsoc.collectors.windows.inputs import WindowsInputs


def test_a_port_in_use_leaves_no_input_listening() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        inputs = WindowsInputs(WindowsInputsConfig(winlogbeat="127.0.0.1:0", nxlog_tcp=f"127.0.0.1:{port}"),
                               submit=lambda *_: True, submit_wait=lambda *_: True)
        with pytest.raises(OSError, match=f"cannot listen on tcp 127.0.0.1:{port}: address already in use"):
            inputs.start()
        assert inputs.winlogbeat is not None
        started_first = inputs.winlogbeat.address  # it was bound before nxlog_tcp failed
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(started_first, timeout=5).close()
