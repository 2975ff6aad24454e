"""nocsoc.inventory."""
