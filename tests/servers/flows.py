"""Real flow peers for tests: softflowd (the exporter) and nfcapd/nfdump (the ground truth).

softflowd reading a pcap (`-r`) only advances when poked through its control socket, so
`softflowd_export` pokes it with `softflowctl statistics` until it exits at end of file, while a
UDP recorder on 127.0.0.1 keeps every datagram it exports. The recorded datagrams are then replayed,
the same bytes, to nfcapd and to nocsoc: both see exactly the same input.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers.base import LOOPBACK, ServerProcess, free_port, require_binary, wait_until


def record_udp(run: Callable[[int], None], quiet_s: float = 0.3) -> list[bytes]:
    """Bind a UDP recorder on 127.0.0.1, call `run(port)`, return every datagram received."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.bind((LOOPBACK, 0))
    port = sock.getsockname()[1]
    got: list[bytes] = []
    sock.settimeout(0.05)

    def drain(timeout: float) -> None:
        sock.settimeout(timeout)
        while True:
            try:
                got.append(sock.recv(65535))
            except TimeoutError:
                return

    try:
        run(port)
        drain(quiet_s)
    finally:
        sock.close()
    return got


def softflowd_export(
    pcap: Path, version: int, workdir: Path, timeout: float = 60.0, sampling: int | None = None
) -> list[bytes]:
    """softflowd's export (NetFlow v5, v9 or IPFIX=10) of `pcap`, as the datagrams it sent.

    `sampling`: softflowd's `-s N` (it then counts 1 in N packets and announces N in its
    options data)."""
    softflowd = require_binary("softflowd", "softflowd")
    softflowctl = require_binary("softflowctl", "softflowd")
    ctl = workdir / f"softflowd-v{version}.ctl"

    def run(port: int) -> None:
        argv = [
            softflowd,
            "-d",
            "-r",
            str(pcap),
            "-v",
            str(version),
            "-n",
            f"{LOOPBACK}:{port}",
            "-c",
            str(ctl),
            *(["-s", str(sampling)] if sampling else []),
        ]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        try:
            while proc.poll() is None:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"softflowd -r {pcap} did not finish in {timeout}s")
                # each poke lets softflowd read the next batch of the pcap
                subprocess.run([softflowctl, "-c", str(ctl), "statistics"], capture_output=True, timeout=10)
            if proc.returncode != 0:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                raise RuntimeError(f"softflowd exited {proc.returncode}: {out[-2000:]}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            if proc.stdout:
                proc.stdout.close()

    return record_udp(run)


def udp_rx_queue(port: int) -> int:
    """Bytes waiting in the receive queue of the IPv4 UDP socket bound to `port` (/proc/net/udp)."""
    want = f":{port:04X}"
    with open("/proc/net/udp") as fh:
        for line in fh.readlines()[1:]:
            parts = line.split()
            if parts[1].endswith(want):
                return int(parts[4].split(":")[1], 16)
    raise LookupError(f"no UDP socket on port {port}")


def send_datagrams(datagrams: list[bytes], port: int, host: str = LOOPBACK, pace_every: int = 50) -> None:
    """Replay datagrams to a UDP port on loopback, pausing briefly so no receiver buffer overflows."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i, d in enumerate(datagrams, 1):
            s.sendto(d, (host, port))
            if i % pace_every == 0:
                time.sleep(0.002)


@dataclass
class NfdumpSummary:
    """What nfdump reports for a capture: totals and top source addresses by bytes."""

    flows: int
    bytes: int
    packets: int
    top_src: list[tuple[str, int]]  # (address, bytes), largest first
    top_dst: list[tuple[str, int]]


class Nfcapd:
    """nfcapd on a free 127.0.0.1 UDP port writing into a temp dir; `stop()` flushes its file."""

    def __init__(self, workdir: Path) -> None:
        self.binary = require_binary("nfcapd", "nfdump")
        self.nfdump_bin = require_binary("nfdump", "nfdump")
        self.dir = workdir / "nfcapd"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port(socket.SOCK_DGRAM)
        self.proc: ServerProcess | None = None

    def start(self) -> None:
        argv = [self.binary, "-b", LOOPBACK, "-p", str(self.port), "-w", str(self.dir), "-t", "3600"]
        self.proc = ServerProcess("nfcapd", argv, self.dir.parent / "nfcapd.log")
        # nfcapd creates its temporary capture file once its socket is ready
        wait_until(
            lambda: any(p.name.startswith("nfcapd.current") for p in self.dir.iterdir()),
            timeout=20,
            what="nfcapd to open its capture file",
        )

    def send(self, datagrams: list[bytes]) -> None:
        """Send, then wait until nfcapd has read everything from its socket."""
        send_datagrams(datagrams, self.port)
        wait_until(
            lambda: udp_rx_queue(self.port) == 0,
            timeout=20,
            what=f"nfcapd to read its socket on port {self.port}",
        )

    def stop(self) -> Path:
        """Stop (which writes the capture file) and return its path."""
        assert self.proc is not None
        self.proc.stop()
        files = sorted(
            p
            for p in self.dir.iterdir()
            if p.name.startswith("nfcapd.") and not p.name.startswith("nfcapd.current")
        )
        if not files:
            raise RuntimeError(f"nfcapd wrote no capture file; log:\n{self.proc.log_tail()}")
        return files[-1]

    def nfdump(self, capture: Path, *args: str) -> str:
        out = subprocess.run(
            [self.nfdump_bin, "-r", str(capture), *args], capture_output=True, text=True, timeout=60
        )
        if out.returncode != 0:
            raise RuntimeError(f"nfdump {' '.join(args)}: {out.stderr}")
        return out.stdout

    def summary(self, capture: Path, n: int = 10) -> NfdumpSummary:
        """Totals from `nfdump -I`; top talkers from `-s srcip/bytes` / `-s dstip/bytes` (-o csv)."""
        info = self.nfdump(capture, "-I")
        values: dict[str, int] = {}
        for line in info.splitlines():
            key, sep, val = line.partition(":")
            if sep and val.strip().isdigit():
                values[key.strip()] = int(val.strip())

        def top(stat: str) -> list[tuple[str, int]]:
            text = self.nfdump(capture, "-s", f"{stat}/bytes", "-n", str(n), "-q", "-o", "csv")
            rows = []
            for line in text.splitlines():
                parts = line.split(",")
                # csv stat rows: ts,te,td,pr,val,fl,flP,ipkt,ipktP,ibyt,ibytP,...
                if len(parts) > 10 and parts[0][:1].isdigit():
                    rows.append((parts[4], int(parts[9])))
            return rows

        return NfdumpSummary(values["Flows"], values["Bytes"], values["Packets"], top("srcip"), top("dstip"))


@pytest.fixture
def nfcapd(tmp_path: Path) -> Iterator[Nfcapd]:
    server = Nfcapd(tmp_path)
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None and server.proc.alive():
            server.proc.stop()
