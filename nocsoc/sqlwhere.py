"""A WHERE clause built from optional filters, for the hand-written SQL of the alert store, the web
queue and the log archive: each filter that is set adds its condition and its parameters, in
order, so the text and the `?` values never drift apart."""

from __future__ import annotations

from typing import Any


class Where:
    """Conditions ANDed together and their `?` parameters, in the order they were added."""

    def __init__(self, *clauses: str) -> None:
        self.clauses: list[str] = list(clauses)
        self.args: list[Any] = []

    def add(self, clause: str, *args: Any) -> None:
        self.clauses.append(clause)
        self.args.extend(args)

    def if_given(self, value: Any, clause: str) -> None:
        """`clause` with `value` as its one parameter, unless `value` is empty (None, "", 0)."""
        if value:
            self.add(clause, value)

    def unless_none(self, value: Any, clause: str) -> None:
        """`clause` with `value` as its one parameter, unless `value` is None (0 and "" count)."""
        if value is not None:
            self.add(clause, value)

    def sql(self) -> str:
        """The conditions joined with AND ("" when there are none)."""
        return " AND ".join(self.clauses)
