"""Texts a person reads on the terminal (tables, headings, state words) in Vietnamese and English.

Kept as YAML (`vi.yaml`, `en.yaml`, same keys) so a translator edits text, not code, like the
dashboards' catalogue (`nocsoc/dashboards/i18n`). A missing key is an error naming the key and the
file, never a silently English line on a Vietnamese screen. Which language: `nocsoc.cli.lang`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

LANGS = ("vi", "en")
DIR = Path(__file__).parent


class MessageError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


@cache
def catalog(lang: str) -> dict[str, str]:
    if lang not in LANGS:
        raise MessageError(f"unknown language {lang!r} (choose one of {', '.join(LANGS)})")
    path = DIR / f"{lang}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise MessageError(f"{path}: expected a mapping of key: text")
    return {str(k): str(v) for k, v in data.items()}


def text(lang: str, key: str, **values: object) -> str:
    """The text for `key` in `lang`, `{name}` fields filled from `values`."""
    try:
        found = catalog(lang)[key]
    except KeyError:
        raise MessageError(f"{DIR / f'{lang}.yaml'}: no text for key {key!r}") from None
    return found.format(**values) if values else found
