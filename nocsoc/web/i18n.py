"""The console's texts in Vietnamese (default) and English: YAML catalogues beside this module,
as nocsoc/dashboards/i18n.py does for the dashboards, so a translator edits text, not code. A key
missing from a catalogue is an error naming it (tests check both catalogues have the same keys)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import yaml

LOCALES = ("vi", "en")
DIR = Path(__file__).parent / "i18n"


@cache
def catalog(locale: str) -> dict[str, str]:
    if locale not in LOCALES:
        raise KeyError(f"unknown locale {locale!r} (one of {', '.join(LOCALES)})")
    data = yaml.safe_load((DIR / f"{locale}.yaml").read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


def translator(locale: str) -> Callable[[str], str]:
    texts = catalog(locale)

    def t(key: str) -> str:
        try:
            return texts[key]
        except KeyError:
            raise KeyError(f"{DIR / (locale + '.yaml')}: no text for {key!r}") from None

    return t
