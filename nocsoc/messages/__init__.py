"""Texts a person reads on the terminal (tables, headings, state words) in Vietnamese and English.

Kept as YAML (`vi.yaml`, `en.yaml`, same keys) so a translator edits text, not code, like the
dashboards' catalogue (`nocsoc/dashboards/i18n`). A missing key is an error naming the key and the
file, never a silently English line on a Vietnamese screen. Which language: `nocsoc.cli.lang`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from nocsoc.textcatalog import load_catalogue

LANGS = ("vi", "en")
DIR = Path(__file__).parent


class MessageError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


@cache
def catalog(lang: str) -> dict[str, str]:
    return load_catalogue(DIR, lang, LANGS, MessageError)


def text(lang: str, key: str, **values: object) -> str:
    """The text for `key` in `lang`, `{name}` fields filled from `values`."""
    try:
        found = catalog(lang)[key]
    except KeyError:
        raise MessageError(f"{DIR / f'{lang}.yaml'}: no text for key {key!r}") from None
    return found.format(**values) if values else found
