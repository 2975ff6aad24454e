"""Titles and panel text in Vietnamese and English, from `i18n/<locale>.yaml`.

Kept as YAML (not Python) so a translator can edit the text without touching code; a missing key
is an error naming the key and the locale, never a silently English panel on a Vietnamese board.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml

Locale = Literal["vi", "en"]
LOCALES: tuple[Locale, ...] = ("vi", "en")
I18N_DIR = Path(__file__).parent / "i18n"


class TranslationError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


@cache
def catalog(locale: str) -> dict[str, str]:
    if locale not in LOCALES:
        raise TranslationError(f"unknown locale {locale!r} (choose one of {', '.join(LOCALES)})")
    path = I18N_DIR / f"{locale}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise TranslationError(f"{path}: expected a mapping of key: text")
    return {str(k): str(v) for k, v in data.items()}


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
