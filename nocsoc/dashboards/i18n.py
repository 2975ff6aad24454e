"""Titles and panel text in Vietnamese and English, from `i18n/<locale>.yaml`.

Kept as YAML (not Python) so a translator can edit the text without touching code; a missing key
is an error naming the key and the locale, never a silently English panel on a Vietnamese board.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from nocsoc.textcatalog import load_catalogue

Locale = Literal["vi", "en"]
LOCALES: tuple[Locale, ...] = ("vi", "en")
I18N_DIR = Path(__file__).parent / "i18n"


class TranslationError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


@cache
def catalog(locale: str) -> dict[str, str]:
    return load_catalogue(I18N_DIR, locale, LOCALES, TranslationError, what="locale")


class Translator:
    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._texts = catalog(locale)

    def __call__(self, key: str) -> str:
        try:
            return self._texts[key]
        except KeyError:
            path = I18N_DIR / f"{self.locale}.yaml"
            raise TranslationError(f"{path}: no text for key {key!r}") from None

    def get(self, key: str) -> str | None:
        return self._texts.get(key)
