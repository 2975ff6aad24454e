"""`nocsoc run`: the supervisor, its workers, and the status they report."""
