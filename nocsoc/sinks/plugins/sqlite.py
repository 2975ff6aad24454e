"""`type: sqlite`: the embedded default (nocsoc.sinks.sqlite)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from nocsoc.paths import Resolver
from nocsoc.sinks.settings import SinkConfigBase, register_sink

if TYPE_CHECKING:
    from nocsoc.sinks.base import Sink


@register_sink
class SqliteSinkConfig(SinkConfigBase):
    summary = "embedded SQLite file (the default: no server)"

    type: Literal["sqlite"] = "sqlite"
    path: str = "./var/nocsoc.db"
    retention_days: float = Field(default=30.0, gt=0)

    def build(self, resolver: Resolver) -> Sink:
        from nocsoc.sinks.sqlite import SqliteSink

        return SqliteSink(self.sink_name, resolver.path(self.path), self.batch_settings(resolver),
                          retention_days=self.retention_days)

    def probe(self, resolver: Resolver) -> str | None:
        from nocsoc.sinks.probe import writable_file

        return writable_file(resolver.path(self.path))
