"""Fuzzing the trap decoding path: >= 100k inputs (real v1/v2c/v3 datagrams from `snmptrap`,
mutated: bit flips, byte changes, truncation, insertion, splices, BER length fields pushed to
extremes; and random bytes). Every input must be counted exactly once, by reason, and nothing may
raise; a real trap right after is still decoded."""

from __future__ import annotations

import os
import random
import socket
import subprocess
from pathlib import Path

import pytest

from nocsoc.collectors.traps.receiver import TrapReceiver
from nocsoc.detections.alerts import AlertStore
from nocsoc.inventory.model import Inventory
from nocsoc.sinks.memory import MemorySink
from tests.collectors.traps.conftest import AUTH, COMMUNITY, ENGINE_ID, PRIV, inventory_data, traps_config
from tests.servers.base import require_binary

INPUTS = 100_000
OUTCOMES = ("traps", "bad_community", "unknown_user", "wrong_digest", "decrypt_errors",
            "not_in_time_window", "unknown_engine_id", "unsupported_sec_level", "malformed",
            "refused_other")


def capture(tmp_path: Path) -> list[bytes]:
    """Real datagrams: what net-snmp's snmptrap puts on the wire for each version."""
    tool = require_binary("snmptrap", "snmp")
    env = {**os.environ, "MIBS": "", "SNMPCONFPATH": str(tmp_path), "SNMP_PERSISTENT_DIR": str(tmp_path)}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(10)
        target = f"127.0.0.1:{s.getsockname()[1]}"
        link = ["1.3.6.1.2.1.2.2.1.1.3", "i", "3", "1.3.6.1.2.1.2.2.1.8.3", "i", "2",
                "1.3.6.1.2.1.31.1.1.1.1.3", "s", "xe-0/0/3"]
        sends = [
            ["-v", "2c", "-c", COMMUNITY, target, "99", "1.3.6.1.6.3.1.1.5.3", *link],
            ["-v", "1", "-c", COMMUNITY, target, "1.3.6.1.4.1.9.9.43.2", "127.0.0.1", "6", "1", "99",
             "1.3.6.1.4.1.9.9.43.1.1.6.1.3.10", "i", "1"],
            ["-v", "3", "-e", f"0x{ENGINE_ID}", "-u", "trapuser", "-l", "authPriv", "-a", "SHA", "-A", AUTH,
             "-x", "AES", "-X", PRIV, target, "99", "1.3.6.1.6.3.1.1.5.4", *link],
            ["-v", "2c", "-c", COMMUNITY, target, "99", "1.3.6.1.4.1.99999.0.1", "1.3.6.1.4.1.99999.2",
             "x", "DEADBEEF", "1.3.6.1.4.1.99999.3", "o", "1.3.6.1.4.1.99999.4", "1.3.6.1.4.1.99999.5",
             "a", "10.0.0.1", "1.3.6.1.4.1.99999.6", "c", "4294967295", "1.3.6.1.4.1.99999.7", "t", "1"],
        ]
        out = []
        for args in sends:
            subprocess.run([tool, *args], check=True, capture_output=True, timeout=30, env=env)
            out.append(s.recv(65535))
    return out


def mutate(rng: random.Random, seeds: list[bytes]) -> bytes:
    data = bytearray(rng.choice(seeds))
    for _ in range(rng.choice((1, 1, 1, 2, 3, 8))):
        op = rng.randrange(7)
        if not data:
            data = bytearray(rng.randbytes(rng.randrange(1, 64)))
        i = rng.randrange(len(data))
        if op == 0:
            data[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            data[i] = rng.choice((0x00, 0x7F, 0x80, 0x81, 0x82, 0x84, 0xFF, rng.randrange(256)))
        elif op == 2:
            del data[i:]
        elif op == 3:
            data[i:i] = rng.randbytes(rng.randrange(1, 16))
        elif op == 4:
            j = rng.randrange(len(data))
            del data[min(i, j):max(i, j)]
        elif op == 5:
            other = rng.choice(seeds)
            k = rng.randrange(len(other))
            data[i:] = other[k:]
        else:  # a long-form BER length claiming far more than there is
            data[i:i + 1] = bytes((0x84, 0x7F, 0xFF, 0xFF, 0xFF))
    return bytes(data)


@pytest.mark.timeout(900)
def test_fuzzed_datagrams_never_crash_and_are_all_counted(trap_env: None, tmp_path: Path) -> None:
    seeds = capture(tmp_path)
    sink, store = MemorySink(), AlertStore(tmp_path / "alerts.db")
    receiver = TrapReceiver(traps_config(), Inventory.model_validate(inventory_data()), sink,
                            base_dir=tmp_path, store=store)
    rng = random.Random(20261206)
    source = ("127.0.0.1", 40000)
    try:
        for seed in seeds:  # the unmutated datagrams are all accepted
            assert receiver.handle(seed, source) is not None
        for n in range(INPUTS):
            data = rng.randbytes(rng.randrange(0, 300)) if n % 10 == 0 else mutate(rng, seeds)
            receiver.handle(data, source)
            if n % 5000 == 0:
                receiver.flush()  # events and alerts of the accepted mutants go through too
        receiver.flush()
        c = receiver.counters.snapshot()
        assert sum(c[k] for k in OUTCOMES) == INPUTS + len(seeds)
        assert c["malformed"] > INPUTS // 2  # most mutants are not SNMP any more
        assert c["traps"] > len(seeds)  # some mutants stay valid traps and are mapped without error
        assert receiver.handle(seeds[0], source) is not None  # still decoding after all that
    finally:
        store.close()
