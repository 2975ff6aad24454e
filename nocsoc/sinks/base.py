"""The sink contract: where telemetry goes.

Collectors hand `Point`s (made by the schema) to a `Sink`. `write()` never blocks on the network
and never raises for a dead database: a batching sink queues, retries, and spools to disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from nocsoc.schema import Point


class SinkError(RuntimeError):
    """A sink that cannot be built or used (bad config, unknown type), naming the sink."""


@runtime_checkable
class Sink(Protocol):
    name: str

    def write(self, points: Sequence[Point]) -> None:
        """Accept points; returns at once (queued), never raises for an unreachable database."""
        ...

    def flush(self, timeout: float | None = None) -> bool:
        """Send what is queued; True when nothing is left unsent (spool included)."""
        ...

    def close(self) -> None:
        """Flush what can be flushed, spool the rest, release resources."""
        ...

    def counters(self) -> dict[str, int]:
        """written, batches, retries, rejected, spooled, replayed, spool_dropped, spool_bytes, queue."""
        ...
