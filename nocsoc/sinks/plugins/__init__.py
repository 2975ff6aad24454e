"""One module per sink type (see nocsoc.sinks.settings): found and registered automatically."""
