"""nocsoc.collectors."""
