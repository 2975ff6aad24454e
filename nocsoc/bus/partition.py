"""Which partition a record belongs to, and the names of streams and subjects.

Partition by the group key: the exporter's address for flows (its templates, sampling rates and
per-interval rollups must all be in one decoder), the sender's address for logs (a correlation
window groups by host, so all of one host's events must be in one detector; a Windows event
shipper's documents and a trap sender's traps likewise by the sender's address). CRC-32 because it
is stable across processes, hosts and Python versions (Python's own hash() is salted).
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nocsoc.bus.config import BusConfig

KINDS = ("flows", "logs", "traps")


def partitions_of(config: BusConfig, kind: str) -> int:
    """How many partitions `kind` has (flows by exporter, logs and traps by sender)."""
    return {"flows": config.flow_partitions, "logs": config.log_partitions,
            "traps": config.trap_partitions}[kind]


def partition_of(key: str, partitions: int) -> int:
    return zlib.crc32(key.encode()) % partitions


def token(address: str) -> str:
    """An address as one subject token (no dots, no wildcards)."""
    return address.replace(".", "_").replace(":", "-").replace("*", "").replace(">", "") or "_"


def stream_name(prefix: str, kind: str, partition: int) -> str:
    return f"{prefix.upper()}_{kind.upper()}_P{partition:03d}"


def subject(prefix: str, kind: str, partition: int, source: str) -> str:
    return f"{prefix}.{kind}.p{partition:03d}.{token(source)}"


def partition_filter(prefix: str, kind: str, partition: int) -> str:
    return f"{prefix}.{kind}.p{partition:03d}.>"


def consumer_name(kind: str, partition: int) -> str:
    return f"{kind}-p{partition:03d}"


def dead_stream(prefix: str) -> str:
    return f"{prefix.upper()}_DEAD"


def dead_subject(prefix: str, kind: str) -> str:
    return f"{prefix}.dead.{kind}"
