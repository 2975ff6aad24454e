"""nocsoc.simulate."""
