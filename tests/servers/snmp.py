"""Real SNMP agents for tests: Debian's net-snmp `snmpd` (v2c + v3 users) and snmpsim (PyPI).

snmpd serves this machine's real interfaces; snmpsim serves recorded and generated devices
(`tests/collectors/snmp/data/*.snmprec`, snmpsim's shipped `linux-full-walk.snmprec`).

snmpsim pitfalls handled here (see the field notes): it refuses to run as root without
`--process-user/--process-group`, and that user must be able to read the Python, so it runs from
`.venv-snmpsim` (a venv of Debian's own python3 that `make snmpsim-venv` builds world-readable),
with a cache dir that user can write. Per-address file layouts are broken with pysnmp 7, so each
simulated device gets its own `--data-dir` and its own `--agent-udpv4-endpoint`; the community
is the file name (`public.snmprec` -> `public`).
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers.base import LOOPBACK, ServerProcess, in_ci, require_binary, wait_until

ROOT = Path(__file__).resolve().parents[2]
SNMPSIM_VENV = Path(os.environ.get("NOCSOC_SNMPSIM_VENV", ROOT / ".venv-snmpsim"))
SNMP_DATA = ROOT / "tests" / "collectors" / "snmp" / "data"
COMMUNITY = "public"

V3_USERS = {
    # user: (auth protocol, auth password, priv protocol, priv password) - test fixtures only
    "nocsoc": ("SHA", "authpass123", "AES", "privpass123"),
    "nocsoc512": ("SHA-512", "authpass512", "AES", "privpass512"),
}

# A v2c GET of sysUpTime.0 with community "public", request-id 1 (BER, by hand: the readiness
# probe must not depend on the code under test).
_PROBE = bytes.fromhex("302602010104067075626c6963a019020101020100020100300e300c06082b060102010103000500")


def answers(port: int, host: str = LOOPBACK, timeout: float = 0.3) -> bool:
    """True when an SNMP v2c agent with community `public` answers on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(_PROBE, (host, port))
        try:
            return len(s.recv(4096)) > 0
        except OSError:
            return False


def loopback_net() -> str:
    """A random 127.N.0 prefix: simulated devices get distinct addresses (the inventory refuses
    two devices on one address) without colliding with another test session on this machine."""
    return f"127.{random.randint(100, 250)}.{random.randint(0, 250)}"


def free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def snmpsim_python() -> Path:
    """The snmpsim venv's python, or skip (fail under CI) saying how to build it."""
    py = SNMPSIM_VENV / "bin" / "python"
    reason = ""
    if not (SNMPSIM_VENV / "bin" / "snmpsim-command-responder").exists():
        reason = f"{SNMPSIM_VENV} missing (run `make snmpsim-venv`)"
    elif os.geteuid() == 0:
        # The agent runs as `nobody`: every directory above the venv must be traversable by others.
        closed = [p for p in SNMPSIM_VENV.resolve().parents if not os.stat(p).st_mode & 0o001]
        if closed:
            reason = (
                f"{closed[0]} is not traversable by `nobody` (snmpsim's user): build the venv "
                f"elsewhere, e.g. `make snmpsim-venv SNMPSIM_VENV=/opt/nocsoc-snmpsim` and set "
                f"NOCSOC_SNMPSIM_VENV to it"
            )
    if reason:
        if in_ci():
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    return py


def shipped_recording(name: str = "linux-full-walk.snmprec") -> Path:
    """A recording shipped inside the snmpsim package (data/recorded/...)."""
    found = sorted(SNMPSIM_VENV.glob(f"lib/python3*/site-packages/snmpsim/data/recorded/{name}"))
    if not found:
        pytest.skip(f"snmpsim's {name} not found under {SNMPSIM_VENV}")
    return found[0]


class SnmpSim:
    """One snmpsim process serving several devices, each on its own UDP port (one data dir each)."""

    def __init__(
        self,
        devices: Mapping[str, Path],
        root: Path | None = None,
        net: str | None = None,
        same_port: bool = False,
    ) -> None:
        """Device n answers on `<net>.n`; on one UDP port for all with `same_port` (discovery
        probes a network on one port), else each on its own free port."""
        self.python = snmpsim_python()
        # A world-readable tree: the agent runs as `nobody` (pytest's tmp dirs are 0700).
        self.root = Path(root or tempfile.mkdtemp(prefix="nocsoc-snmpsim-"))
        self.root.chmod(0o755)
        net = net or loopback_net()
        self.addresses: dict[str, str] = {}
        self.ports: dict[str, int] = {}
        args = [str(self.python), str(SNMPSIM_VENV / "bin" / "snmpsim-command-responder")]
        for n, (name, source) in enumerate(devices.items(), start=1):
            d = self.root / name
            d.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, d / f"{COMMUNITY}.snmprec")
            (d / f"{COMMUNITY}.snmprec").chmod(0o644)
            d.chmod(0o755)
            host = f"{net}.{n}"
            port = self.ports[next(iter(self.ports))] if same_port and self.ports else free_udp_port(host)
            self.addresses[name], self.ports[name] = host, port
            # One SNMP engine per device: with a shared engine the same community in two data
            # dirs is one context, and every endpoint would answer with the first device's data.
            args += ["--v3-engine-id=auto", f"--data-dir={d}", f"--agent-udpv4-endpoint={host}:{port}"]
        cache = self.root / "cache"
        cache.mkdir(exist_ok=True)
        cache.chmod(0o777)
        args += [f"--cache-dir={cache}", "--log-level=error"]
        if os.geteuid() == 0:
            args += ["--process-user=nobody", "--process-group=nogroup"]
        self.process = ServerProcess("snmpsim", args, self.root / "snmpsim.log")
        try:
            for name, port in self.ports.items():
                host = self.addresses[name]
                wait_until(
                    lambda p=port, h=host: self.process.alive() and answers(p, h),  # type: ignore[misc]
                    timeout=60,
                    what=f"snmpsim device {name} on udp {host}:{port}",
                )
        except TimeoutError as exc:
            tail = self.process.log_tail()
            self.stop()
            raise RuntimeError(f"snmpsim did not start: {exc}\n{tail}") from None

    @property
    def pid(self) -> int:
        return self.process.proc.pid

    def stop(self) -> None:
        self.process.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Snmpd:
    """A running net-snmp snmpd on `addresses` (four loopback addresses, so that the inventory can
    hold several devices on it), one UDP port, community `public` and the V3_USERS."""

    port: int
    process: ServerProcess
    root: Path
    addresses: tuple[str, ...]

    def stop(self) -> None:
        self.process.stop()


def start_snmpd(root: Path) -> Snmpd:
    binary = require_binary("snmpd", "snmpd")
    net = loopback_net()
    addresses = tuple(f"{net}.{n}" for n in (1, 2, 3, 4))
    port = free_udp_port(addresses[0])
    persistent = root / "persistent"
    persistent.mkdir(parents=True, exist_ok=True)
    lines = [
        "agentAddress " + ",".join(f"udp:{a}:{port}" for a in addresses),
        f"rocommunity {COMMUNITY} 127.0.0.0/8",
    ]
    for user, (ap, apw, pp, ppw) in V3_USERS.items():
        lines += [f'createUser {user} {ap} "{apw}" {pp} "{ppw}"', f"rouser {user} priv"]
    conf = root / "snmpd.conf"
    conf.write_text("\n".join(lines) + "\n")
    process = ServerProcess(
        "snmpd",
        [binary, "-f", "-C", "-c", str(conf), "-Lf", str(root / "snmpd.log"), "-p", str(root / "snmpd.pid")],
        root / "snmpd.out",
        env={"SNMP_PERSISTENT_DIR": str(persistent), "MIBS": ""},
    )
    try:
        wait_until(
            lambda: process.alive() and all(answers(port, a) for a in addresses),
            timeout=30,
            what=f"snmpd on udp {port}",
        )
    except TimeoutError as exc:
        process.stop()
        log = (root / "snmpd.log").read_text(errors="replace") if (root / "snmpd.log").exists() else ""
        raise RuntimeError(f"snmpd did not start: {exc}\n{log}{process.log_tail()}") from None
    return Snmpd(port, process, root, addresses)


@pytest.fixture(scope="session")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpd]:
    """Debian's snmpd on a free 127.0.0.1 UDP port (v2c `public`, v3 authPriv users V3_USERS)."""
    agent = start_snmpd(tmp_path_factory.mktemp("snmpd"))
    yield agent
    agent.stop()


@pytest.fixture(scope="session")
def snmpsim() -> Iterator[SnmpSim]:
    """snmpsim serving the simulated devices: core1, core2, dist1, ups1 (generated) and `server`
    (snmpsim's shipped linux-full-walk recording). `.ports[name]` is each device's UDP port."""
    devices = {p.stem: p for p in sorted(SNMP_DATA.glob("*.snmprec"))}
    devices["server"] = shipped_recording()
    sim = SnmpSim(devices)
    yield sim
    sim.stop()


def snmpwalk_available() -> bool:
    return shutil.which("snmpbulkwalk") is not None


def run_snmpbulkwalk(port: int, oid: str, community: str = COMMUNITY, max_rep: int = 25) -> int:
    """Varbinds net-snmp's snmpbulkwalk returns for a subtree (the benchmark's reference)."""
    out = subprocess.run(
        [
            "snmpbulkwalk",
            "-v2c",
            "-c",
            community,
            "-On",
            "-Cr" + str(max_rep),
            "-t",
            "2",
            "-r",
            "1",
            f"{LOOPBACK}:{port}",
            oid,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "MIBS": ""},
    )
    return sum(1 for line in out.stdout.splitlines() if line.startswith("."))
