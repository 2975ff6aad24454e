"""Building the history writers a running service feeds, from the `history:` section."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nocsoc.history.config import HistoryConfig

if TYPE_CHECKING:
    from nocsoc.context import Context
    from nocsoc.history.flows import FlowHistoryWriter
    from nocsoc.history.logs import LogArchiveWriter


def history_dir(config: HistoryConfig, ctx: Context) -> Path:
    return ctx.path(config.dir)


def flow_writer(config: HistoryConfig, ctx: Context) -> FlowHistoryWriter | None:
    """The flow history writer the flow collector hands its batches to (None: history off)."""
    if not (config.enabled and config.flows):
        return None
    if config.backend == "clickhouse":
        from nocsoc.history.clickhouse import ClickHouseFlowWriter

        return ClickHouseFlowWriter(config, history_dir(config, ctx), ctx.secret)
    from nocsoc.history.flows import FlowHistoryWriter

    return FlowHistoryWriter(config, history_dir(config, ctx))


def log_writer(config: HistoryConfig, ctx: Context) -> LogArchiveWriter | None:
    """The log archive writer the log pipeline hands every event to (None: archive off)."""
    if not (config.enabled and config.logs):
        return None
    from nocsoc.history.logs import LogArchiveWriter

    return LogArchiveWriter(config, history_dir(config, ctx))
