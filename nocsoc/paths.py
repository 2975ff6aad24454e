"""The one rule for paths written in nocsoc.yaml: `~` expanded, relative to nocsoc.yaml's directory.

Every component resolves through `resolve_path` or a `Resolver` (the runtime context implements
it), so `nocsoc -c /etc/nocsoc/nocsoc.yaml` behaves the same from any working directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


def resolve_path(base_dir: Path | None, value: str | Path) -> Path:
    """`value` with `~` expanded; a relative path is taken relative to `base_dir` (else the cwd)."""
    p = Path(value).expanduser()
    if p.is_absolute():
        return p
    return (base_dir if base_dir is not None else Path.cwd()) / p


class Resolver(Protocol):
    """Where a component resolves its paths and secret references (the runtime context)."""

    def path(self, value: str | Path) -> Path: ...

    def secret(self, ref: str, what: str) -> str: ...
