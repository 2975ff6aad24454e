"""nocsoc.dashboards."""
