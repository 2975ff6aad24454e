"""Reading one language's YAML catalogue (`<lang>.yaml`: key -> text), shared by the dashboards'
titles (`dashboards.i18n`) and the terminal's texts (`messages`): each keeps its own folder, its
languages and its error type, the reading and its checks are the same."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml


def load_catalogue(folder: Path, lang: str, langs: Sequence[str], error: type[KeyError],
                   what: str = "language") -> dict[str, str]:
    """`folder/<lang>.yaml` as key -> text; `error` naming the language or the file when `lang`
    is not one of `langs` or the file is not a mapping."""
    if lang not in langs:
        raise error(f"unknown {what} {lang!r} (choose one of {', '.join(langs)})")
    path = folder / f"{lang}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise error(f"{path}: expected a mapping of key: text")
    return {str(k): str(v) for k, v in data.items()}
