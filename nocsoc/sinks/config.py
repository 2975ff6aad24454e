"""Sink configuration (section `sinks:` of nocsoc.yaml): a list, each with its `type`.

The accepted types are the registered sink plugins (nocsoc.sinks.plugins); see settings.py.
"""

from typing import TYPE_CHECKING

from nocsoc.sinks.settings import SinkConfigBase, sink_config_union

if TYPE_CHECKING:
    SinkConfig = SinkConfigBase
else:
    SinkConfig = sink_config_union()

__all__ = ["SinkConfig", "SinkConfigBase"]
