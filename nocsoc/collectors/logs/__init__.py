"""nocsoc.collectors.logs."""
