"""`type: stdout`: line protocol on standard output (nocsoc.sinks.stdout)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from nocsoc.paths import Resolver
from nocsoc.sinks.settings import SinkConfigBase, register_sink

if TYPE_CHECKING:
    from nocsoc.sinks.base import Sink


@register_sink
class StdoutSinkConfig(SinkConfigBase):
    summary = "line protocol on standard output, one point per line"

    type: Literal["stdout"] = "stdout"

    def build(self, resolver: Resolver) -> Sink:
        from nocsoc.sinks.stdout import StdoutSink

        return StdoutSink(self.sink_name)
