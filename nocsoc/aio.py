"""asyncio helpers the runtime shares."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any], retry_s: float = 0.5) -> None:
    """Cancel `task` and return once it has ended, whatever it raised.

    One `cancel()` is not enough on Python < 3.12: `asyncio.wait_for` swallows a cancellation that
    arrives as its inner awaitable completes (bpo-42130), so a loop calling it can go on after
    being cancelled (a heartbeat that never stops kept a dead poller alive in a test under load).
    The task is cancelled again until it ends; loops should also check a stop flag of their own."""
    while not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait({task}, timeout=retry_s)
    if not task.cancelled():
        with contextlib.suppress(Exception):
            task.exception()  # retrieved: no "exception was never retrieved" at shutdown
