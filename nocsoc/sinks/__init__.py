"""nocsoc.sinks."""
