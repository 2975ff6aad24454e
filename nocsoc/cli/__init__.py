"""nocsoc.cli."""
