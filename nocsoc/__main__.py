"""`python -m nocsoc` is the `nocsoc` command (the supervisor starts its workers this way)."""

from nocsoc.cli.app import main

main()
