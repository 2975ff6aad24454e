"""nocsoc.collectors.flows."""
