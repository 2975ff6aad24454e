"""nocsoc: NOC + SOC telemetry for a provincial fiber backbone.

The data path reads from the tree: inventory -> collectors -> schema -> sinks;
detections -> alerts; dashboards are built from the same schema.
"""

__version__ = "0.1.0"
