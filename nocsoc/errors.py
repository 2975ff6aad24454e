"""Errors a user can fix: each names the file, the line and the key at fault.

Every error that stems from input a person wrote (nocsoc.yaml, the inventory, an import file, a
secret reference) is a `NocsocError`. The CLI turns it into a clean message and exit code 2
instead of a traceback, so the message itself must say what is wrong and where.

One error may carry several `Problem`s: validation reports every problem at once rather than
making an admin fix them one run at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong at one place. `line` is 1-based; `key` is a dotted path such as
    `devices[3].address` (or a CSV row label such as `row 4`)."""

    message: str
    file: Path | str | None = None
    line: int | None = None
    key: str | None = None

    def render(self) -> str:
        """`file:line: key: message`, leaving out the parts that are unknown."""
        where = ""
        if self.file is not None:
            where = str(self.file)
            if self.line is not None:
                where += f":{self.line}"
        parts = [p for p in (where, self.key) if p]
        parts.append(self.message)
        return ": ".join(parts)

    def __str__(self) -> str:
        return self.render()


class NocsocError(Exception):
    """Base of every user-fixable error. `str(err)` is the full message, one problem per line."""

    exit_code = 2  # the CLI's "usage or validation error"

    def __init__(
        self,
        message: str = "",
        *,
        file: Path | str | None = None,
        line: int | None = None,
        key: str | None = None,
        problems: Iterable[Problem] = (),
    ) -> None:
        probs = list(problems)
        if message:
            probs.insert(0, Problem(message, file, line, key))
        if not probs:
            raise ValueError("NocsocError needs a message or at least one problem")
        self.problems: list[Problem] = probs
        super().__init__(self.render())

    @property
    def first(self) -> Problem:
        return self.problems[0]

    @property
    def file(self) -> Path | str | None:
        return self.first.file

    @property
    def line(self) -> int | None:
        return self.first.line

    @property
    def key(self) -> str | None:
        return self.first.key

    def render(self) -> str:
        return "\n".join(p.render() for p in self.problems)

    def __str__(self) -> str:
        return self.render()


class ConfigError(NocsocError):
    """nocsoc.yaml is missing, not YAML, or does not match the Config model."""


class InventoryError(NocsocError):
    """The inventory (or a file imported into it) is broken, or an edit would break it."""


class SecretError(NocsocError):
    """A secret reference is a literal, or cannot be resolved (unset variable, unsafe file)."""
